"""The office's letterhead (kop surat): who issues SIGAP's documents, configured once in the
settings (`letterhead:` in the YAML) and drawn on every page, PDF and spreadsheet that carries
one: F-01, F-04, the monthly report, the emailed F-04.

Pure: the settings' section in, a frozen `Letterhead` out; the crest image is checked when the
settings are read (`webhook.settings`), so nothing that draws the letterhead meets a bad file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator


class LetterheadConfig(BaseModel):
    """The `letterhead:` section. The defaults are Tanah Bumbu's, where SIGAP began; another
    regency sets every line of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    government: str = "Pemerintah Kabupaten Tanah Bumbu"
    """The first line, printed in capitals: the regency's government."""
    office: str = "Dinas Komunikasi dan Informatika"
    """The issuing office, printed in capitals under the government."""
    unit: str = "Bidang Jaringan"
    """The unit that runs SIGAP (one smaller line); empty to leave it out."""
    short_name: str = "Diskominfo Tanah Bumbu"
    """How page titles and PDF metadata name the office."""
    address: str = ""
    """The office's postal address; empty: the contact line holds only what is set."""
    phone: str = ""
    email: str = ""
    website: str = ""
    crest: str | None = None
    """The regency's crest (lambang daerah), a PNG or JPEG file; None: no image."""

    @field_validator("government", "office", "short_name")
    @classmethod
    def _required_line(cls, value: str) -> str:
        line = value.strip()
        if not line or len(line) > 120 or not line.isprintable():
            raise ValueError(
                f"{value!r}: expected one line of at most 120 characters, e.g. "
                "Dinas Komunikasi dan Informatika"
            )
        return line

    @field_validator("unit", "address", "phone", "email", "website")
    @classmethod
    def _optional_line(cls, value: str) -> str:
        line = value.strip()
        if len(line) > 200 or not line.isprintable():
            raise ValueError(f"{value!r}: expected one line of at most 200 characters")
        return line


@dataclass(frozen=True, slots=True)
class Letterhead:
    government: str
    office: str
    unit: str
    short_name: str
    address: str
    phone: str
    email: str
    website: str
    crest: Path | None
    """A checked PNG or JPEG (`webhook.settings`), or None."""

    @classmethod
    def of(cls, config: LetterheadConfig) -> Letterhead:
        return cls(
            government=config.government,
            office=config.office,
            unit=config.unit,
            short_name=config.short_name,
            address=config.address,
            phone=config.phone,
            email=config.email,
            website=config.website,
            crest=Path(config.crest) if config.crest else None,
        )

    @property
    def title_lines(self) -> tuple[str, str]:
        """The two lines in capitals, as an Indonesian office's letterhead prints them."""
        return self.government.upper(), self.office.upper()

    @property
    def contact_line(self) -> str:
        """Address, phone, e-mail and website on one line (those that are set)."""
        parts = [self.address]
        if self.phone:
            parts.append(f"Telp. {self.phone}")
        if self.email:
            parts.append(f"Email: {self.email}")
        if self.website:
            parts.append(self.website)
        return " · ".join(p for p in parts if p)


DEFAULT_LETTERHEAD = Letterhead.of(LetterheadConfig())

"""F-01 and F-04 as the documents the SOP means: what an office prints, signs and files.

Pure: the incident, the saved form, its number, the inventory and the people in; a `Document`
out, every value already written as people write it (names, not ids; `30 November 2026, 17.02
WITA`). The page (`templates/form.html`), the PDF (`webhook.core.pdf.document_pdf`) and the
emailed attachment render this one object, so the three never differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from exporter.inventory import Inventory
from webhook.core import figures
from webhook.core.confirmation import answer_word
from webhook.core.forms import UNKNOWN_CAUSE
from webhook.core.i18n import word
from webhook.core.localtime import DEFAULT_ZONE, ROMAN, format_date, format_moment, parse_moment

KINDS = {"f01": ("F-01", "FORM ADUAN SKPD"), "f04": ("F-04", "FORM TINDAKAN")}
DEFAULT_PLACE = "Batulicin"
"""Where Diskominfo Tanah Bumbu signs its documents (the regency's capital), unless the settings
name another (`document_place`)."""


def document_number(kind: str, year: int, month: int, seq: int) -> str:
    """`F-04/042/XI/2026`: the form, its sequence in the (local) month, the month in Roman
    numerals, the year: how an Indonesian office numbers its letters."""
    return f"{KINDS[kind][0]}/{seq:03d}/{ROMAN[month - 1]}/{year}"


class Person(Protocol):
    """A user as a signature names them (`webhook.store.models.User`)."""

    @property
    def name(self) -> str: ...
    @property
    def full_name(self) -> str | None: ...
    @property
    def nip(self) -> str | None: ...


class IncidentOnForm(Protocol):
    """What a document reads of an incident (`webhook.store.models.Incident`)."""

    @property
    def id(self) -> int: ...
    @property
    def skpd(self) -> str: ...
    @property
    def responsibility(self) -> str | None: ...
    @property
    def nodes(self) -> list[Any]: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def recovered_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def alerts(self) -> Sequence[AlertSpan]: ...
    @property
    def events(self) -> Sequence[figures.EventRecord]: ...


class AlertSpan(Protocol):
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class DocumentPhoto:
    """A repair photo on the F-04 (`webhook.core.photos`): shown on the page by `id`, drawn in
    the PDF from `data`."""

    id: int
    content_type: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Signer:
    role: str
    """The line above the signature: `Admin SKPD`."""
    name: str | None
    """Under the signature; None: not known, a line is left to write the name on."""
    nip: str | None = None


@dataclass(frozen=True, slots=True)
class NodeLine:
    id: str
    name: str
    address: str
    location: str
    responsibility: str
    """Whose side the node is on (the inventory's owner), in words."""


@dataclass(frozen=True, slots=True)
class Document:
    kind: str
    code: str
    title: str
    number: str | None
    incident_id: int
    fields: tuple[tuple[str, str], ...]
    """(label, value) in the order printed."""
    nodes: tuple[NodeLine, ...]
    place_date: str
    """`Batulicin, 30 November 2026`: above the signatures."""
    signers: tuple[Signer, Signer]
    """Diskominfo's staff on the left, the SKPD's side on the right."""
    lang: str = "id"
    """The language of its words (the letterhead stays the regency's own)."""
    photos: tuple[DocumentPhoto, ...] = ()
    """F-04: the repair's photos, oldest first."""

    @property
    def heading(self) -> str:
        return f"{self.code} · {self.title}"

    @property
    def filename(self) -> str:
        return f"{self.code}-{self.incident_id}.pdf"


def signer(role: str, who: str | None, people: Mapping[str, Person]) -> Signer:
    """`who` (a user name, or a name typed on the form) as written under a signature: the
    user's full name and NIP when `who` is a user."""
    if who is None or not who.strip():
        return Signer(role, None)
    person = people.get(who)
    if person is None:
        return Signer(role, who.strip())
    return Signer(role, person.full_name or person.name, person.nip)


def skpd_admin(inventory: Inventory | None, skpd: str) -> str | None:
    """The SKPD's admin from the inventory's contacts (role `admin`, else the first)."""
    found = inventory.skpds.get(skpd) if inventory is not None else None
    if found is None or not found.contacts:
        return None
    admins = [c for c in found.contacts if c.role == "admin"] or list(found.contacts)
    return admins[0].name


def affected_nodes(
    incident: IncidentOnForm, inventory: Inventory | None, lang: str
) -> tuple[NodeLine, ...]:
    lines = []
    skpd = inventory.skpds.get(incident.skpd) if inventory is not None else None
    for node_id in incident.nodes:
        node = inventory.nodes.get(str(node_id)) if inventory is not None else None
        if node is None:
            lines.append(NodeLine(str(node_id), "-", "-", "-", "-"))
            continue
        lines.append(
            NodeLine(
                node.id,
                node.name or node.id,
                node.address,
                (skpd.location if skpd is not None else None) or "-",
                word(f"owner_{node.owner}", lang),
            )
        )
    return tuple(lines)


def outage_span(
    incident: IncidentOnForm, repair_ended_at: datetime | None
) -> tuple[datetime, datetime | None]:
    """When the outage began (its first alert, else the report) and ended (the alerts'
    recovery, else the repair's end on the F-04); None: not over."""
    starts = [a.starts_at for a in incident.alerts]
    start = min(starts) if starts else incident.opened_at
    return start, incident.recovered_at or repair_ended_at


def format_span(seconds: float, lang: str) -> str:
    """`2 jam 05 menit` / `2 h 05 min`: an outage's length as a document writes it."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    unit = ("d", "h", "min") if lang == "en" else ("hari", "jam", "menit")
    parts = [f"{days} {unit[0]}"] if days else []
    if days or hours:
        parts.append(f"{hours} {unit[1]}")
    parts.append(f"{minutes:02d} {unit[2]}" if parts else f"{minutes} {unit[2]}")
    return " ".join(parts)


def ping_result(incident: IncidentOnForm, inventory: Inventory | None, zone: str, lang: str) -> str:
    """The latest ping check on the timeline in words: when, and each node by its inventory
    name with its replies (`Gateway Dinkes: 0/3 balasan`); `-` when none was made."""
    checks = [e for e in incident.events if e.kind == "ping_check"]
    if not checks:
        return word("ping_not_checked", lang)
    check = checks[-1]
    results = check.data.get("results")
    parts = []
    if isinstance(results, dict):
        for node_id, result in results.items():
            node = inventory.nodes.get(str(node_id)) if inventory is not None else None
            name = (node.name or node.id) if node is not None else str(node_id)
            replies = f"{result.get('received', 0)}/{result.get('sent', 0)} {word('replies', lang)}"
            parts.append(f"{name}: {replies}")
    if check.data.get("error"):
        parts.append(str(check.data["error"]))
    return f"{format_moment(check.at, zone, lang)}: " + ("; ".join(parts) or "-")


def evidence(
    incident: IncidentOnForm,
    repair_ended_at: datetime | None,
    inventory: Inventory | None,
    zone: str,
    lang: str,
) -> list[tuple[str, str]]:
    """What makes an F-04 evidence: the outage's start, recovery and length, the ping check."""
    start, end = outage_span(incident, repair_ended_at)
    intervals = figures.outage_intervals(
        incident.opened_at,
        incident.closed_at,
        [(a.starts_at, a.ends_at) for a in incident.alerts],
        repair_ended_at,
    )
    length = "-"
    if end is not None:
        length = format_span(figures.outage_seconds(intervals, end, (start, end)), lang)
    return [
        (word("outage_started_at", lang), format_moment(start, zone, lang)),
        (
            word("outage_recovered_at", lang),
            format_moment(end, zone, lang) if end else word("not_recovered", lang),
        ),
        (word("outage_duration", lang), length),
        (word("ping_check_result", lang), ping_result(incident, inventory, zone, lang)),
    ]


def build_document(
    kind: str,
    incident: IncidentOnForm,
    data: Mapping[str, Any],
    *,
    number: str | None,
    saved_at: datetime,
    saved_by: str,
    inventory: Inventory | None,
    people: Mapping[str, Person],
    zone: str = DEFAULT_ZONE,
    lang: str = "id",
    place: str = DEFAULT_PLACE,
    photos: Sequence[DocumentPhoto] = (),
) -> Document:
    """F-01 (`kind` "f01") or F-04 ("f04") of `incident` (alerts and events loaded) from its
    saved `data`, signed at `place`; an F-04 with the outage's `evidence` and its `photos`."""
    code, title = KINDS[kind]

    def when(key: str) -> str:
        return format_moment(parse_moment(data.get(key)), zone, lang)

    def text(key: str) -> str:
        value = data.get(key)
        return "-" if value is None or str(value).strip() == "" else str(value)

    def label(key: str) -> str:
        return word(key, lang)

    skpd_id = incident.skpd
    skpd_name = inventory.skpd_name(skpd_id) if inventory is not None else skpd_id
    skpd = inventory.skpds.get(skpd_id) if inventory is not None else None
    responsibility = word(f"responsibility_{incident.responsibility or 'unknown'}", lang)
    opened = f"{label('opened_at').lower()} {format_moment(incident.opened_at, zone, lang)}"
    head: list[tuple[str, str]] = [
        ("SKPD", skpd_name),
        (label("location"), (skpd.location if skpd is not None else None) or "-"),
        (label("incident"), f"#{incident.id}, {opened}"),
    ]
    admin = skpd_admin(inventory, skpd_id)
    if kind == "f01":
        reporter = signer(label("reporter"), text("reporter"), people)
        fields = [
            *head,
            (label("reporter"), reporter.name or "-"),
            (label("contact_confirmed_with"), text("contact_confirmed_with")),
            (label("complaint"), text("complaint")),
            (label("affected_service"), text("affected_service")),
            (label("reported_at"), when("reported_at")),
            (label("responsibility"), responsibility),
        ]
        if data.get("skpd_answer"):  # confirmed in the chat (SOP 3, webhook.core.confirmation)
            said = answer_word(str(data["skpd_answer"]), lang)
            fields.append((label("skpd_answer"), f"{said}, {when('confirmed_at')}"))
        signers = (
            signer(label("signed_staff"), saved_by, people),
            Signer(label("signed_skpd_admin"), admin),
        )
    else:
        cause = str(data.get("cause") or UNKNOWN_CAUSE)
        acknowledged = data.get("acknowledged_by")
        acknowledged_at = parse_moment(data.get("acknowledged_at"))
        received = "-"
        if acknowledged:
            who = signer("", str(acknowledged), people).name
            received = f"{who}, {format_moment(acknowledged_at, zone, lang)}"
        fields = [
            *head,
            *evidence(incident, parse_moment(data.get("repair_ended_at")), inventory, zone, lang),
            (label("responsibility"), responsibility),
            (label("cause"), word(f"cause_{cause}", lang)),
            (label("findings"), text("findings")),
            (label("actions_taken"), text("actions_taken")),
            (label("parts_replaced"), text("parts_replaced")),
            (label("repair_started_at"), when("repair_started_at")),
            (label("repair_ended_at"), when("repair_ended_at")),
            (label("result"), text("result")),
            (label("staff"), signer("", data.get("staff") or saved_by, people).name or "-"),
            (word("acknowledged_by", lang), received),
        ]
        signers = (
            signer(label("signed_staff"), data.get("staff") or saved_by, people),
            signer(label("signed_skpd_admin"), acknowledged, people)
            if acknowledged
            else Signer(label("signed_skpd_admin"), admin),
        )
    return Document(
        kind=kind,
        code=code,
        title=title,
        number=number,
        incident_id=incident.id,
        fields=tuple(fields),
        nodes=affected_nodes(incident, inventory, lang),
        place_date=f"{place}, {format_date(saved_at, zone, lang)}",
        signers=signers,
        lang=lang,
        photos=tuple(photos) if kind == "f04" else (),
    )


def signature_lines(who: Signer) -> Sequence[str]:
    """What is printed under the signature space: the name (and NIP), or a line to write on."""
    if who.name is None:
        return ("(.................................)",)
    return (who.name, f"NIP. {format_nip(who.nip)}") if who.nip else (who.name,)


def checked_nip(text: str) -> str:
    """A civil servant's NIP as typed (`19870512 201001 1 003`), kept as its 18 digits;
    ValueError naming what is expected otherwise."""
    digits = "".join(text.split())
    if not digits.isascii() or not digits.isdigit() or len(digits) != 18:
        raise ValueError(f"NIP {text!r}: expected 18 digits, e.g. 19870512 201001 1 003")
    return digits


def format_nip(nip: str) -> str:
    """`19870512 201001 1 003`: birth date, appointment month, sex, number, as printed."""
    if len(nip) != 18 or not nip.isdigit():
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"

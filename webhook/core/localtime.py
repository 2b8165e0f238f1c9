"""Times as the regency's people read and type them: `30 November 2026, 17.02 WITA`.

Pure. The store keeps UTC; everything a person reads (the UI, the forms, the PDFs, the messages,
the monthly report) goes through `format_moment` in the regency's zone (`settings.timezone`,
SIGAP_TIMEZONE, default Asia/Makassar = WITA). What a person types in the UI's datetime-local
fields is wall time in that zone (`attach_zone`); the JSON API takes ISO 8601 with an offset,
and a time without one there is UTC (`webhook.core.forms`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from webhook.core.i18n import MONTH_NAMES

DEFAULT_ZONE = "Asia/Makassar"
"""WITA, UTC+8: Kabupaten Tanah Bumbu (the default of SIGAP_TIMEZONE)."""

ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA"}
ZONE_NAMES |= {"Asia/Jayapura": "WIT", "Asia/Ujung_Pandang": "WITA", "UTC": "UTC"}
"""Indonesia's three zones by the names people use; any other zone reads as its UTC offset."""

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@cache
def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime, zone: str = DEFAULT_ZONE) -> datetime:
    """`moment` on the regency's clock (a naive one is taken as UTC, as the store keeps it)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone_of(zone))


def zone_abbreviation(zone: str, moment: datetime) -> str:
    """WIB, WITA, WIT; else the offset at `moment`, e.g. `UTC+05:30`."""
    if zone in ZONE_NAMES:
        return ZONE_NAMES[zone]
    offset = local(moment, zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def format_moment(
    moment: datetime | None, zone: str = DEFAULT_ZONE, lang: str = "id", *, short: bool = False
) -> str:
    """`30 November 2026, 17.02 WITA` (Indonesian: a dot between hours and minutes);
    `30 November 2026, 17:02 WITA` in English; `short`: `30/11/2026 17.02` for tables.
    None reads as `-`."""
    if moment is None:
        return "-"
    at = local(moment, zone)
    sep = "." if lang == "id" else ":"
    clock = f"{at.hour:02d}{sep}{at.minute:02d}"
    if short:
        return f"{at.day:02d}/{at.month:02d}/{at.year} {clock}"
    month = MONTH_NAMES.get(lang, MONTH_NAMES["id"])[at.month - 1]
    return f"{at.day} {month} {at.year}, {clock} {zone_abbreviation(zone, moment)}"


def format_date(moment: datetime, zone: str = DEFAULT_ZONE, lang: str = "id") -> str:
    """`30 November 2026`: the date a document is signed on."""
    at = local(moment, zone)
    return f"{at.day} {MONTH_NAMES.get(lang, MONTH_NAMES['id'])[at.month - 1]} {at.year}"


def parse_moment(value: Any) -> datetime | None:
    """A stored ISO 8601 time (a form's) as an aware datetime; a naive one is UTC; else None."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def input_value(moment: datetime, zone: str = DEFAULT_ZONE) -> str:
    """The value of a datetime-local field: wall time in the regency's zone."""
    return local(moment, zone).strftime("%Y-%m-%dT%H:%M")


def attach_zone(
    data: Mapping[str, Any], fields: Iterable[str], zone: str = DEFAULT_ZONE
) -> dict[str, Any]:
    """The UI's datetime-local values (wall time, no offset) as ISO 8601 with the regency's
    offset, so that the core, which reads a time without offset as UTC, gets the moment the
    person meant. Values with an offset, blank or unparseable ones pass unchanged (the form's
    schema says what is wrong with them)."""
    out = dict(data)
    for key in fields:
        value = out.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        if moment.tzinfo is None:
            out[key] = moment.replace(tzinfo=zone_of(zone)).isoformat()
    return out

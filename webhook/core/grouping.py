"""The pure core of grouping: which incident an alert belongs to, and when an incident recovers.

No database, no aiohttp: `webhook.intake.batch` loads what these functions need, asks them, and
writes the answer. The rules (issue 3):

- an incident gathers the alerts of one outage of one SKPD (Alertmanager groups by ``skpd``);
- a firing alert joins the SKPD's open incident; if the SKPD has none but its last incident
  closed less than ``reopen`` ago, that incident is reopened; otherwise a new one opens;
- when every alert of an incident is resolved it records ``recovered_at`` and stays open for the
  SOP, unless nobody confirmed it and it lasted at most ``transient``: then it closes by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from exporter.inventory import CORE
from webhook.core.workflow import Responsibility, State


@dataclass(frozen=True, slots=True)
class Windows:
    transient: timedelta
    """An unconfirmed outage that recovers within this closes itself as transient."""
    reopen: timedelta
    """The same SKPD firing again within this after a close reopens the same incident."""


class Placement(Enum):
    ATTACH = "attach"  # the alert joins the SKPD's open incident
    REOPEN = "reopen"  # the SKPD's last incident closed recently: reopen it
    NEW = "new"  # open a new incident


def skpd_of(labels: Mapping[str, str]) -> str:
    """The SKPD an alert is about; alerts without one (exporter down, core) belong to `CORE`."""
    return labels.get("skpd") or CORE


_RESPONSIBILITIES = frozenset(r.value for r in Responsibility)


def responsibility_of(labels: Mapping[str, str]) -> str | None:
    """The `responsibility` label when it is one SIGAP knows, else None (staff decide)."""
    value = labels.get("responsibility", "")
    return value if value in _RESPONSIBILITIES else None


def merge_responsibility(current: str | None, new: str | None, state: State) -> str | None:
    """An alert's responsibility fills a gap, and an outside fault (Diskominfo's) wins over an
    inside one while nobody has confirmed; after confirmation staff decide (workflow)."""
    if new is None:
        return current
    if current is None:
        return new
    if state in (State.OPENED, State.PING_CHECKED) and new == Responsibility.DISKOMINFO.value:
        return new
    return current


def place_firing(
    has_open: bool, last_closed_at: datetime | None, now: datetime, windows: Windows
) -> Placement:
    """Where a new firing alert of an SKPD goes."""
    if has_open:
        return Placement.ATTACH
    if last_closed_at is not None and now - last_closed_at <= windows.reopen:
        return Placement.REOPEN
    return Placement.NEW


def closes_as_transient(
    state: State, started_at: datetime, recovered_at: datetime, windows: Windows
) -> bool:
    """An outage nobody confirmed that lasted at most `windows.transient` closes by itself."""
    unconfirmed = state in (State.OPENED, State.PING_CHECKED)
    return unconfirmed and recovered_at - started_at <= windows.transient

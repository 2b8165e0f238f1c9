"""How an incident is born (SOP step 1), whatever opens it: an alert, a person's report, a chat.

`open_incident` declares everything a new incident starts with, as a move declares what it
changes: its first columns, its first timeline entry, the notices it owes (the page to the
staff on duty) and the figure it counts. Each path writes the `Opening` it is given and decides
nothing of its own. `receive_report` is step 1's second path: a report opens the SKPD's
incident, or adds to its open one (one outage, one incident, as with alerts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from webhook.core.figures import Opened, responsibility_label
from webhook.core.forms import ReportForm
from webhook.core.messages import OPENED
from webhook.core.workflow import IncidentFacts, Role, State, TimelineEntry

Source = Literal["alert", "report"]
TITLE_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Opening:
    """A new incident: the columns it is inserted with, its first line on the timeline, the
    notices it owes and the figure it counts once it commits."""

    columns: dict[str, Any]
    event: TimelineEntry
    owed: tuple[str, ...]
    fact: Opened


def open_incident(
    skpd: str,
    source: Source,
    actor: str,
    role: Role,
    now: datetime,
    *,
    title: str,
    description: str | None,
    responsibility: str | None,
    planned: bool,
    nodes: Sequence[str] = (),
    record: Mapping[str, Any] | None = None,
) -> Opening:
    """The incident of `skpd` opened at `now` by `actor`; `record` goes on its first timeline
    entry (what opened it)."""
    columns = {
        "skpd": skpd,
        "state": State.OPENED.value,
        "responsibility": responsibility,
        "source": source,
        "open_key": skpd,
        "title": title[:TITLE_LENGTH],
        "description": description,
        "nodes": list(dict.fromkeys(nodes)),
        "opened_at": now,
        "opened_by": actor,
        "stage_entered_at": now,
        "updated_at": now,
        "truncated_alerts": 0,
        "planned": planned,
    }
    event = TimelineEntry("opened", actor, role.value, "", State.OPENED.value, dict(record or {}))
    fact = Opened(skpd, responsibility_label(responsibility), source)
    return Opening(columns, event, (OPENED,), fact)


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """What a person's outage report does: opens the SKPD's incident (`opening`), or adds to
    its open one (`nodes`, `event`)."""

    opening: Opening | None
    nodes: list[str]
    """The incident's nodes with the report's."""
    event: TimelineEntry


def receive_report(
    open_incident_now: IncidentFacts | None,
    nodes: Sequence[str],
    form: ReportForm,
    actor: str,
    role: Role,
    now: datetime,
    planned: bool,
) -> ReportReceived:
    """SOP step 1, second path: `form` from `actor`; `open_incident_now` is the SKPD's open
    incident (None: there is none) and `nodes` its nodes so far; `planned`: the report falls in
    a maintenance window of its nodes."""
    record: dict[str, Any] = {
        "reporter": form.reporter or actor,
        "description": form.description,
        "nodes": list(form.nodes),
    }
    if open_incident_now is None:
        opening = open_incident(
            form.skpd, "report", actor, role, now,
            title=form.description.splitlines()[0], description=form.description,
            responsibility=None, planned=planned, nodes=form.nodes, record=record,
        )  # fmt: skip
        return ReportReceived(opening, opening.columns["nodes"], opening.event)
    state = open_incident_now.state
    event = TimelineEntry("report", actor, role.value, state, state, record)
    return ReportReceived(None, list(dict.fromkeys([*nodes, *form.nodes])), event)

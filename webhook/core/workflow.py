"""The SOP as a state machine: states, who may move an incident, what each move requires and
what it does.

Pure: no I/O. `TRANSITIONS` is the single source for the UI's buttons, the JSON API, the signed
links and the docs; `EFFECTS` beside it says what each move sets. `apply_move()` is the one way
an incident changes — from an alert batch, the UI, the API, a link, the ping check or
escalation: it checks the move (`TransitionRefused`, answered 409, with a reason a person can
act on; `FormInvalid`, answered 422) and returns the changes, the timeline entry, the form and
the notices owed, which the store writes in the move's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from webhook.core.forms import FORM_OF_MOVE, F04Form, FormInvalid, blank, parse_form
from webhook.core.refusals import Conflict


class State(StrEnum):
    OPENED = "opened"  # SOP 1: an alert or a report opened it
    PING_CHECKED = "ping_checked"  # SOP 2: the ping check ran
    CONFIRMED = "confirmed"  # SOP 3: confirmed with the SKPD, F-01 filled
    REPORTED = "reported"  # SOP 4: responsibility set, coordinator and SKPD admin told
    DISPATCHED = "dispatched"  # SOP 5: the coordinator sent a named staff member
    ESTIMATED = "estimated"  # SOP 6-7: findings and estimated time of recovery, coordinator told
    FORWARDED = "forwarded"  # SOP 8: the coordinator told the SKPD admin
    REPAIR_ORDERED = "repair_ordered"  # SOP 9: the coordinator ordered the repair
    REPAIRED = "repaired"  # SOP 9: F-04 filled and sent to the SKPD admin
    CLOSED = "closed"  # F-04 acknowledged
    TRANSIENT = "transient"  # recovered before anyone confirmed it; closed by itself
    CANCELLED = "cancelled"  # a false alarm or a duplicate, with a reason


FINAL_STATES = frozenset({State.CLOSED, State.TRANSIENT, State.CANCELLED})
OPEN_STATES = frozenset(State) - FINAL_STATES


class Role(StrEnum):
    SYSTEM = "system"  # SIGAP itself: alerts, ping checks, timers
    STAFF = "staff"  # staf admin jaringan Kominfo
    COORDINATOR = "coordinator"  # koordinator jaringan
    SKPD_ADMIN = "skpd_admin"  # admin / penanggung jawab SKPD
    VIEWER = "viewer"  # read-only (the NOC wall)


class Responsibility(StrEnum):
    DISKOMINFO = "diskominfo"  # fault outside the SKPD: fully Diskominfo's
    SKPD = "skpd"  # the SKPD's internal network or devices; Kominfo helps


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State | None
    """None: the incident stays in its state (the move is recorded on the timeline)."""
    roles: frozenset[Role]
    requires: tuple[str, ...]
    sop_step: int
    label_id: str
    label_en: str
    notifies: bool = False
    """The move owes the people the SOP names a message (`webhook.core.messages` says whom)."""

    def target_from(self, state: State) -> State:
        return self.target if self.target is not None else state


def _t(
    action: str,
    sources: frozenset[State] | set[State],
    target: State | None,
    roles: set[Role],
    requires: tuple[str, ...],
    sop_step: int,
    label_id: str,
    label_en: str,
    *,
    notifies: bool = False,
) -> Transition:
    return Transition(
        action,
        frozenset(sources),
        target,
        frozenset(roles),
        requires,
        sop_step,
        label_id,
        label_en,
        notifies,
    )


S = State
R = Role
_BEFORE_DISPATCH = {S.OPENED, S.PING_CHECKED, S.CONFIRMED, S.REPORTED}

F01_FIELDS = ("reporter", "contact_confirmed_with", "complaint", "affected_service", "reported_at")
F04_FIELDS = ("findings", "actions_taken", "repair_started_at", "repair_ended_at", "result")

TRANSITIONS: tuple[Transition, ...] = (
    _t(
        "ping_check",
        {S.OPENED},
        S.PING_CHECKED,
        {R.SYSTEM, R.STAFF, R.COORDINATOR},
        (),
        2,
        "Cek ping",
        "Ping check",
    ),
    _t(
        "ping_check",
        OPEN_STATES - {S.OPENED},
        None,
        {R.SYSTEM, R.STAFF, R.COORDINATOR},
        (),
        2,
        "Cek ping ulang",
        "Re-run ping check",
    ),
    _t(
        "acknowledge",
        _BEFORE_DISPATCH,
        None,
        {R.STAFF, R.COORDINATOR},
        (),
        1,
        "Tangani",
        "Acknowledge",
    ),
    _t(
        "confirm",
        {S.OPENED, S.PING_CHECKED},
        S.CONFIRMED,
        {R.STAFF, R.COORDINATOR},
        F01_FIELDS,
        3,
        "Konfirmasi (F-01)",
        "Confirm (F-01)",
    ),
    _t(
        "answer",
        OPEN_STATES,
        None,
        {R.SKPD_ADMIN},
        ("answer",),
        3,
        "Jawab konfirmasi",
        "Answer the confirmation",
        notifies=True,
    ),
    _t(
        "report",
        {S.CONFIRMED},
        S.REPORTED,
        {R.STAFF, R.COORDINATOR},
        ("responsibility",),
        4,
        "Tetapkan tanggung jawab & laporkan",
        "Set responsibility & report",
        notifies=True,
    ),
    _t(
        "set_responsibility",
        OPEN_STATES - {S.OPENED, S.PING_CHECKED, S.CONFIRMED},
        None,
        {R.STAFF, R.COORDINATOR},
        ("responsibility",),
        4,
        "Ubah tanggung jawab",
        "Change responsibility",
    ),
    _t(
        "dispatch",
        {S.REPORTED, S.DISPATCHED},
        S.DISPATCHED,
        {R.COORDINATOR},
        ("assignee",),
        5,
        "Tugaskan staf",
        "Dispatch staff",
        notifies=True,
    ),
    _t(
        "estimate",
        {S.DISPATCHED, S.ESTIMATED, S.FORWARDED, S.REPAIR_ORDERED},
        S.ESTIMATED,
        {R.STAFF, R.COORDINATOR},
        ("findings", "estimated_recovery_at"),
        6,
        "Catat temuan & estimasi",
        "Record findings & estimate",
        notifies=True,
    ),
    _t(
        "forward",
        {S.ESTIMATED},
        S.FORWARDED,
        {R.COORDINATOR},
        (),
        8,
        "Teruskan estimasi ke SKPD",
        "Forward estimate to SKPD",
        notifies=True,
    ),
    _t(
        "order_repair",
        {S.FORWARDED},
        S.REPAIR_ORDERED,
        {R.COORDINATOR},
        (),
        9,
        "Perintahkan perbaikan",
        "Order repair",
        notifies=True,
    ),
    _t(
        "repair",
        {S.REPAIR_ORDERED},
        S.REPAIRED,
        {R.STAFF, R.COORDINATOR},
        F04_FIELDS,
        9,
        "Isi tindakan (F-04)",
        "Fill action report (F-04)",
        notifies=True,
    ),
    _t(
        "close",
        {S.REPAIRED},
        S.CLOSED,
        {R.SKPD_ADMIN, R.COORDINATOR},
        (),
        9,
        "Terima F-04 & tutup",
        "Acknowledge F-04 & close",
    ),
    _t(
        "cancel",
        OPEN_STATES,
        S.CANCELLED,
        {R.STAFF, R.COORDINATOR},
        ("reason",),
        0,
        "Batalkan",
        "Cancel",
    ),
    _t(
        "close_transient",
        {S.OPENED, S.PING_CHECKED},
        S.TRANSIENT,
        {R.SYSTEM},
        (),
        0,
        "Tutup (gangguan sesaat)",
        "Close as transient",
    ),
    _t(
        "escalate",
        OPEN_STATES,
        None,
        {R.SYSTEM},
        ("target_seconds",),
        0,
        "Eskalasi: tahap terlambat",
        "Escalate: stage overdue",
        notifies=True,
    ),
    _t(
        "page",
        {S.OPENED, S.PING_CHECKED},
        None,
        {R.SYSTEM},
        ("step", "to"),
        1,
        "Belum ditangani: panggil berikutnya",
        "Unacknowledged: page the next",
        notifies=True,
    ),
    _t(
        "reopen",
        FINAL_STATES,
        S.OPENED,
        {R.SYSTEM, R.COORDINATOR},
        ("reason",),
        1,
        "Buka kembali",
        "Reopen",
    ),
)

ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


class TransitionRefused(Conflict):
    """A move that is not allowed now; `reason` says why, in words for the person who tried."""


class AlreadyAnswered(TransitionRefused):
    """The SKPD answered the confirmation before (once per incident): `by` said `answer`."""

    def __init__(self, by: str, answer: str) -> None:
        self.by, self.answer = by, answer
        super().__init__(f"{by} already answered the confirmation: {answer}")


def find(state: State, action: str) -> Transition | None:
    for t in TRANSITIONS:
        if t.action == action and state in t.sources:
            return t
    return None


def transition(state: State, action: str, role: Role, data: Mapping[str, Any]) -> Transition:
    """Check that `role` may do `action` on an incident in `state` with `data`."""
    if action not in ACTIONS:
        raise TransitionRefused(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    row = find(state, action)
    if row is None:
        allowed = sorted({s.value for t in TRANSITIONS if t.action == action for s in t.sources})
        raise TransitionRefused(
            f"cannot {action} an incident that is {state.value}; "
            f"{action} is possible only when it is {', '.join(allowed)}"
        )
    if role not in row.roles:
        allowed_roles = ", ".join(sorted(r.value for r in row.roles))
        raise TransitionRefused(f"a {role.value} cannot {action}; it is for {allowed_roles}")
    missing = [k for k in row.requires if blank(data.get(k))]
    if missing:
        raise TransitionRefused(f"{action} needs {', '.join(missing)}")
    if "responsibility" in row.requires:
        try:
            Responsibility(data["responsibility"])
        except ValueError:
            raise TransitionRefused(
                f"responsibility {data['responsibility']!r} is not one of diskominfo, skpd"
            ) from None
    return row


def available(state: State, role: Role) -> list[Transition]:
    """The moves `role` may make now, in the table's order (the UI's buttons)."""
    return [t for t in TRANSITIONS if state in t.sources and role in t.roles]


# --- the effects of a move ------------------------------------------------------------------------


class IncidentFacts(Protocol):
    """What a move reads of an incident: the stored row (`webhook.store.models.Incident`) or the
    alert batch's working copy (`webhook.intake.batch`)."""

    @property
    def state(self) -> str: ...
    @property
    def skpd(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Move:
    """One move as a person (or SIGAP) asks for it, with what the store knows that it needs."""

    action: str
    actor: str
    role: Role
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    staff: frozenset[str] = frozenset()
    """The active network staff (staff and coordinators): who may be dispatched."""
    skpd_has_open_incident: bool = False
    """Another incident of the SKPD is open: this one cannot reopen."""
    answered: tuple[str, str] | None = None
    """Who answered the SKPD's confirmation and what (the answer move is made once)."""


@dataclass(frozen=True, slots=True)
class FormWrite:
    """A form the move saves: F-01 or F-04, whole (`merge=False`) or added to (`merge=True`)."""

    kind: str
    data: dict[str, Any]
    merge: bool = False


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: str
    actor: str
    role: str
    from_state: str
    to_state: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Applied:
    """What one move does: the incident's changed columns, its line on the timeline, the form it
    saves and the notices it owes (the outbox turns them into messages)."""

    row: Transition
    changes: dict[str, Any]
    event: TimelineEntry
    form: FormWrite | None
    owed: tuple[str, ...]

    @property
    def source(self) -> State:
        return State(self.event.from_state)

    @property
    def target(self) -> State:
        return State(self.event.to_state)


def _dispatch(incident: IncidentFacts, move: Move, form: Any) -> dict[str, Any]:
    if form.assignee not in move.staff:
        raise TransitionRefused(f"{form.assignee!r} is not a member of the network staff")
    return {"assignee": form.assignee, "holder": form.assignee}


def _reopen(incident: IncidentFacts, move: Move, form: Any) -> dict[str, Any]:
    if move.skpd_has_open_incident:
        raise TransitionRefused(f"SKPD {incident.skpd} already has an open incident")
    return {"open_key": incident.skpd, "closed_at": None}


def _answer(incident: IncidentFacts, move: Move, form: Any) -> dict[str, Any]:
    if move.answered is not None:
        raise AlreadyAnswered(*move.answered)
    return {"skpd_answer": form.answer, "skpd_answer_by": move.actor, "skpd_answer_at": move.at}


Effect = Callable[[IncidentFacts, Move, Any], dict[str, Any]]
EFFECTS: dict[str, Effect] = {
    "acknowledge": lambda incident, move, form: {"holder": move.actor},
    "report": lambda incident, move, form: {"responsibility": form.responsibility},
    "set_responsibility": lambda incident, move, form: {"responsibility": form.responsibility},
    "dispatch": _dispatch,
    "estimate": lambda incident, move, form: {"estimated_recovery_at": form.estimated_recovery_at},
    "reopen": _reopen,
    "answer": _answer,
}
"""The incident's columns each move sets, beside the state and the times every move keeps."""


def _form_of(action: str, incident: IncidentFacts, move: Move, record: dict[str, Any]) -> Any:
    if action == "confirm":
        return FormWrite("f01", record)
    if action == "repair":
        return FormWrite("f04", record)
    if action == "close":  # the SKPD admin's receipt is part of F-04 (SOP 9: handed to the SKPD)
        return FormWrite(
            "f04", {"acknowledged_by": move.actor, "acknowledged_at": move.at.isoformat()}, True
        )
    return None


def apply_move(incident: IncidentFacts, move: Move) -> Applied:
    """The one way an incident changes: check `move` against the table and its form's schema
    (TransitionRefused, FormInvalid), and return everything it does, for the store to write in
    one transaction."""
    source = State(incident.state)
    row = transition(source, move.action, move.role, move.data)
    form = parse_form(FORM_OF_MOVE[move.action], move.data, move.action)
    if isinstance(form, F04Form) and form.repair_ended_at < form.repair_started_at:
        raise FormInvalid("repair: repair_ended_at is before repair_started_at")
    target = row.target_from(source)
    changes: dict[str, Any] = {"updated_at": move.at}
    effect = EFFECTS.get(move.action)
    if effect is not None:
        changes.update(effect(incident, move, form))
    if target != source:
        changes.update(state=target.value, stage_entered_at=move.at)
    if target in FINAL_STATES and source not in FINAL_STATES:
        changes.update(open_key=None, closed_at=move.at)
    record = form.record()
    event = TimelineEntry(
        move.action, move.actor, move.role.value, source.value, target.value, record
    )
    owed = (move.action,) if row.notifies else ()
    return Applied(row, changes, event, _form_of(move.action, incident, move, record), owed)

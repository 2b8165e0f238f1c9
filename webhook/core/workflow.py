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

from webhook.core.forms import (
    FORM_OF_MOVE,
    EstimateForm,
    F04Form,
    FormInvalid,
    blank,
    parse_form,
)
from webhook.core.i18n import FIELDS, LANGUAGES, word
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
    """A move that is not allowed now; `reason` says why, in words for the person who tried;
    `at` names the input at fault (a form shows the refusal beside it) without prefixing
    `reason` with it."""

    def __init__(
        self,
        message: str,
        at: str | None = None,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, key=key, params=params)
        self.field = at


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


def _label(row: Transition) -> dict[str, str]:
    return {"id": row.label_id, "en": row.label_en}


def _words(prefix: str, values: list[str] | set[str]) -> dict[str, str]:
    """`values` of an enum as people read them, joined, in each language."""
    return {
        lang: ", ".join(word(f"{prefix}{v}", lang) for v in sorted(values)) for lang in LANGUAGES
    }


def transition(state: State, action: str, role: Role, data: Mapping[str, Any]) -> Transition:
    """Check that `role` may do `action` on an incident in `state` with `data`."""
    if action not in ACTIONS:
        raise TransitionRefused(
            f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
            key="unknown_action",
        )
    row = find(state, action)
    if row is None:
        rows = [t for t in TRANSITIONS if t.action == action]
        allowed = sorted({s.value for t in rows for s in t.sources})
        raise TransitionRefused(
            f"cannot {action} an incident that is {state.value}; "
            f"{action} is possible only when it is {', '.join(allowed)}",
            key="wrong_state",
            params={"move": _label(rows[0]), "state": _words("state_", {state.value})},
        )
    if role not in row.roles:
        allowed_roles = ", ".join(sorted(r.value for r in row.roles))
        raise TransitionRefused(
            f"a {role.value} cannot {action}; it is for {allowed_roles}",
            key="wrong_role",
            params={
                "move": _label(row),
                "role": _words("role_", {role.value}),
                "roles": _words("role_", {r.value for r in row.roles}),
            },
        )
    missing = [k for k in row.requires if blank(data.get(k))]
    if missing:
        raise TransitionRefused(
            f"{action} needs {', '.join(missing)}",
            missing[0],
            key="missing",
            params={"move": _label(row), "fields": _words("", set(missing))},
        )
    if "responsibility" in row.requires:
        try:
            Responsibility(data["responsibility"])
        except ValueError:
            raise TransitionRefused(
                f"responsibility {data['responsibility']!r} is not one of diskominfo, skpd",
                "responsibility",
                key="choose_one",
            ) from None
    return row


def available(state: State, role: Role) -> list[Transition]:
    """The moves `role` may make now, in the table's order (the UI's buttons)."""
    return [t for t in TRANSITIONS if state in t.sources and role in t.roles]


ASIDE = frozenset({"ping_check", "set_responsibility", "cancel", "reopen"})
"""Moves that never are the next step of the SOP: offered folded away on the incident page."""


def owner(row: Transition) -> Role:
    """Whose turn a move is when several roles may make it: staff before the SKPD admin before
    the coordinator (the coordinator may step in, but waits on them)."""
    return next(r for r in (Role.STAFF, Role.SKPD_ADMIN, Role.COORDINATOR, Role.SYSTEM)
                if r in row.roles)  # fmt: skip


def waiting_on(state: State) -> Transition | None:
    """The SOP's next move from `state` (the one that moves it on, by a person): what everyone
    waits for, and from whom (`owner`)."""
    for t in TRANSITIONS:
        order = list(State)
        advances = t.target is not None and order.index(t.target) > order.index(state)
        if state in t.sources and advances and t.action not in ASIDE and owner(t) != Role.SYSTEM:
            return t
    return None


def next_step(state: State, role: Role, holder: str | None, person: str) -> Transition | None:
    """The one move the incident waits for from `person` now (the page leads with it), or None
    when it waits on someone else. Taking the incident ("Tangani") comes first while nobody
    holds it; a coordinator's turn is a move that is nobody else's, or one of the incident
    they hold."""
    moves = available(state, role)
    if holder is None and any(t.action == "acknowledge" for t in moves):
        return next(t for t in moves if t.action == "acknowledge")
    step = waiting_on(state)
    if step is None or role not in step.roles:
        return None
    return step if owner(step) == role or holder == person else None


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
    alarm_firing: bool = False
    """An alert of the incident still fires: a close says so on the timeline (the UI asks for a
    confirmation first, `webhook.usecases.incidents.despite_alarm`)."""
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
        raise TransitionRefused(
            f"{form.assignee!r} is not a member of the network staff",
            "assignee",
            key="not_staff",
            params={"name": form.assignee},
        )
    return {"assignee": form.assignee, "holder": form.assignee}


def _reopen(incident: IncidentFacts, move: Move, form: Any) -> dict[str, Any]:
    if move.skpd_has_open_incident:
        raise TransitionRefused(
            f"SKPD {incident.skpd} already has an open incident",
            key="skpd_open",
            params={"skpd": incident.skpd},
        )
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


def repeats(applied: Applied, current: Mapping[str, Any], last: TimelineEntry | None) -> bool:
    """The move asks for what is already so: no change of stage, every column it sets already
    has that value, and the timeline's last line is the same move by the same person with the
    same data (an old button pressed again). The store then writes nothing."""
    if applied.target != applied.source or applied.row.action == "ping_check" or last is None:
        return False
    same = all(current.get(k) == v for k, v in applied.changes.items() if k != "updated_at")
    entry = applied.event
    return same and (last.kind, last.actor, last.data) == (entry.kind, entry.actor, entry.data)


def apply_move(incident: IncidentFacts, move: Move) -> Applied:
    """The one way an incident changes: check `move` against the table and its form's schema
    (TransitionRefused, FormInvalid), and return everything it does, for the store to write in
    one transaction."""
    source = State(incident.state)
    row = transition(source, move.action, move.role, move.data)
    form = parse_form(FORM_OF_MOVE[move.action], move.data, move.action)
    if isinstance(form, F04Form) and form.repair_ended_at < form.repair_started_at:
        raise FormInvalid(
            "repair: repair_ended_at is before repair_started_at",
            "repair_ended_at",
            key="end_before_start",
            params={"start": FIELDS["repair_started_at"]},
        )
    if isinstance(form, EstimateForm) and form.estimated_recovery_at <= move.at:
        raise FormInvalid(
            "estimate: estimated_recovery_at must lie ahead",
            "estimated_recovery_at",
            key="not_ahead",
        )
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
    if move.action == "close" and move.alarm_firing:
        record["alarm_firing"] = True
    event = TimelineEntry(
        move.action, move.actor, move.role.value, source.value, target.value, record
    )
    owed = (move.action,) if row.notifies else ()
    return Applied(row, changes, event, _form_of(move.action, incident, move, record), owed)

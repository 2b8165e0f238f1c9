"""The one pure function every incident change goes through (`apply_move`): what each move sets,
what it saves, what it owes, and that a form carries only its own fields. No database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from webhook.core.forms import FORM_OF_MOVE, FormInvalid
from webhook.core.workflow import (
    ACTIONS,
    TRANSITIONS,
    AlreadyAnswered,
    Move,
    Role,
    State,
    TransitionRefused,
    apply_move,
    find,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
F01 = {
    "reporter": "sari",
    "contact_confirmed_with": "budi (admin dinkes)",
    "complaint": "internet mati",
    "affected_service": "internet",
    "reported_at": "2026-11-30T08:55",
}
F04 = {
    "findings": "kabel putus",
    "actions_taken": "sambung ulang",
    "repair_started_at": "2026-11-30T10:00+08:00",
    "repair_ended_at": "2026-11-30T11:00+08:00",
    "result": "pulih",
}
GOOD_DATA: dict[str, dict[str, Any]] = {
    "confirm": F01,
    "report": {"responsibility": "skpd"},
    "set_responsibility": {"responsibility": "diskominfo"},
    "dispatch": {"assignee": "andi"},
    "estimate": {"findings": "ONT rusak", "estimated_recovery_at": "2026-11-30T12:00:00Z"},
    "repair": F04,
    "cancel": {"reason": "alarm palsu"},
    "reopen": {"reason": "masih mati"},
    "escalate": {"target_seconds": 900},
    "page": {"step": 2, "to": "next_on_duty", "people": ["andi"], "after_seconds": 600},
    "answer": {"answer": "down"},
}


@dataclass
class Facts:
    state: str
    skpd: str = "dinkes"


def move(action: str, state: State, role: Role | None = None, **extra: Any) -> Any:
    row = find(state, action)
    assert row is not None
    chosen = role or sorted(row.roles)[0]
    data = {**GOOD_DATA.get(action, {}), **extra}
    return apply_move(
        Facts(state.value), Move(action, "sari", chosen, NOW, data, frozenset({"andi"}))
    )


def test_dispatch_names_the_assignee_and_holder_and_refuses_strangers() -> None:
    applied = move("dispatch", State.REPORTED)
    assert applied.changes["assignee"] == applied.changes["holder"] == "andi"
    assert applied.changes["state"] == "dispatched" and applied.changes["stage_entered_at"] == NOW
    with pytest.raises(TransitionRefused, match="'mallory' is not a member of the network staff"):
        move("dispatch", State.REPORTED, assignee="mallory")


def test_each_move_sets_what_the_sop_says() -> None:
    assert move("acknowledge", State.OPENED).changes == {"holder": "sari", "updated_at": NOW}
    assert move("report", State.CONFIRMED).changes["responsibility"] == "skpd"
    assert move("set_responsibility", State.DISPATCHED).changes == {
        "responsibility": "diskominfo",
        "updated_at": NOW,
    }
    estimate = move("estimate", State.DISPATCHED).changes["estimated_recovery_at"]
    assert estimate == datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize("action", ["cancel", "close_transient", "close"])
def test_a_final_move_frees_the_skpd_and_stamps_the_close(action: str) -> None:
    state = {"cancel": State.CONFIRMED, "close_transient": State.OPENED, "close": State.REPAIRED}
    changes = move(action, state[action]).changes
    assert changes["open_key"] is None and changes["closed_at"] == NOW


def test_reopen_takes_the_skpd_back_unless_another_incident_holds_it() -> None:
    applied = move("reopen", State.CLOSED, Role.COORDINATOR)
    assert applied.changes["open_key"] == "dinkes" and applied.changes["closed_at"] is None
    assert applied.changes["state"] == "opened"
    busy = Move(
        "reopen", "koord", Role.COORDINATOR, NOW, {"reason": "x"}, skpd_has_open_incident=True
    )
    with pytest.raises(TransitionRefused, match="dinkes already has an open incident"):
        apply_move(Facts("closed"), busy)


def test_f01_and_f04_are_saved_with_their_own_fields_only() -> None:
    f01 = move("confirm", State.PING_CHECKED).form
    assert f01 is not None and f01.kind == "f01" and not f01.merge
    assert set(f01.data) == set(F01)
    assert f01.data["reported_at"] == "2026-11-30T08:55:00Z"  # a time without zone is UTC
    f04 = move("repair", State.REPAIR_ORDERED).form
    assert f04 is not None and f04.kind == "f04" and set(f04.data) == set(F04)
    receipt = move("close", State.REPAIRED, Role.SKPD_ADMIN).form
    assert receipt is not None and receipt.merge
    assert receipt.data == {"acknowledged_by": "sari", "acknowledged_at": NOW.isoformat()}


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "ping_check"])
def test_every_form_refuses_fields_it_does_not_have(action: str) -> None:
    state = next(s for s in State if find(s, action) is not None)
    with pytest.raises(FormInvalid) as refused:
        move(action, state, skpd="evil", downtime_seconds=1)
    assert "unknown field(s) downtime_seconds, skpd" in refused.value.reason
    assert refused.value.reason.startswith(f"{action}: ")


def test_the_skpds_answer_is_recorded_once_by_an_admin_of_the_skpd() -> None:
    """SOP 3 from the SKPD's side: the answer sets who said what and when; a second answer
    (another admin, or a press again) is refused naming the first; staff cannot answer."""
    answered = move("answer", State.PING_CHECKED, Role.SKPD_ADMIN)
    assert answered.changes["skpd_answer"] == "down"
    assert answered.changes["skpd_answer_by"] == "sari"
    assert answered.changes["skpd_answer_at"] == NOW
    assert "state" not in answered.changes and answered.owed == ("answer",)
    again = Move(
        "answer", "budi", Role.SKPD_ADMIN, NOW, {"answer": "up"}, answered=("sari", "down")
    )
    with pytest.raises(AlreadyAnswered, match="sari already answered") as refused:
        apply_move(Facts("opened"), again)
    assert (refused.value.by, refused.value.answer) == ("sari", "down")
    with pytest.raises(TransitionRefused, match="a staff cannot answer"):
        move("answer", State.OPENED, Role.STAFF)
    with pytest.raises(FormInvalid, match="answer"):
        move("answer", State.OPENED, Role.SKPD_ADMIN, answer="mungkin")
    for state in ("closed", "transient", "cancelled"):
        with pytest.raises(TransitionRefused, match="cannot answer an incident that is"):
            apply_move(Facts(state), Move("answer", "sari", Role.SKPD_ADMIN, NOW, {"answer": "up"}))


def test_malformed_values_are_named() -> None:
    with pytest.raises(
        FormInvalid, match="estimated_recovery_at: Input should be a valid datetime"
    ):
        move("estimate", State.DISPATCHED, estimated_recovery_at="besok pagi")
    with pytest.raises(FormInvalid, match="repair_ended_at is before repair_started_at"):
        move("repair", State.REPAIR_ORDERED, repair_ended_at="2026-11-30T09:00+08:00")
    with pytest.raises(TransitionRefused, match="confirm needs complaint"):
        move("confirm", State.OPENED, complaint="   ")


def test_the_moves_that_owe_messages_are_the_tables() -> None:
    for action in ("report", "dispatch", "estimate", "forward", "order_repair", "repair"):
        state = next(s for s in State if find(s, action) is not None)
        assert move(action, state).owed == (action,)
    assert move("confirm", State.OPENED).owed == ()
    assert move("escalate", State.DISPATCHED).owed == ("escalate",)


def test_every_move_has_a_form_schema_that_requires_what_the_table_requires() -> None:
    assert set(FORM_OF_MOVE) == set(ACTIONS)
    for row in TRANSITIONS:
        schema = FORM_OF_MOVE[row.action]
        required = {name for name, field in schema.model_fields.items() if field.is_required()}
        assert required == set(row.requires), row.action


def test_the_timeline_entry_records_who_from_and_to() -> None:
    applied = move("forward", State.ESTIMATED)
    entry = applied.event
    assert (entry.kind, entry.actor, entry.role) == ("forward", "sari", "coordinator")
    assert (entry.from_state, entry.to_state) == ("estimated", "forwarded")
    assert applied.changes["stage_entered_at"] == NOW
    stay = move("escalate", State.DISPATCHED)
    assert "state" not in stay.changes and stay.event.to_state == "dispatched"
    assert stay.changes == {"updated_at": NOW}

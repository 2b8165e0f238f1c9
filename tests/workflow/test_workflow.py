"""The SOP state machine, exhaustively: every action x state x role, legal and illegal."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from webhook.core.workflow import (
    ACTIONS,
    FINAL_STATES,
    TRANSITIONS,
    Role,
    State,
    TransitionRefused,
    available,
    find,
    transition,
)

# The SOP as the tests read it: (action, from) -> to, and who may do it. Written out by hand so
# that a change of the table has to be a change of this expectation too.
EXPECTED_ROLES = {
    "ping_check": {Role.SYSTEM, Role.STAFF, Role.COORDINATOR},
    "acknowledge": {Role.STAFF, Role.COORDINATOR},
    "confirm": {Role.STAFF, Role.COORDINATOR},
    "report": {Role.STAFF, Role.COORDINATOR},
    "set_responsibility": {Role.STAFF, Role.COORDINATOR},
    "dispatch": {Role.COORDINATOR},
    "estimate": {Role.STAFF, Role.COORDINATOR},
    "forward": {Role.COORDINATOR},
    "order_repair": {Role.COORDINATOR},
    "repair": {Role.STAFF, Role.COORDINATOR},
    "close": {Role.SKPD_ADMIN, Role.COORDINATOR},
    "cancel": {Role.STAFF, Role.COORDINATOR},
    "close_transient": {Role.SYSTEM},
    "reopen": {Role.SYSTEM, Role.COORDINATOR},
    "escalate": {Role.SYSTEM},
    "page": {Role.SYSTEM},
    "answer": {Role.SKPD_ADMIN},
}
S = State
OPEN = [s for s in State if s not in FINAL_STATES]
EXPECTED_TARGET: dict[tuple[str, State], State] = {
    ("ping_check", S.OPENED): S.PING_CHECKED,
    **{("ping_check", s): s for s in OPEN if s != S.OPENED},
    **{("acknowledge", s): s for s in (S.OPENED, S.PING_CHECKED, S.CONFIRMED, S.REPORTED)},
    ("confirm", S.OPENED): S.CONFIRMED,
    ("confirm", S.PING_CHECKED): S.CONFIRMED,
    ("report", S.CONFIRMED): S.REPORTED,
    **{
        ("set_responsibility", s): s
        for s in OPEN
        if s not in (S.OPENED, S.PING_CHECKED, S.CONFIRMED)
    },
    ("dispatch", S.REPORTED): S.DISPATCHED,
    ("dispatch", S.DISPATCHED): S.DISPATCHED,
    **{
        ("estimate", s): S.ESTIMATED
        for s in (S.DISPATCHED, S.ESTIMATED, S.FORWARDED, S.REPAIR_ORDERED)
    },
    ("forward", S.ESTIMATED): S.FORWARDED,
    ("order_repair", S.FORWARDED): S.REPAIR_ORDERED,
    ("repair", S.REPAIR_ORDERED): S.REPAIRED,
    ("close", S.REPAIRED): S.CLOSED,
    **{("cancel", s): S.CANCELLED for s in OPEN},
    ("close_transient", S.OPENED): S.TRANSIENT,
    ("close_transient", S.PING_CHECKED): S.TRANSIENT,
    **{("reopen", s): S.OPENED for s in FINAL_STATES},
    **{("escalate", s): s for s in OPEN},
    ("page", S.OPENED): S.OPENED,
    ("page", S.PING_CHECKED): S.PING_CHECKED,
    **{("answer", s): s for s in OPEN},
}


def full_data(action: str, state: State) -> dict[str, Any]:
    row = find(state, action)
    data: dict[str, Any] = {k: "x" for k in row.requires} if row else {}
    if "responsibility" in data:
        data["responsibility"] = "skpd"
    return data


def test_the_table_covers_the_expected_actions() -> None:
    assert set(ACTIONS) == set(EXPECTED_ROLES)
    # No two rows of one action share a source state: a move is never ambiguous.
    for action in ACTIONS:
        rows = [t for t in TRANSITIONS if t.action == action]
        for a, b in itertools.combinations(rows, 2):
            assert not (a.sources & b.sources), action


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("role", list(Role))
def test_every_action_state_role(action: str, state: State, role: Role) -> None:
    legal_state = (action, state) in EXPECTED_TARGET
    legal = legal_state and role in EXPECTED_ROLES[action]
    data = full_data(action, state)
    if legal:
        row = transition(state, action, role, data)
        assert row.target_from(state) == EXPECTED_TARGET[action, state]
        assert row in available(state, role)
        return
    with pytest.raises(TransitionRefused) as refused:
        transition(state, action, role, data)
    if not legal_state:
        assert f"cannot {action} an incident that is {state.value}" in refused.value.reason
    else:
        assert f"a {role.value} cannot {action}" in refused.value.reason
    assert all(t.action != action or state not in t.sources for t in available(state, role))


@pytest.mark.parametrize(("action", "state"), sorted(EXPECTED_TARGET, key=str))
def test_required_data_is_named_when_missing(action: str, state: State) -> None:
    row = find(state, action)
    assert row is not None
    role = sorted(row.roles)[0]
    for missing in row.requires:
        data = full_data(action, state)
        data[missing] = ""
        with pytest.raises(TransitionRefused, match=f"{action} needs {missing}"):
            transition(state, action, role, data)


def test_bad_responsibility_and_unknown_action() -> None:
    with pytest.raises(TransitionRefused, match="not one of diskominfo, skpd"):
        transition(S.CONFIRMED, "report", Role.STAFF, {"responsibility": "vendor"})
    with pytest.raises(TransitionRefused, match="unknown action 'fly'"):
        transition(S.OPENED, "fly", Role.STAFF, {})


def test_the_sop_walks_from_alert_to_closed() -> None:
    steps = [
        ("ping_check", Role.SYSTEM),
        ("confirm", Role.STAFF),
        ("report", Role.STAFF),
        ("dispatch", Role.COORDINATOR),
        ("estimate", Role.STAFF),
        ("forward", Role.COORDINATOR),
        ("order_repair", Role.COORDINATOR),
        ("repair", Role.STAFF),
        ("close", Role.SKPD_ADMIN),
    ]
    state = S.OPENED
    for action, role in steps:
        state = transition(state, action, role, full_data(action, state)).target_from(state)
    assert state == S.CLOSED


def test_viewer_can_do_nothing() -> None:
    assert all(available(s, Role.VIEWER) == [] for s in State)

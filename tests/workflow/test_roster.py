"""The duty roster's pure rules (`webhook.core.roster`): shifts hand over at the local handover
time in WITA (no daylight saving) and in a zone with it; overrides take precedence (a swap over
the rotation, a leave over both, the next in the rotation covers a leave); the feed's shifts
are the person's."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhook.core.roster import (
    Override,
    RosterInvalid,
    Rotation,
    duty_periods,
    feed_token,
    feed_token_ok,
    next_on_duty,
    on_duty,
    parse_local,
    parse_rotation,
    shift_index,
    shifts_of,
)

WITA = ZoneInfo("Asia/Makassar")
BERLIN = ZoneInfo("Europe/Berlin")
DAILY = Rotation(("sari", "andi", "rudi"), 1, time(7, 30), date(2026, 11, 23))


def wita(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WITA)


def test_a_daily_shift_hands_over_at_0730_wita() -> None:
    assert on_duty(DAILY, [], wita(23, 7, 30), WITA) == ["sari"]
    assert on_duty(DAILY, [], wita(24, 7, 29), WITA) == ["sari"]  # the night is still sari's
    assert on_duty(DAILY, [], wita(24, 7, 30), WITA) == ["andi"]
    assert on_duty(DAILY, [], wita(25, 12), WITA) == ["rudi"]
    assert on_duty(DAILY, [], wita(26, 12), WITA) == ["sari"]  # round again
    # before the first shift the rotation runs backwards in the same order
    assert on_duty(DAILY, [], wita(22, 12), WITA) == ["rudi"]
    # 07:30 WITA is 23:30 UTC the day before: the handover is in the regency's time
    assert on_duty(DAILY, [], datetime(2026, 11, 23, 23, 30, tzinfo=UTC), WITA) == ["andi"]


def test_next_on_duty_is_the_next_handover() -> None:
    people, since = next_on_duty(DAILY, [], wita(24, 3), WITA)
    assert (people, since) == (["andi"], wita(24, 7, 30))
    one = Rotation(("sari",), 1, time(7, 30), date(2026, 11, 23))
    assert next_on_duty(one, [], wita(24, 3), WITA) == ([], None)


def test_a_weekly_rotation() -> None:
    weekly = Rotation(("sari", "andi"), 7, time(8, 0), date(2026, 11, 23))  # a Monday
    assert on_duty(weekly, [], wita(29, 23), WITA) == ["sari"]
    assert on_duty(weekly, [], wita(30, 8), WITA) == ["andi"]
    assert next_on_duty(weekly, [], wita(24, 9), WITA) == (["andi"], wita(30, 8))


def test_a_swap_beats_the_rotation_and_a_leave_beats_both() -> None:
    swap = Override("rudi", wita(24, 12), wita(24, 18), "swap")
    assert on_duty(DAILY, [swap], wita(24, 13), WITA) == ["rudi"]
    assert on_duty(DAILY, [swap], wita(24, 18), WITA) == ["andi"]  # the end is exclusive
    leave = Override("rudi", wita(24, 15), wita(25, 0), "leave")
    assert on_duty(DAILY, [swap, leave], wita(24, 16), WITA) == ["andi"]
    # andi's leave: the next in the rotation not on leave covers
    andi_off = Override("andi", wita(24, 7, 30), wita(25, 7, 30), "leave")
    assert on_duty(DAILY, [andi_off], wita(24, 12), WITA) == ["rudi"]
    rudi_off = Override("rudi", wita(24, 0), wita(26, 0), "leave")
    assert on_duty(DAILY, [andi_off, rudi_off], wita(24, 12), WITA) == ["sari"]
    everyone = [Override(p, wita(24, 0), wita(26, 0), "leave") for p in DAILY.people]
    assert on_duty(DAILY, everyone, wita(24, 12), WITA) == []
    # without a rotation only swaps put anyone on duty
    assert on_duty(None, [swap], wita(24, 13), WITA) == ["rudi"]
    assert on_duty(None, [], wita(24, 13), WITA) == []


def test_overlapping_swaps_put_both_on_duty_and_next_sees_the_swap() -> None:
    one = Override("rudi", wita(24, 12), wita(24, 18), "swap")
    two = Override("sari", wita(24, 16), wita(24, 20), "swap")
    assert on_duty(DAILY, [one, two], wita(24, 17), WITA) == ["rudi", "sari"]
    assert next_on_duty(DAILY, [one], wita(24, 9), WITA) == (["rudi"], wita(24, 12))


def test_bad_rotations_and_overrides_are_refused_with_the_reason() -> None:
    with pytest.raises(RosterInvalid, match="at least one person"):
        parse_rotation([" ", ""], "daily", "07:30", "2026-11-23")
    with pytest.raises(RosterInvalid, match="twice"):
        parse_rotation(["sari", "sari"], "daily", "07:30", "2026-11-23")
    with pytest.raises(RosterInvalid, match="shift 'hourly'"):
        parse_rotation(["sari"], "hourly", "07:30", "2026-11-23")
    with pytest.raises(RosterInvalid, match="HH:MM"):
        parse_rotation(["sari"], "daily", "7.30", "2026-11-23")
    with pytest.raises(RosterInvalid, match="ends after it starts"):
        Override("sari", wita(24, 12), wita(24, 12), "swap")
    with pytest.raises(RosterInvalid, match="YYYY-MM-DD HH:MM"):
        parse_local("besok", WITA, "start")
    assert parse_local("2026-11-24T07:30", WITA, "start") == wita(24, 7, 30)


def test_the_handover_keeps_its_wall_time_across_daylight_saving() -> None:
    berlin = Rotation(("a", "b"), 1, time(7, 30), date(2026, 3, 27))
    # 29 March 2026: clocks go forward at 02:00; the shift is 23 hours long
    periods = list(
        duty_periods(
            berlin,
            [],
            datetime(2026, 3, 28, 7, 30, tzinfo=BERLIN),
            datetime(2026, 3, 31, 7, 30, tzinfo=BERLIN),
            BERLIN,
        )
    )
    assert [p[0].astimezone(BERLIN).strftime("%d %H:%M") for p in periods] == [
        "28 07:30",
        "29 07:30",
        "30 07:30",
    ]
    assert periods[0][1] - periods[0][0] == timedelta(hours=23)
    assert [p[2] for p in periods] == [("b",), ("a",), ("b",)]


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([1, 7]),
)
def test_exactly_one_person_is_on_duty_and_shifts_tile_time(
    moment: datetime, size: int, days: int
) -> None:
    rotation = Rotation(tuple(f"p{i}" for i in range(size)), days, time(7, 30), date(2026, 1, 5))
    at = moment.replace(tzinfo=UTC)
    people = on_duty(rotation, [], at, WITA)
    index = shift_index(rotation, at, WITA)
    assert people == [rotation.people[index % size]]
    # WITA has no daylight saving: every shift is exactly its length
    periods = list(duty_periods(rotation, [], at, at + timedelta(days=3 * days), WITA))
    assert periods[0][0] == at and periods[-1][1] == at + timedelta(days=3 * days)
    for before, after in itertools.pairwise(periods):
        assert before[1] == after[0]
        if size > 1:
            assert after[1] - after[0] == timedelta(days=days) or after is periods[-1]


@given(
    st.integers(min_value=0, max_value=24 * 14),
    st.integers(min_value=1, max_value=48),
    st.sampled_from(["swap", "leave"]),
)
def test_an_override_decides_only_inside_its_time(start_h: int, hours: int, reason: str) -> None:
    begin = wita(23, 7, 30) + timedelta(hours=start_h)
    override = Override("sari", begin, begin + timedelta(hours=hours), reason)  # type: ignore[arg-type]
    inside = begin + timedelta(hours=hours / 2)
    outside = begin + timedelta(hours=hours)
    assert on_duty(DAILY, [override], outside, WITA) == on_duty(DAILY, [], outside, WITA)
    duty = on_duty(DAILY, [override], inside, WITA)
    assert ("sari" in duty) == (reason == "swap")


def test_a_persons_shifts_for_the_feed_join_adjoining_periods() -> None:
    swap = Override("sari", wita(24, 7, 30), wita(25, 7, 30), "swap")  # covers andi's day
    shifts = shifts_of("sari", DAILY, [swap], wita(23, 7, 30), wita(30, 7, 30), WITA)
    assert shifts == [
        (wita(23, 7, 30), wita(25, 7, 30)),
        (wita(26, 7, 30), wita(27, 7, 30)),
        (wita(29, 7, 30), wita(30, 7, 30)),
    ]
    assert shifts_of("andi", DAILY, [swap], wita(23, 7, 30), wita(30, 7, 30), WITA) == [
        (wita(27, 7, 30), wita(28, 7, 30))
    ]


def test_a_feed_token_is_bound_to_the_person_and_the_key() -> None:
    token = feed_token("k", "sari")
    assert feed_token_ok("k", "sari", token)
    assert not feed_token_ok("k", "andi", token)
    assert not feed_token_ok("other", "sari", token)

"""Availability, booking checks and slot search: DST days in both hemispheres, every
booking problem with its message, and hypothesis properties against a brute force."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.availability import (
    BookingPolicy,
    BookingProblem,
    Interval,
    Problem,
    ServiceSpec,
    Slot,
    StaffSchedule,
    check_booking,
    compute_free_intervals,
    compute_working_intervals,
    find_free_slots,
    merge_intervals,
    subtract_intervals,
)
from scheduling.catalog import Shift

BERLIN, SYDNEY = "Europe/Berlin", "Australia/Sydney"
MIN = timedelta(minutes=1)
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Mon 08:00 in Berlin
LATER = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Mon 10:00
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
CUT = ServiceSpec(1, timedelta(minutes=45))
COLOUR = ServiceSpec(2, timedelta(minutes=60), buffer=timedelta(minutes=15))
BALAYAGE = ServiceSpec(3, timedelta(minutes=90))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iv(start: str, end: str) -> Interval:
    return Interval(utc(start), utc(end))


def shift(weekday: int, start: str, end: str) -> Shift:
    return Shift(weekday=weekday, start=time.fromisoformat(start), end=time.fromisoformat(end))


def wall(instant: datetime, tz: str) -> str:
    return f"{instant.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M%z}"


def policy(tz: str = BERLIN, **overrides: Any) -> BookingPolicy:
    return replace(BookingPolicy(timezone=tz), **overrides)


WEEK = tuple(shift(d, "09:00", "17:00") for d in (MON, TUE, WED, THU)) + (
    shift(FRI, "09:00", "13:00"),
    shift(FRI, "14:00", "18:00"),
)


ANNA = StaffSchedule(1, WEEK, service_ids=frozenset({CUT.service_id, COLOUR.service_id}))


def anna(**overrides: Any) -> StaffSchedule:
    return replace(ANNA, **overrides)


# --- interval helpers ----------------------------------------------------------------


def test_merge_intervals_sorts_joins_overlapping_and_touching_and_drops_empty() -> None:
    merged = merge_intervals(
        [
            iv("2026-05-04 12:00", "2026-05-04 13:00"),
            iv("2026-05-04 09:00", "2026-05-04 10:00"),
            iv("2026-05-04 09:30", "2026-05-04 09:45"),  # inside
            iv("2026-05-04 10:00", "2026-05-04 11:00"),  # touching
            iv("2026-05-04 14:00", "2026-05-04 14:00"),  # empty
            iv("2026-05-04 11:00", "2026-05-04 11:01"),
        ]
    )
    assert merged == [
        iv("2026-05-04 09:00", "2026-05-04 11:01"),
        iv("2026-05-04 12:00", "2026-05-04 13:00"),
    ]


def test_subtract_intervals_cuts_holes_and_keeps_edges() -> None:
    base = [iv("2026-05-04 09:00", "2026-05-04 17:00")]
    removed = [
        iv("2026-05-04 12:00", "2026-05-04 13:00"),
        iv("2026-05-04 08:00", "2026-05-04 09:30"),
        iv("2026-05-04 12:30", "2026-05-04 12:45"),
        iv("2026-05-04 17:00", "2026-05-04 18:00"),  # touches the end only
    ]
    assert subtract_intervals(base, removed) == [
        iv("2026-05-04 09:30", "2026-05-04 12:00"),
        iv("2026-05-04 13:00", "2026-05-04 17:00"),
    ]
    assert subtract_intervals(base, []) == base
    assert subtract_intervals(base, base) == []


interval_minutes = st.tuples(st.integers(0, 200), st.integers(0, 60))


def _from_minutes(pairs: list[tuple[int, int]]) -> list[Interval]:
    origin = utc("2026-05-04 00:00")
    return [Interval(origin + a * MIN, origin + (a + n) * MIN) for a, n in pairs]


def _covers(intervals: list[Interval], point: datetime) -> bool:
    return any(i.start <= point < i.end for i in intervals)


@given(st.lists(interval_minutes, max_size=8), st.lists(interval_minutes, max_size=8))
def test_merge_and_subtract_agree_with_pointwise_sets(
    base_pairs: list[tuple[int, int]], removed_pairs: list[tuple[int, int]]
) -> None:
    base, removed = _from_minutes(base_pairs), _from_minutes(removed_pairs)
    merged, left = merge_intervals(base), subtract_intervals(base, removed)
    for result in (merged, left):
        assert all(i.start < i.end for i in result)
        assert all(a.end < b.start for a, b in zip(result, result[1:], strict=False))
    for minute in range(0, 262):
        point = utc("2026-05-04 00:00") + minute * MIN
        assert _covers(merged, point) == _covers(base, point)
        assert _covers(left, point) == (_covers(base, point) and not _covers(removed, point))


# --- working intervals ---------------------------------------------------------------


def test_working_intervals_expand_the_week_in_local_time_and_clip() -> None:
    working = compute_working_intervals(
        WEEK, timezone=BERLIN, start=utc("2026-05-07 10:00"), end=utc("2026-05-09 00:00")
    )
    assert working == [
        iv("2026-05-07 10:00", "2026-05-07 15:00"),  # Thu 09-17 CEST, clipped at 12:00 local
        iv("2026-05-08 07:00", "2026-05-08 11:00"),  # Fri split shift: the break stays
        iv("2026-05-08 12:00", "2026-05-08 16:00"),
    ]


def test_working_intervals_merge_shifts_that_truly_touch_only() -> None:
    shifts = (
        shift(MON, "09:00", "13:00"),
        shift(MON, "13:00", "18:00"),
        shift(MON, "18:30", "23:59:59.999999"),
        shift(TUE, "00:00", "08:00"),  # 1 µs after Monday's last shift: not touching
    )
    working = compute_working_intervals(
        shifts, timezone="UTC", start=utc("2026-05-04 00:00"), end=utc("2026-05-06 00:00")
    )
    assert working == [
        iv("2026-05-04 09:00", "2026-05-04 18:00"),
        iv("2026-05-04 18:30", "2026-05-04 23:59:59.999999"),
        iv("2026-05-05 00:00", "2026-05-05 08:00"),
    ]


def test_working_intervals_of_an_empty_range_and_naive_input() -> None:
    at = utc("2026-05-04 10:00")
    assert compute_working_intervals(WEEK, timezone=BERLIN, start=at, end=at) == []
    with pytest.raises(ValueError, match="tz-aware"):
        compute_working_intervals(WEEK, timezone=BERLIN, start=at.replace(tzinfo=None), end=at)


# Every DST day below is a Sunday; the day before is a Saturday on the old offset.
DST_DAYS = [
    # tz, day, UTC start and end of a 09:00-17:00 shift that day
    (BERLIN, "2026-03-28", "2026-03-28 08:00", "2026-03-28 16:00"),  # CET
    (BERLIN, "2026-03-29", "2026-03-29 07:00", "2026-03-29 15:00"),  # spring forward: CEST
    (BERLIN, "2026-10-24", "2026-10-24 07:00", "2026-10-24 15:00"),  # CEST
    (BERLIN, "2026-10-25", "2026-10-25 08:00", "2026-10-25 16:00"),  # fall back: CET
    (SYDNEY, "2026-10-03", "2026-10-02 23:00", "2026-10-03 07:00"),  # AEST +10
    (SYDNEY, "2026-10-04", "2026-10-03 22:00", "2026-10-04 06:00"),  # spring forward: AEDT
    (SYDNEY, "2026-04-04", "2026-04-03 22:00", "2026-04-04 06:00"),  # AEDT +11
    (SYDNEY, "2026-04-05", "2026-04-04 23:00", "2026-04-05 07:00"),  # fall back: AEST
]


@pytest.mark.parametrize(("tz", "day", "start", "end"), DST_DAYS)
def test_a_shift_keeps_its_local_hours_on_dst_days(tz: str, day: str, start: str, end: str) -> None:
    weekday = date.fromisoformat(day).weekday()
    shifts = (shift(weekday, "09:00", "17:00"),)
    working = compute_working_intervals(
        shifts,
        timezone=tz,
        start=utc(day) - timedelta(days=1),
        end=utc(day) + timedelta(days=2),
    )
    assert working == [iv(start, end)]
    assert working[0].end - working[0].start == timedelta(hours=8)
    assert wall(working[0].start, tz)[11:16] == "09:00"
    assert wall(working[0].end, tz)[11:16] == "17:00"


@pytest.mark.parametrize(
    ("tz", "day", "start", "end"),
    [
        # 02:00 does not exist: the shift starts at the jump (03:00 summer time)
        (BERLIN, "2026-03-29", "2026-03-29 01:00", "2026-03-29 01:30"),
        (SYDNEY, "2026-10-04", "2026-10-03 16:00", "2026-10-03 16:30"),
        # 02:00-03:30 happens partly twice: from the first 02:00 to the only 03:30
        (BERLIN, "2026-10-25", "2026-10-25 00:00", "2026-10-25 02:30"),
        (SYDNEY, "2026-04-05", "2026-04-04 15:00", "2026-04-04 17:30"),
    ],
)
def test_a_shift_over_the_dst_change_follows_to_utc(
    tz: str, day: str, start: str, end: str
) -> None:
    shifts = (shift(SUN, "02:00", "03:30"),)
    working = compute_working_intervals(
        shifts, timezone=tz, start=utc(day) - timedelta(days=1), end=utc(day) + timedelta(days=1)
    )
    assert working == [iv(start, end)]


@pytest.mark.parametrize(("tz", "day"), [(BERLIN, "2026-03-29"), (SYDNEY, "2026-10-04")])
def test_a_shift_wholly_inside_the_gap_is_no_work(tz: str, day: str) -> None:
    shifts = (shift(SUN, "02:00", "02:45"),)
    start = utc(day) - timedelta(days=1)
    end = start + timedelta(days=3)
    assert compute_working_intervals(shifts, timezone=tz, start=start, end=end) == []


def test_a_whole_day_shift_is_shorter_and_longer_on_dst_days() -> None:
    shifts = (shift(SUN, "00:00", "23:00"),)
    spring, autumn = (
        compute_working_intervals(
            shifts,
            timezone=BERLIN,
            start=utc(day) - timedelta(days=1),
            end=utc(day) + timedelta(days=1),
        )[0]
        for day in ("2026-03-29", "2026-10-25")
    )
    assert spring.end - spring.start == timedelta(hours=22)
    assert autumn.end - autumn.start == timedelta(hours=24)


# --- free intervals ------------------------------------------------------------------


def test_free_intervals_are_working_hours_minus_time_off_and_busy() -> None:
    schedule = anna(
        time_off=(iv("2026-05-08 07:00", "2026-05-08 08:00"),),  # Fri 09-10 local
        busy=(
            iv("2026-05-08 13:00", "2026-05-08 13:45"),
            iv("2026-05-08 12:30", "2026-05-08 13:15"),  # unsorted, overlapping
            iv("2026-05-08 15:30", "2026-05-08 16:30"),  # past the end of the day
        ),
    )
    free = compute_free_intervals(
        schedule, timezone=BERLIN, start=utc("2026-05-08 00:00"), end=utc("2026-05-09 00:00")
    )
    assert free == [
        iv("2026-05-08 08:00", "2026-05-08 11:00"),
        iv("2026-05-08 12:00", "2026-05-08 12:30"),
        iv("2026-05-08 13:45", "2026-05-08 15:30"),
    ]
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in free)


# --- check_booking -------------------------------------------------------------------


def codes(problems: list[BookingProblem]) -> list[Problem]:
    return [p.code for p in problems]


def check(
    start: str,
    *,
    schedule: StaffSchedule = ANNA,
    service: ServiceSpec = CUT,
    service_name: str | None = "Cut",
    rules: BookingPolicy | None = None,
    now: datetime = NOW,
) -> list[BookingProblem]:
    return check_booking(
        schedule,
        service,
        policy=rules or policy(),
        start=utc(start),
        now=now,
        staff_name="Anna",
        service_name=service_name,
    )


def test_a_good_booking_has_no_problems() -> None:
    assert check("2026-05-05 07:00") == []  # Tue 09:00 local


@pytest.mark.parametrize(
    ("start", "kwargs", "code", "message"),
    [
        ("2026-05-04 07:59", {"now": LATER}, Problem.PAST, "That time is in the past."),
        (
            "2026-05-04 08:30",
            {"now": LATER},
            Problem.TOO_SOON,
            "Bookings need at least 60 minutes' notice.",
        ),
        (
            "2026-05-04 07:00",
            {"rules": policy(min_notice=timedelta(hours=3))},
            Problem.TOO_SOON,
            "Bookings need at least 3 hours' notice.",
        ),
        (
            "2026-05-04 07:00",
            {"rules": policy(min_notice=timedelta(days=1))},
            Problem.TOO_SOON,
            "Bookings need at least 1 day's notice.",
        ),
        ("2026-08-03 07:00", {}, Problem.TOO_FAR, "Bookings open at most 90 days ahead."),
        (
            "2026-05-05 07:00",
            {"service": BALAYAGE, "service_name": "Balayage"},
            Problem.NOT_OFFERED,
            "Anna doesn't offer 'Balayage'.",
        ),
        (
            "2026-05-05 07:00",
            {"service": BALAYAGE, "service_name": None},
            Problem.NOT_OFFERED,
            "Anna doesn't offer this service.",
        ),
        ("2026-05-09 08:00", {}, Problem.OUTSIDE_HOURS, "Anna doesn't work on Saturdays."),
        (
            "2026-05-08 15:30",  # Fri 17:30 local
            {},
            Problem.OUTSIDE_HOURS,
            "Anna works 09:00–13:00 and 14:00–18:00 on Fridays; 17:30 + 45 min runs past 18:00.",
        ),
        (
            "2026-05-08 11:15",  # Fri 13:15 local: the break
            {},
            Problem.OUTSIDE_HOURS,
            "Anna works 09:00–13:00 and 14:00–18:00 on Fridays; 13:15 is outside those hours.",
        ),
        (
            "2026-05-05 14:00",  # Tue 16:00 local: 60 min + 15 min buffer
            {"service": COLOUR, "service_name": "Colour"},
            Problem.OUTSIDE_HOURS,
            "Anna works 09:00–17:00 on Tuesdays; 16:00 + 60 min + 15 min buffer runs past 17:00.",
        ),
    ],
)
def test_each_problem_has_its_own_message(
    start: str, kwargs: dict[str, Any], code: Problem, message: str
) -> None:
    problems = check(start, **kwargs)
    assert codes(problems) == [code]
    assert problems[0].message == message


def test_time_off_and_appointments_are_named_in_local_time() -> None:
    schedule = anna(
        time_off=(iv("2026-05-05 10:00", "2026-05-05 12:00"),),
        busy=(
            iv("2026-05-06 08:00", "2026-05-06 08:45"),
            iv("2026-05-06 09:00", "2026-05-06 09:30"),
        ),
    )
    off = check("2026-05-05 09:30", schedule=schedule)
    assert codes(off) == [Problem.TIME_OFF]
    assert off[0].message == "Anna is off at that time (time off 12:00–14:00)."
    one = check("2026-05-06 08:30", schedule=schedule, service=BALAYAGE)
    assert codes(one) == [Problem.NOT_OFFERED, Problem.OVERLAP]
    assert one[1].message == "Anna already has appointments 10:00–10:45 and 11:00–11:30."
    two = check("2026-05-06 07:30", schedule=schedule)
    assert two[0].message == "Anna already has an appointment 10:00–10:45."


def test_time_off_over_several_days_shows_the_dates() -> None:
    schedule = anna(time_off=(iv("2026-05-04 22:00", "2026-05-06 22:00"),))  # Tue + Wed
    problems = check("2026-05-05 07:00", schedule=schedule)
    assert problems[0].message == (
        "Anna is off at that time (time off Tue 05 May 00:00–Thu 07 May 00:00)."
    )


def test_a_whole_business_closure_is_refused_like_time_off() -> None:
    closure = iv("2026-05-13 22:00", "2026-05-14 22:00")  # Thu 14 May, a holiday
    problems = check("2026-05-14 08:00", schedule=anna(time_off=(closure,)))
    assert codes(problems) == [Problem.TIME_OFF]


def test_several_problems_come_each_once_in_a_stable_order() -> None:
    schedule = anna(
        time_off=(
            iv("2026-05-04 05:00", "2026-05-04 06:00"),
            iv("2026-05-04 05:30", "2026-05-04 07:00"),
        ),
        busy=(
            iv("2026-05-04 05:00", "2026-05-04 05:30"),
            iv("2026-05-04 05:00", "2026-05-04 05:30"),
        ),
    )
    problems = check("2026-05-04 05:15", schedule=schedule, service=BALAYAGE)
    assert codes(problems) == [
        Problem.PAST,
        Problem.NOT_OFFERED,
        Problem.OUTSIDE_HOURS,
        Problem.TIME_OFF,
        Problem.OVERLAP,
    ]
    assert problems[3].message == "Anna is off at that time (time off 07:00–09:00)."
    assert problems[4].message == "Anna already has an appointment 07:00–07:30."
    far = check("2026-08-08 07:00", service=BALAYAGE)  # a Saturday, too far ahead
    assert codes(far) == [Problem.TOO_FAR, Problem.NOT_OFFERED, Problem.OUTSIDE_HOURS]


def test_touching_edges_are_fine_and_the_buffer_counts() -> None:
    # Tue 11:00-12:00 local booked (09:00-10:00 UTC); COLOUR occupies 75 minutes.
    schedule = anna(busy=(iv("2026-05-05 09:00", "2026-05-05 10:00"),))
    assert check("2026-05-05 07:45", schedule=schedule, service=COLOUR) == []  # ends at 11:00
    assert check("2026-05-05 10:00", schedule=schedule, service=COLOUR) == []  # starts at 12:00
    overlap = check("2026-05-05 08:00", schedule=schedule, service=COLOUR)  # the buffer hits it
    assert codes(overlap) == [Problem.OVERLAP]
    assert overlap[0].message == "Anna already has an appointment 11:00–12:00."
    # 15:45 + 60 + 15 ends exactly at 17:00: inside; time off that starts then is fine too.
    edge = anna(time_off=(iv("2026-05-05 15:00", "2026-05-05 16:00"),))
    assert check("2026-05-05 13:45", schedule=edge, service=COLOUR) == []


def test_notice_and_horizon_edges() -> None:
    assert check("2026-05-04 07:00") == []  # exactly 60 minutes' notice
    always = anna(shifts=tuple(shift(day, "00:00", "23:00") for day in range(7)))
    horizon = NOW + timedelta(days=90)  # Sun 2 Aug 08:00 local
    assert codes(check_booking(always, CUT, policy=policy(), start=horizon, now=NOW)) == [
        Problem.TOO_FAR
    ]
    assert check_booking(always, CUT, policy=policy(), start=horizon - MIN, now=NOW) == []


def test_a_split_shift_break_is_not_bookable_but_touching_shifts_are_one() -> None:
    assert codes(check("2026-05-08 10:30")) == [Problem.OUTSIDE_HOURS]  # Fri 12:30 + 45
    touching = anna(shifts=(shift(FRI, "09:00", "13:00"), shift(FRI, "13:00", "18:00")))
    assert check("2026-05-08 10:30", schedule=touching) == []


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        (BERLIN, "2026-03-29 14:30"),  # spring forward: 16:30 CEST
        (BERLIN, "2026-10-25 15:30"),  # fall back: 16:30 CET
        (SYDNEY, "2026-10-04 05:30"),  # spring forward: 16:30 AEDT
        (SYDNEY, "2026-04-05 06:30"),  # fall back: 16:30 AEST
    ],
)
def test_messages_on_dst_days_use_local_times(tz: str, start: str) -> None:
    sundays = anna(shifts=(shift(SUN, "09:00", "17:00"),))
    problems = check(start, schedule=sundays, rules=policy(tz), now=utc(start) - timedelta(days=7))
    assert [p.message for p in problems] == [
        "Anna works 09:00–17:00 on Sundays; 16:30 + 45 min runs past 17:00."
    ]
    fits = utc(start) - 15 * MIN  # 16:15 + 45 min ends at 17:00 local
    assert check_booking(sundays, CUT, policy=policy(tz), start=fits, now=fits - MIN * 60) == []


def test_the_default_staff_name_and_naive_times() -> None:
    problems = check_booking(
        anna(), BALAYAGE, policy=policy(), start=utc("2026-05-05 07:00"), now=NOW
    )
    assert problems[0].message == "This staff member doesn't offer this service."
    with pytest.raises(ValueError, match="tz-aware"):
        check_booking(anna(), CUT, policy=policy(), start=datetime(2026, 5, 5, 9), now=NOW)


# --- slot search ---------------------------------------------------------------------


def starts(slots: list[Slot], tz: str = BERLIN) -> list[str]:
    return [f"{s.start.astimezone(ZoneInfo(tz)):%a %H:%M}" for s in slots]


def test_slots_start_at_the_earliest_step_after_the_notice() -> None:
    now = utc("2026-05-04 07:05")  # Mon 09:05 local: notice runs to 10:05
    slots = find_free_slots([anna()], CUT, policy=policy(), now=now, limit=3)
    assert starts(slots) == ["Mon 10:15", "Mon 10:30", "Mon 10:45"]
    assert slots[0] == Slot(utc("2026-05-04 08:15"), 1, utc("2026-05-04 09:00"))


def test_slots_are_ordered_by_start_then_staff_and_limited() -> None:
    ben = anna(staff_id=2, shifts=(shift(MON, "10:00", "12:00"),))
    cleo = anna(staff_id=3, busy=(iv("2026-05-04 08:00", "2026-05-04 08:30"),))
    slots = find_free_slots([cleo, ben, anna()], CUT, policy=policy(), now=NOW, limit=8)
    assert [(s.start, s.staff_id) for s in slots] == [
        (utc("2026-05-04 07:00"), 1),
        (utc("2026-05-04 07:00"), 3),
        (utc("2026-05-04 07:15"), 1),
        (utc("2026-05-04 07:15"), 3),
        (utc("2026-05-04 07:30"), 1),  # Cleo's 09:30 + 45 would run into her 10:00
        (utc("2026-05-04 07:45"), 1),
        (utc("2026-05-04 08:00"), 1),
        (utc("2026-05-04 08:00"), 2),
    ]
    assert find_free_slots([anna()], CUT, policy=policy(), now=NOW, limit=0) == []


def test_slots_skip_staff_who_dont_offer_the_service() -> None:
    ben = anna(staff_id=2, service_ids=frozenset({BALAYAGE.service_id}))
    slots = find_free_slots([anna(), ben], BALAYAGE, policy=policy(), now=NOW, limit=2)
    assert {s.staff_id for s in slots} == {2}
    assert find_free_slots([anna()], BALAYAGE, policy=policy(), now=NOW) == []
    assert find_free_slots([], CUT, policy=policy(), now=NOW) == []


def test_slots_respect_after_and_step_alignment() -> None:
    after = utc("2026-05-05 08:01")  # Tue 10:01 local
    slots = find_free_slots(
        [anna()], CUT, policy=policy(slot_step=timedelta(minutes=20)), now=NOW, after=after, limit=3
    )
    assert starts(slots) == ["Tue 10:20", "Tue 10:40", "Tue 11:00"]
    # A step that doesn't divide the day restarts at each local midnight.
    late = anna(shifts=(shift(MON, "22:00", "23:59"), shift(TUE, "00:00", "02:00")))
    slots = find_free_slots(
        [late], CUT, policy=policy(slot_step=timedelta(minutes=50)), now=NOW, limit=3
    )
    assert starts(slots) == ["Mon 22:30", "Tue 00:00", "Tue 00:50"]  # not 23:20 (+45 > 23:59)


def test_a_fully_booked_day_is_skipped() -> None:
    schedule = anna(busy=(iv("2026-05-04 07:00", "2026-05-04 15:00"),))
    slots = find_free_slots([schedule], CUT, policy=policy(), now=NOW, limit=1)
    assert starts(slots) == ["Tue 09:00"]


def test_buffer_must_fit_but_is_not_part_of_the_slot() -> None:
    schedule = anna(shifts=(shift(MON, "09:00", "11:00"),))
    slots = find_free_slots([schedule], COLOUR, policy=policy(), now=NOW, limit=5)
    # 09:45 + 60 min + 15 min buffer ends at 11:00; 10:00 would run past it.
    assert starts(slots) == ["Mon 09:00", "Mon 09:15", "Mon 09:30", "Mon 09:45", "Mon 09:00"]
    assert slots[4].start == utc("2026-05-11 07:00")  # the next Monday
    assert all(slot.end - slot.start == COLOUR.duration for slot in slots)


def test_slots_stop_at_max_days_ahead() -> None:
    slots = find_free_slots([anna()], CUT, policy=policy(max_days_ahead=2), now=NOW, limit=10_000)
    assert slots[-1].start < NOW + timedelta(days=2)
    assert starts(slots)[-1] == "Tue 16:15"
    assert len({s.start.date() for s in slots}) == 2


def test_unsorted_overlapping_busy_intervals_are_handled() -> None:
    busy = (
        iv("2026-05-04 09:00", "2026-05-04 15:00"),
        iv("2026-05-04 07:00", "2026-05-04 08:00"),
        iv("2026-05-04 07:30", "2026-05-04 08:15"),
    )
    slots = find_free_slots([anna(busy=busy)], CUT, policy=policy(), now=NOW, limit=2)
    assert starts(slots) == ["Mon 10:15", "Tue 09:00"]


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        (BERLIN, "2026-03-29", ["07:00", "08:00", "09:00"]),
        (BERLIN, "2026-10-25", ["08:00", "09:00", "10:00"]),
        (SYDNEY, "2026-10-04", ["22:00", "23:00", "00:00"]),
        (SYDNEY, "2026-04-05", ["23:00", "00:00", "01:00"]),
    ],
)
def test_slots_on_dst_days_are_at_local_times(tz: str, day: str, expected: list[str]) -> None:
    schedule = anna(shifts=(shift(SUN, "09:00", "12:00"),))
    now = utc(day) - timedelta(days=2)
    slots = find_free_slots(
        [schedule], CUT, policy=policy(tz, slot_step=timedelta(hours=1)), now=now, limit=3
    )
    assert [f"{s.start:%H:%M}" for s in slots] == expected
    assert [wall(s.start, tz)[11:16] for s in slots] == ["09:00", "10:00", "11:00"]


def test_slots_in_the_spring_gap_start_at_the_jump() -> None:
    schedule = anna(shifts=(shift(SUN, "02:00", "03:30"),))
    service = ServiceSpec(1, timedelta(minutes=30))
    for tz, day in ((BERLIN, "2026-03-29"), (SYDNEY, "2026-10-04")):
        now = utc(day) - timedelta(days=2)
        three_days = policy(tz, max_days_ahead=3)
        slots = find_free_slots([schedule], service, policy=three_days, now=now, limit=5)
        assert [wall(s.start, tz)[:16] for s in slots] == [f"{day} 03:00"]
        assert (
            check_booking(schedule, service, policy=three_days, start=slots[0].start, now=now) == []
        )


def test_slots_in_the_autumn_overlap_include_both_occurrences() -> None:
    schedule = anna(shifts=(shift(SUN, "01:00", "04:00"),))
    service = ServiceSpec(1, timedelta(minutes=45))
    now = utc("2026-10-20 00:00")
    hourly = find_free_slots(
        [schedule], service, policy=policy(slot_step=timedelta(hours=1)), now=now, limit=5
    )
    assert [wall(s.start, BERLIN) for s in hourly] == [
        "2026-10-25 01:00+0200",
        "2026-10-25 02:00+0200",
        "2026-10-25 02:00+0100",
        "2026-10-25 03:00+0100",
        "2026-11-01 01:00+0100",
    ]
    # 45-minute steps from midnight: 01:30, 02:15 (twice), 03:00; 03:45 + 45 is too late.
    steps = find_free_slots(
        [schedule], service, policy=policy(slot_step=timedelta(minutes=45)), now=now, limit=4
    )
    assert [s.start for s in steps] == [
        utc("2026-10-24 23:30"),
        utc("2026-10-25 00:15"),
        utc("2026-10-25 01:15"),
        utc("2026-10-25 02:00"),
    ]


# --- properties ----------------------------------------------------------------------

# Zones with whole-hour offsets (as the brute force needs) and the Saturday before each
# of their DST changes, so the drawn windows cross the change.
SATURDAYS = {
    BERLIN: (date(2026, 3, 28), date(2026, 10, 24)),
    SYDNEY: (date(2026, 10, 3), date(2026, 4, 4)),
    "America/New_York": (date(2026, 3, 7), date(2026, 10, 31)),
    "UTC": (date(2026, 5, 2),),
}
NIGHT_SHIFT = shift(SUN, "00:30", "05:30")  # over the change, which is at 02:00 or 03:00
QUARTER = timedelta(minutes=15)


@st.composite
def shifts_strategy(draw: st.DrawFn) -> tuple[Shift, ...]:
    drawn = draw(
        st.lists(
            st.tuples(
                st.one_of(st.integers(0, 6), st.just(SUN)),  # Sundays cross the change
                st.one_of(st.integers(0, 46), st.integers(0, 5)),  # often over 02:00-03:00
                st.integers(1, 20),
            ),
            max_size=10,
        )
    )
    shifts = []
    for weekday, first, length in drawn:  # in half hours
        last = first + length
        end = time(23, 59) if last >= 48 else time(last // 2, 30 * (last % 2))
        shifts.append(Shift(weekday=weekday, start=time(first // 2, 30 * (first % 2)), end=end))
    return tuple(shifts)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    tz = draw(st.sampled_from(sorted(SATURDAYS)))
    origin = datetime.combine(draw(st.sampled_from(SATURDAYS[tz])), time(), UTC)
    origin -= timedelta(hours=12)

    def spans(count: int, longest: int) -> tuple[Interval, ...]:
        pairs = draw(
            st.lists(st.tuples(st.integers(0, 4 * 96), st.integers(1, longest)), max_size=count)
        )
        return tuple(Interval(origin + a * QUARTER, origin + (a + n) * QUARTER) for a, n in pairs)

    service = ServiceSpec(
        7,
        draw(st.integers(1, 8)) * QUARTER,
        buffer=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
    )
    busy = tuple(
        Interval(i.start, i.end + draw(st.sampled_from([timedelta(0), service.buffer])))
        for i in spans(14, 12)
    )
    schedule = StaffSchedule(
        staff_id=draw(st.integers(1, 3)),
        shifts=draw(shifts_strategy()) + ((NIGHT_SHIFT,) if draw(st.booleans()) else ()),
        time_off=spans(3, 48),
        busy=busy,
        service_ids=frozenset({7}),
    )
    rules = BookingPolicy(
        timezone=tz,
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 15, 60, 180]))),
        max_days_ahead=draw(st.integers(1, 3)),
        slot_step=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60]))),
    )
    now = (
        origin
        + draw(st.integers(0, 96 * 2)) * QUARTER
        + timedelta(minutes=draw(st.integers(0, 14)))
    )
    after = draw(st.one_of(st.none(), st.integers(0, 3 * 96).map(lambda q: origin + q * QUARTER)))
    return {"schedule": schedule, "service": service, "policy": rules, "now": now, "after": after}


def _on_grid(instant: datetime, rules: BookingPolicy) -> bool:
    local = instant.astimezone(ZoneInfo(rules.timezone))
    since_midnight = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    return local.microsecond == 0 and since_midnight % rules.slot_step == timedelta(0)


def _brute_force(case: dict) -> list[datetime]:
    """Every quarter hour in the window that is on the grid and passes check_booking."""
    rules, now, after = case["policy"], case["now"], case["after"]
    candidate = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    found = []
    while candidate < now + timedelta(days=rules.max_days_ahead):
        if (
            (after is None or candidate >= after)
            and _on_grid(candidate, rules)
            and not check_booking(
                case["schedule"], case["service"], policy=rules, start=candidate, now=now
            )
        ):
            found.append(candidate)
        candidate += QUARTER
    return found


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_slots_are_exactly_the_bookable_grid_times(case: dict) -> None:
    schedule, service, rules, now = case["schedule"], case["service"], case["policy"], case["now"]
    slots = find_free_slots(
        [schedule], service, policy=rules, now=now, after=case["after"], limit=10_000
    )
    assert slots == sorted(set(slots))
    working = compute_working_intervals(
        schedule.shifts, timezone=rules.timezone, start=now, end=now + timedelta(days=5)
    )
    for slot in slots:
        occupied = Interval(slot.start, slot.start + service.occupies)
        assert slot.end == slot.start + service.duration
        assert slot.start >= now + rules.min_notice
        assert case["after"] is None or slot.start >= case["after"]
        assert slot.start < now + timedelta(days=rules.max_days_ahead)
        assert _on_grid(slot.start, rules)
        assert not any(_overlapping(occupied, busy) for busy in schedule.busy)
        assert not any(_overlapping(occupied, off) for off in schedule.time_off)
        assert any(w.start <= occupied.start and occupied.end <= w.end for w in working)
        assert check_booking(schedule, service, policy=rules, start=slot.start, now=now) == []
    assert [slot.start for slot in slots] == _brute_force(case)


@settings(max_examples=60, deadline=None)
@given(scenarios(), scenarios(), st.integers(1, 12))
def test_several_staff_merge_into_the_earliest_slots(first: dict, second: dict, limit: int) -> None:
    rules, now, service = first["policy"], first["now"], first["service"]
    a = first["schedule"]
    b = StaffSchedule(
        a.staff_id + 10,
        second["schedule"].shifts,
        busy=second["schedule"].busy,
        service_ids=a.service_ids,
    )
    each = [
        slot
        for schedule in (a, b)
        for slot in find_free_slots([schedule], service, policy=rules, now=now, limit=10_000)
    ]
    assert (
        find_free_slots([b, a], service, policy=rules, now=now, limit=limit) == sorted(each)[:limit]
    )


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_free_intervals_are_disjoint_sorted_and_inside_working_hours(case: dict) -> None:
    schedule, tz = case["schedule"], case["policy"].timezone
    start, end = case["now"], case["now"] + timedelta(days=2)
    working = compute_working_intervals(schedule.shifts, timezone=tz, start=start, end=end)
    free = compute_free_intervals(schedule, timezone=tz, start=start, end=end)
    assert all(i.start < i.end for i in free)
    assert all(a.end < b.start for a, b in zip(free, free[1:], strict=False))
    for interval in free:
        assert start <= interval.start and interval.end <= end
        assert any(w.start <= interval.start and interval.end <= w.end for w in working)
        blocked = schedule.busy + schedule.time_off
        assert not any(_overlapping(interval, other) for other in blocked)
    # and nothing free is lost: sample every 5 minutes
    point = start
    while point < end:
        expected = _covers(working, point) and not _covers(
            list(schedule.busy + schedule.time_off), point
        )
        assert _covers(free, point) == expected
        point += timedelta(minutes=5)


def _overlapping(a: Interval, b: Interval) -> bool:
    return a.start < b.end and b.start < a.end

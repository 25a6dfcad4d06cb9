"""Available minutes by staff and local hour: DST days, time off, shared rotas."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from analytics.capacity import compute_capacity
from scheduling.availability import Interval, StaffSchedule
from scheduling.catalog import Shift
from scheduling.timezones import local_day_bounds, offset_changes

BERLIN = ZoneInfo("Europe/Berlin")


def _schedule(staff_id: int, *shifts: tuple[int, int, int], off=()) -> StaffSchedule:
    return StaffSchedule(
        staff_id=staff_id,
        shifts=tuple(Shift(weekday=d, start=time(a), end=time(b)) for d, a, b in shifts),
        time_off=tuple(off),
    )


def test_a_night_shift_over_the_spring_switch_loses_an_hour() -> None:
    # Sunday 29 March 2026: 01:00-05:00 local is 3 real hours (02:00 jumps to 03:00).
    start, end = local_day_bounds(datetime(2026, 3, 29).date(), "Europe/Berlin")
    capacity = compute_capacity([_schedule(1, (6, 1, 5))], tz="Europe/Berlin", start=start, end=end)
    assert capacity["minutes"].sum() == 180
    assert set(capacity["hour"]) == {1, 3, 4}  # there is no 02:00 that day
    assert set(capacity["weekday"]) == {6}


def test_time_off_and_shared_rotas() -> None:
    day = datetime(2026, 6, 1).date()  # a Monday
    start, end = local_day_bounds(day, "Europe/Berlin", days=7)
    off = Interval(
        datetime(2026, 6, 1, 10, tzinfo=BERLIN), datetime(2026, 6, 1, 12, 30, tzinfo=BERLIN)
    )
    schedules = [_schedule(1, (0, 9, 17)), _schedule(2, (0, 9, 17), off=[off])]
    capacity = compute_capacity(schedules, tz="Europe/Berlin", start=start, end=end)
    by_staff = capacity.groupby("staff_id")["minutes"].sum()
    assert by_staff[1] == 480 and by_staff[2] == 480 - 150
    hour_12 = capacity[(capacity["staff_id"] == 2) & (capacity["hour"] == 12)]
    assert hour_12["minutes"].sum() == 30  # back at 12:30


def test_no_schedules_gives_an_empty_typed_frame() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    capacity = compute_capacity([], tz="Europe/Berlin", start=start, end=start.replace(day=8))
    assert capacity.empty and list(capacity.columns) == [
        "staff_id",
        "day",
        "weekday",
        "hour",
        "minutes",
    ]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_offset_changes_match_zoneinfo(tz: str) -> None:
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    changes = offset_changes(tz, start, end)
    assert changes[0][0] == start and len(changes) == 5  # four switches in two years
    zone = ZoneInfo(tz)
    for at, offset in changes[1:]:
        assert at.astimezone(zone).utcoffset().total_seconds() == offset
        before = datetime.fromtimestamp(at.timestamp() - 1, UTC).astimezone(zone)
        assert before.utcoffset().total_seconds() != offset

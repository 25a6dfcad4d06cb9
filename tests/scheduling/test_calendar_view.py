"""FullCalendar adapters: wall-clock round trips across DST, events and backgrounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.availability import Interval
from scheduling.calendar_view import (
    build_appointment_events,
    build_background_events,
    parse_calendar_time,
    to_wall_clock,
)


@pytest.mark.parametrize(
    ("instant", "tz", "wall"),
    [
        (datetime(2026, 3, 29, 8, 0, tzinfo=UTC), "Europe/Berlin", "2026-03-29T10:00Z"),  # CEST
        (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), "Europe/Berlin", "2026-03-28T10:00Z"),  # CET
        (datetime(2026, 10, 4, 0, 0, tzinfo=UTC), "Australia/Sydney", "2026-10-04T11:00Z"),
        (datetime(2026, 4, 5, 0, 0, tzinfo=UTC), "Australia/Sydney", "2026-04-05T10:00Z"),  # AEST
    ],
)
def test_wall_clock_round_trip_on_dst_days(instant: datetime, tz: str, wall: str) -> None:
    assert to_wall_clock(instant, tz) == wall
    assert parse_calendar_time(wall, tz) == instant
    assert parse_calendar_time(wall.replace("Z", ":00.000Z"), tz) == instant


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)))
def test_round_trip_property(naive: datetime) -> None:
    instant = naive.replace(second=0, microsecond=0, tzinfo=UTC)
    for tz in ("Europe/Berlin", "Australia/Sydney", "America/New_York"):
        wall = to_wall_clock(instant, tz)
        back = parse_calendar_time(wall, tz)
        # Ambiguous autumn hours map to their first occurrence, so allow exactly 1 h back.
        assert (instant - back).total_seconds() in (0, 3600)


def _row(status: str) -> dict:
    return {
        "id": 7, "status": status, "customer_name": None, "service_name": "Cut",
        "staff_name": "Anna", "staff_color": "#112233",
        "starts_at": datetime(2026, 6, 1, 8, tzinfo=UTC),
        "ends_at": datetime(2026, 6, 1, 8, 45, tzinfo=UTC),
    }  # fmt: skip


def test_appointment_events_show_customer_service_status_and_lock_finished() -> None:
    [booked] = build_appointment_events([_row("booked")], "Europe/Berlin")
    assert booked["title"] == "Walk-in · Cut · Booked"
    assert (booked["start"], booked["end"]) == ("2026-06-01T10:00Z", "2026-06-01T10:45Z")
    assert booked["editable"] and booked["backgroundColor"] == "#112233"
    [done] = build_appointment_events([_row("completed")], "Europe/Berlin")
    assert not done["editable"] and done["title"].endswith("Completed")


def test_backgrounds_show_hours_only_for_one_staff_member() -> None:
    hours = {
        1: [Interval(datetime(2026, 6, 1, 7, tzinfo=UTC), datetime(2026, 6, 1, 15, tzinfo=UTC))]
    }
    off = {1: [Interval(datetime(2026, 6, 2, 7, tzinfo=UTC), datetime(2026, 6, 2, 9, tzinfo=UTC))]}
    one = build_background_events(hours, off, "Europe/Berlin", single_staff=True)
    many = build_background_events(hours, off, "Europe/Berlin", single_staff=False)
    assert [e["title"] for e in one] == ["Working hours", "Time off"]
    assert [e["title"] for e in many] == ["Time off"]
    assert all(e["display"] == "background" for e in one)
    assert one[0]["start"] == "2026-06-01T09:00Z"

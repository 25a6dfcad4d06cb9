"""Staffing from forecast demand and a hand-built rota with known gaps.

The rota: stylist 1 works Saturdays 10:00-18:00, stylist 2 Saturdays 14:00-18:00. The
horizon is the four weeks Mon 1 - Sun 28 June 2026 (four Saturdays). Bookings take an
hour. Forecast per Saturday hour: two bookings 10-14 (demand for two stylists, one on
the rota), 1.2 bookings 14-17 (72 of 120 minutes), half a booking 17-18 (30 of 120).
"""

from __future__ import annotations

import json
from datetime import date, time

import pandas as pd
import pytest

from analytics.capacity import compute_capacity
from forecasting.series import build_future_frame
from forecasting.staffing import (
    STAFFING_COLUMNS,
    ShiftSuggestion,
    build_staffing_facts,
    compute_minutes_per_booking,
    compute_staffing,
    suggest_shift_changes,
)
from scheduling.availability import StaffSchedule
from scheduling.catalog import Shift
from scheduling.timezones import local_day_bounds

TZ = "Europe/Berlin"
START, END = date(2026, 6, 1), date(2026, 6, 28)
SATURDAY = {**dict.fromkeys(range(10, 14), 2.0), **dict.fromkeys(range(14, 17), 1.2), 17: 0.5}


def _future(*rota: tuple[int, int, int, int]) -> pd.DataFrame:
    """Future frame from (staff_id, weekday, from hour, to hour) shifts."""
    schedules = [
        StaffSchedule(staff_id=staff, shifts=(Shift(weekday=day, start=time(a), end=time(b)),))
        for staff, day, a, b in rota
    ]
    lo, hi = local_day_bounds(START, TZ, days=(END - START).days + 1)
    capacity = compute_capacity(schedules, tz=TZ, start=lo, end=hi)
    return build_future_frame(capacity, start=START, end=END, tz=TZ)


def _forecast(future: pd.DataFrame, by_hour: dict[int, float], upper: float = 1.2) -> pd.DataFrame:
    """Saturday demand by hour; exactly 0 where closed, as the contract says."""
    saturday = future["ds"].dt.day_of_week == 5
    yhat = future["ds"].dt.hour.map(by_hour).fillna(0.0).where(saturday & future["is_open"], 0.0)
    return pd.DataFrame(
        {"ds": future["ds"], "yhat": yhat, "yhat_lower": yhat * 0.8, "yhat_upper": yhat * upper}
    )


ROTA = ((1, 5, 10, 18), (2, 5, 14, 18))


def test_one_stylist_where_two_are_needed_gets_the_exact_suggestion() -> None:
    future = _future(*ROTA)
    staffing = compute_staffing(_forecast(future, SATURDAY), future, minutes_per_booking=60.0)
    assert list(staffing.columns) == STAFFING_COLUMNS and len(staffing) == len(future)
    suggestions = suggest_shift_changes(staffing)
    assert suggestions == [
        ShiftSuggestion(
            flag="under", weekday=5, start=time(10), end=time(14), staff_delta=1,
            expected_hours=16.0, weeks=4,
            text="Add 1 stylist Sat 10:00–14:00 (about 16.0 h short over 4 weeks)",
        ),
        ShiftSuggestion(
            flag="over", weekday=5, start=time(17), end=time(18), staff_delta=-1,
            expected_hours=6.0, weeks=4,
            text="Sat 17:00–18:00: 2 stylists idle most of the time "
            "(about 6.0 h idle over 4 weeks); consider shortening a shift",
        ),
    ]  # fmt: skip


def test_hourly_flags_shortfall_and_slack() -> None:
    future = _future(*ROTA)
    staffing = compute_staffing(_forecast(future, SATURDAY), future, minutes_per_booking=60.0)
    first = staffing[staffing["ds"].dt.date == date(2026, 6, 6)].set_index("hour")
    assert first.loc[10:17, "flag"].tolist() == ["under"] * 4 + ["ok"] * 3 + ["over"]
    assert first.loc[10, ["demand_minutes", "capacity_minutes", "utilization"]].tolist() == [
        120.0,
        60.0,
        2.0,
    ]
    assert first.loc[10, "shortfall_hours"] == 1.0 and first.loc[10, "slack_hours"] == 0.0
    assert first.loc[15, "utilization"] == pytest.approx(0.6)
    assert first.loc[17, "slack_hours"] == 1.5
    closed = staffing[staffing["capacity_minutes"] == 0]
    assert (closed["flag"] == "ok").all() and closed["utilization"].isna().all()
    assert closed[["shortfall_hours", "slack_hours"]].eq(0).all().all()
    assert staffing["flag"].value_counts().to_dict() == {"ok": len(staffing) - 20, "under": 16,
                                                         "over": 4}  # fmt: skip


def test_the_upper_bound_flags_risk_before_expected_demand_runs_out() -> None:
    future = _future((1, 5, 10, 12))
    # 48 of 60 minutes expected (80 %): fits, but the upper bound reaches 60 (100 %).
    forecast = _forecast(future, {10: 0.8, 11: 0.8}, upper=1.25)
    staffing = compute_staffing(forecast, future, minutes_per_booking=60.0)
    assert staffing.loc[staffing["capacity_minutes"] > 0, "flag"].eq("under").all()
    assert staffing["shortfall_hours"].sum() == 0.0
    [suggestion] = suggest_shift_changes(staffing, role="barber")
    assert suggestion.staff_delta == 1 and suggestion.expected_hours == 0.0
    assert suggestion.text == "Add 1 barber Sat 10:00–12:00 (busy weeks could reach capacity)"
    calm = compute_staffing(forecast, future, minutes_per_booking=60.0, high=1.1)
    assert calm["flag"].eq("ok").all() and suggest_shift_changes(calm) == []


def test_long_bookings_fill_the_next_hour_and_per_hour_lengths_apply() -> None:
    future = _future((1, 5, 10, 13))
    forecast = _forecast(future, {10: 1.0, 11: 0.0, 12: 1.0}, upper=1.0)
    lengths = pd.DataFrame({"weekday": [5], "hour": [10], "minutes_per_booking": [90.0]})
    staffing = compute_staffing(forecast, future, minutes_per_booking=lengths)
    saturday = staffing[staffing["ds"].dt.date == date(2026, 6, 6)].set_index("hour")
    # 10:00 takes 90 minutes (60 + 30 in 11:00); 12:00 falls back to the table's mean, 90.
    assert saturday.loc[10:13, "demand_minutes"].tolist() == [60.0, 30.0, 60.0, 30.0]
    assert saturday.loc[13, "flag"] == "ok"  # past closing: no capacity, never flagged


def test_minutes_per_booking_from_history() -> None:
    hourly = pd.DataFrame(
        {
            "ds": pd.to_datetime(["2026-06-06 10:00", "2026-06-13 10:00", "2026-06-06 11:00"]),
            "y": [2.0, 1.0, 0.0],
            "booked_minutes": [90.0, 60.0, 0.0],
        }
    )
    assert compute_minutes_per_booking(hourly).to_dict("records") == [
        {"weekday": 5, "hour": 10, "minutes_per_booking": 50.0}
    ]


def test_a_slot_flagged_in_only_a_minority_of_weeks_is_not_suggested() -> None:
    future = _future(*ROTA)
    forecast = _forecast(future, SATURDAY)
    quiet = forecast["ds"].dt.date != date(2026, 6, 6)  # 10-14 busy on the first only
    forecast.loc[quiet & (forecast["ds"].dt.hour < 14), ["yhat", "yhat_upper"]] *= 0.25
    staffing = compute_staffing(forecast, future, minutes_per_booking=60.0)
    assert (staffing["flag"] == "under").sum() == 4  # one Saturday of four
    assert [s.flag for s in suggest_shift_changes(staffing)] == ["over"]


def test_staffing_facts_are_plain_json() -> None:
    future = _future(*ROTA)
    staffing = compute_staffing(_forecast(future, SATURDAY), future, minutes_per_booking=60.0)
    facts = build_staffing_facts(staffing, suggest_shift_changes(staffing))
    assert json.loads(json.dumps(facts)) == facts
    assert facts[0] == {
        "fact": "staffing_summary",
        "weeks": 4,
        "open_hours": 4 * 8,
        "under_staffed_hours": 16,
        "over_staffed_hours": 4,
        "shortfall_hours": 16.0,
        "slack_hours": 15.6,  # 4 weeks x (3 x 0.8 h at 14-17 + 1.5 h at 17)
        "utilization": round((4 * 120 + 3 * 72 + 30) / (4 * 60 + 4 * 120), 3),
    }
    assert facts[1]["weekday"] == "Sat" and (facts[1]["start"], facts[1]["end"]) == (
        "10:00",
        "14:00",
    )
    assert [fact["staff_delta"] for fact in facts[1:]] == [1, -1]

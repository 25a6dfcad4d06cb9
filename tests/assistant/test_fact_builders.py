"""Fact builders (pure): hand-built frames in, facts out. Idle and quiet windows are
merged from consecutive hours and split into 2-4 h; local weekdays and hours survive a
DST switch; money leaves in major units; staff have no names; empty inputs give no facts.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.capacity import compute_capacity
from analytics.kpis import SUM_COLUMNS
from assistant import fact_builders as build
from assistant.facts import Fact
from forecasting.staffing import ShiftSuggestion, compute_staffing
from scheduling.availability import StaffSchedule
from scheduling.catalog import Shift
from scheduling.timezones import local_day_bounds

MONDAY = date(2026, 1, 5)
PROFILE_COLUMNS = ["dow", "hour", "minute", "minutes", "bookings"]


def capacity_frame(hours: dict[int, range], *, weeks: int = 2, staff: int = 1) -> pd.DataFrame:
    """One staff member's full hours (weekday -> hours) over `weeks` weeks from MONDAY."""
    rows = []
    for week in range(weeks):
        for weekday, span in hours.items():
            day = pd.Timestamp(MONDAY + timedelta(days=7 * week + weekday))
            rows += [(staff, day, weekday, hour, 60.0) for hour in span]
    frame = pd.DataFrame(rows, columns=["staff_id", "day", "weekday", "hour", "minutes"])
    return frame.astype({"day": "datetime64[s]"})


def profile_frame(rows: list[tuple[int, int, int, int, int]]) -> pd.DataFrame:
    """Start profile rows (dow with 0 = Sunday, hour, minute, minutes, bookings)."""
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def ids(facts: list[Fact]) -> list[str]:
    return [fact.id for fact in facts]


# --- idle windows ---


def test_low_hours_merge_into_windows_of_two_to_four_hours() -> None:
    capacity = capacity_frame({0: range(9, 17), 1: range(9, 17), 4: range(20, 24)})
    profile = profile_frame([
        (1, 9, 0, 60, 2), (1, 16, 0, 60, 2),  # Monday 09-10 and 16-17 fully booked (2 weeks)
        (2, 9, 0, 60, 2), (2, 11, 0, 60, 2),  # Tuesday: 10-11 alone is free, then 12-17
        (2, 12, 0, 30, 2),  # half of 12-13 booked: 0.5 is not "mostly free"
    ])  # fmt: skip
    facts = build.build_idle_facts(capacity, profile, weeks=2, top=10)
    assert sorted(ids(facts)) == sorted([
        "idle.Mon.10:00-13:00", "idle.Mon.13:00-16:00",  # 6 free hours: 3 + 3
        "idle.Tue.13:00-17:00",  # the single free hour 10-11 is no window
        "idle.Fri.20:00-24:00",  # a window to midnight ends at 24:00
    ])  # fmt: skip
    monday = next(f for f in facts if f.id == "idle.Mon.10:00-13:00")
    assert monday.topic == "utilization" and monday.value == 0.0
    assert monday.detail == {
        "weekday": "Mon", "start": "10:00", "end": "13:00", "free_hours_per_week": 3.0, "weeks": 2,
    }  # fmt: skip


def test_long_runs_split_evenly_and_the_freest_windows_come_first() -> None:
    capacity = capacity_frame({2: range(8, 17), 3: range(9, 14)}, weeks=1)
    capacity.loc[capacity["weekday"] == 3, "minutes"] = 120.0  # two people on Thursday
    facts = build.build_idle_facts(capacity, profile_frame([]), weeks=1, top=2)
    # Wednesday's 9 hours: 3 + 3 + 3 (1 person); Thursday's 5: 3 + 2 (2 people)
    assert ids(facts) == ["idle.Thu.09:00-12:00", "idle.Thu.12:00-14:00"]
    assert [f.detail["free_hours_per_week"] for f in facts] == [6.0, 4.0]
    everything = build.build_idle_facts(capacity, profile_frame([]), weeks=1, top=10)
    assert {f.id for f in everything if f.id.startswith("idle.Wed")} == {
        "idle.Wed.08:00-11:00", "idle.Wed.11:00-14:00", "idle.Wed.14:00-17:00",
    }  # fmt: skip


def test_windows_keep_their_local_hours_across_a_dst_switch() -> None:
    """Sunday 09-17 in Berlin on the spring-forward Sunday (29 March 2026) and the
    Sunday after: the windows stay at 09:00 local, and every hour counts 60 minutes."""
    tz = "Europe/Berlin"
    schedule = StaffSchedule(staff_id=4, shifts=(Shift(weekday=6, start=time(9), end=time(17)),))
    start, end = local_day_bounds(date(2026, 3, 23), tz, days=14)
    capacity = compute_capacity([schedule], tz=tz, start=start, end=end)
    profile = profile_frame([(0, 9, 0, 60, 2)])  # Sundays 09-10 local, booked both weeks
    facts = build.build_idle_facts(capacity, profile, weeks=2)
    assert ids(facts) == ["idle.Sun.10:00-14:00", "idle.Sun.14:00-17:00"]
    assert [f.detail["free_hours_per_week"] for f in facts] == [4.0, 3.0]


def test_busy_hours_and_empty_inputs_give_no_idle_facts() -> None:
    capacity = capacity_frame({0: range(9, 12)}, weeks=1)
    busy = profile_frame([(1, 9, 0, 180, 1)])  # one 3-hour booking fills Monday 09-12
    assert build.build_idle_facts(capacity, busy, weeks=1) == []
    empty = capacity.iloc[0:0]
    assert build.build_idle_facts(empty, profile_frame([]), weeks=8) == []


# --- KPIs, services, staff ---


def kpi_table() -> pd.DataFrame:
    rows = [
        ("bookings", "Bookings", 120.0, 100.0, 0.2, "count", "up"),
        ("revenue", "Revenue", 123456.0, 100000.0, 0.23456, "money", "up"),
        ("no_show_rate", "No-show rate", 0.05, 0.07, -0.02, "percent", "down"),
        ("rebooking_rate", "Rebooking rate", math.nan, math.nan, math.nan, "percent", "up"),
        ("not_a_kpi", "Unknown", 1.0, 1.0, 0.0, "count", "up"),
    ]
    columns = ["key", "label", "value", "previous", "change", "unit", "better"]
    return pd.DataFrame(rows, columns=columns).assign(definition="")


def test_kpi_facts_carry_major_units_and_no_nan() -> None:
    facts = {f.id: f for f in build.build_kpi_facts(kpi_table(), period_days=28)}
    assert list(facts) == ["kpi.bookings", "kpi.revenue", "kpi.no_show_rate", "kpi.rebooking_rate"]
    revenue = facts["kpi.revenue"]
    assert revenue.value == 1234.56 and revenue.detail["previous"] == 1000.0
    assert revenue.label == "Revenue, last 28 days" and revenue.change == 0.2346
    assert facts["kpi.bookings"].value == 120 and isinstance(facts["kpi.bookings"].value, int)
    assert facts["kpi.no_show_rate"].detail == {"kind": "percent", "better": "down",
                                                "previous": 0.07}  # fmt: skip
    blank = facts["kpi.rebooking_rate"]
    assert blank.value is None and blank.change is None and blank.detail["previous"] is None
    assert build.build_kpi_facts(kpi_table().iloc[0:0], period_days=28) == []


def summary_frame() -> pd.DataFrame:
    """load_summary's shape: current, staff_id, service_id and the sums."""
    rows = [
        (True, 1, 10, 6, 5, 0, 0, 0, 25000, 300.0, 0.0),
        (True, 2, 11, 2, 2, 0, 0, 0, 8000, 120.0, 0.0),
        (False, 1, 10, 3, 3, 0, 0, 0, 15000, 180.0, 0.0),
        (False, 2, 12, 4, 4, 0, 0, 0, 9000, 240.0, 0.0),
    ]
    return pd.DataFrame(rows, columns=["current", "staff_id", "service_id", *SUM_COLUMNS])


def test_service_facts_compare_periods_and_carry_names_as_data() -> None:
    services = pd.DataFrame({"service_id": [10, 11], "service": ["Cut", "Colour"]})
    facts = build.build_service_facts(summary_frame(), services, period_days=28)
    assert ids(facts) == ["service.10", "service.11", "service.12"]
    cut, colour, gone = facts
    assert cut.value == 6 and cut.change == 1.0 and cut.label == "Cut: bookings, last 28 days"
    assert cut.detail == {"name": "Cut", "revenue": 250.0, "previous_bookings": 3,
                          "share": 0.75}  # fmt: skip
    assert colour.change is None  # nothing to compare with
    assert gone.value == 0 and gone.change == -1.0 and gone.detail["name"] == "(removed)"
    assert build.build_service_facts(summary_frame().iloc[0:0], services, period_days=28) == []


def test_staff_facts_are_anonymous_with_both_periods_utilization() -> None:
    capacity = capacity_frame({0: range(9, 19)}, weeks=1)  # staff 1: 600 minutes
    previous = capacity_frame({0: range(9, 15)}, weeks=1)  # staff 1: 360 minutes before
    facts = build.build_staff_facts(summary_frame(), capacity, previous)
    assert ids(facts) == ["staff.1", "staff.2"]
    first = facts[0]
    assert first.value == 0.5 and first.detail["previous_utilization"] == 0.5
    assert first.change == 0.0 and first.label == "Staff #1: utilization"
    assert first.detail["label"] == "Staff #1" and first.detail["revenue"] == 250.0
    second = facts[1]  # bookings but no working hours: no utilization
    assert second.value is None and second.detail["bookings"] == 2
    empty = build.build_staff_facts(summary_frame().iloc[0:0], capacity.iloc[0:0], previous)
    assert empty == []


# --- forecast, staffing ---


def week_of_forecast() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One week of hours: open 09-17 every day, 2 bookings an hour, Saturday 12-15 busy
    (6), Tuesday 14-17 quiet (0.5); closed hours have demand too (must be ignored)."""
    ds = pd.date_range("2026-03-23", periods=7 * 24, freq="h")
    open_ = (ds.hour >= 9) & (ds.hour < 17)
    yhat = np.where(open_, 2.0, 5.0)
    yhat[(ds.day_of_week == 5) & (ds.hour >= 12) & (ds.hour < 15)] = 6.0
    yhat[(ds.day_of_week == 1) & (ds.hour >= 14) & (ds.hour < 17)] = 0.5
    forecast = pd.DataFrame({"ds": ds, "yhat": yhat, "yhat_lower": yhat / 2,
                             "yhat_upper": yhat * 1.5})  # fmt: skip
    future = pd.DataFrame({"ds": ds, "is_open": open_, "capacity_minutes": open_ * 120.0})
    return forecast, future


def test_peak_and_quiet_windows_come_from_open_hours() -> None:
    forecast, future = week_of_forecast()
    facts = build.build_peak_facts(forecast, future, top=1)
    assert ids(facts) == ["peak.Sat.12:00-15:00", "quiet.Tue.14:00-17:00"]
    peak, quiet = facts
    assert peak.value == 6.0 and peak.detail["kind"] == "peak" and peak.detail["hours"] == 3
    assert quiet.value == 0.5 and quiet.detail == {
        "weekday": "Tue", "start": "14:00", "end": "17:00", "kind": "quiet", "hours": 3,
    }  # fmt: skip
    closed = future.assign(is_open=False)
    assert build.build_peak_facts(forecast, closed) == []


def test_forecast_model_fact_reads_the_winner_row() -> None:
    metrics = pd.DataFrame({"model": ["prophet", "seasonal_naive"], "mae_ratio": [0.81234, 1.0],
                            "coverage": [0.79, 0.6]})  # fmt: skip
    (fact,) = build.build_forecast_model_facts(
        metrics, winner="prophet", horizon_days=28, extra={"current_data": True}
    )
    assert fact.id == "forecast.model" and fact.value == 0.812
    assert fact.detail == {"model": "prophet", "coverage": 0.79, "horizon_days": 28,
                           "current_data": True}  # fmt: skip
    (profile,) = build.build_forecast_model_facts(
        metrics.iloc[0:0], winner="hour_of_week_mean", horizon_days=14, extra={}
    )
    assert profile.value is None and profile.detail["model"] == "hour_of_week_mean"


def test_staffing_facts_summarise_and_name_windows() -> None:
    forecast, future = week_of_forecast()
    staffing = compute_staffing(forecast, future, minutes_per_booking=60.0)
    suggestions = [
        ShiftSuggestion("under", 5, time(12), time(15), 2, 3.0, 1, "Add 2"),
        ShiftSuggestion("over", 6, time(21), time(0), -1, 5.0, 1, "Idle"),
    ]
    facts = build.build_staffing_facts(staffing, suggestions)
    assert ids(facts) == [
        "staffing.summary", "staffing.under.Sat.12:00-15:00", "staffing.over.Sun.21:00-24:00",
    ]  # fmt: skip
    summary = facts[0]
    assert summary.detail["open_hours"] == 56 and summary.detail["weeks"] == 1
    assert summary.value is not None and 0 < summary.value < 2
    under = facts[1]
    assert under.value == 2 and under.detail["staff_delta"] == 2
    assert under.detail["expected_hours"] == 3.0 and under.detail["flag"] == "under"
    assert build.build_staffing_facts(staffing.iloc[0:0], []) == []


# --- churn, no-shows ---


def test_churn_facts_from_bands_and_the_model_evaluation() -> None:
    bands = pd.DataFrame({
        "band": ["high", "medium", "low", "too_new"],
        "label": ["High", "Medium", "Low", "Too new to score"],
        "customers": [30, 50, 15, 5],
        "value_at_stake": [1234.5, 2000.0, 900.0, 0.0],
    })  # fmt: skip
    evaluation = {"metrics": {"model": {"roc_auc": 0.8123}, "recency": {"roc_auc": 0.74},
                              "heuristic": {"roc_auc": None}},
                  "verdict": {"level": "act", "text": "Good enough to act on"}}  # fmt: skip
    facts = {f.id: f for f in build.build_churn_facts(bands, evaluation)}
    assert list(facts) == ["churn.model", "churn.band.high", "churn.band.medium",
                           "churn.band.low", "churn.band.too_new"]  # fmt: skip
    assert facts["churn.model"].value == 0.812
    assert facts["churn.model"].detail == {"verdict": "act", "baseline_auc": 0.74}
    high = facts["churn.band.high"]
    assert high.value == 30 and high.detail == {"band": "high", "spend_at_stake": 1234.5,
                                                "share": 0.3}  # fmt: skip
    assert "churn.model" not in ids(build.build_churn_facts(bands, None))
    assert build.build_churn_facts(bands.assign(customers=0), evaluation) == []


def test_noshow_facts_add_up_risk_and_revenue() -> None:
    scores = pd.DataFrame({
        "appointment_id": [1, 2, 3], "score": [0.5, 0.1, 0.3], "band": ["high", "low", "high"],
        "price_cents": [4000, 2000, 10000],
    })  # fmt: skip
    (fact,) = build.build_noshow_facts(scores, method="model")
    assert fact.id == "noshow.upcoming" and fact.value == 3
    assert fact.detail == {"high_risk": 2, "expected_no_shows": 0.9, "revenue_at_risk": 52.0,
                           "method": "model"}  # fmt: skip
    assert build.build_noshow_facts(scores.iloc[0:0], method="own rates") == []


@pytest.mark.parametrize("weekday", range(7))
def test_window_ids_use_the_contracts_day_names(weekday: int) -> None:
    capacity = capacity_frame({weekday: range(0, 3)}, weeks=1)
    (fact,) = build.build_idle_facts(capacity, profile_frame([]), weeks=1)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[weekday]
    assert fact.id == f"idle.{day}.00:00-03:00" and fact.detail["weekday"] == day

"""Hourly series in local wall-clock time: DST days in several zones, closed hours,
future frames, daily totals and data fingerprints."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time

import pandas as pd
import pytest

from analytics.capacity import compute_capacity
from forecasting.series import (
    SERIES_COLUMNS,
    build_daily_series,
    build_future_frame,
    build_hourly_series,
    build_local_hours,
    compute_fingerprint,
)
from scheduling.availability import StaffSchedule
from scheduling.catalog import Shift
from scheduling.timezones import local_day_bounds

ROOT = __file__.rsplit("/tests/", 1)[0]


def _counts(*rows: tuple[str, int, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "hour", "bookings", "booked_minutes"]).astype(
        {"day": "datetime64[s]"}
    )


def _capacity(start: date, end: date, tz: str, *shifts: tuple[int, int, int]) -> pd.DataFrame:
    """One staff member's capacity from weekly shifts (weekday, from hour, to hour)."""
    schedule = StaffSchedule(
        staff_id=1, shifts=tuple(Shift(weekday=d, start=time(a), end=time(b)) for d, a, b in shifts)
    )
    lo, hi = local_day_bounds(start, tz, days=(end - start).days + 1)
    return compute_capacity([schedule], tz=tz, start=lo, end=hi)


@pytest.mark.parametrize(
    ("tz", "day", "rows", "missing_hour"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23, 2),
        ("Europe/Berlin", date(2026, 10, 25), 24, None),
        ("America/New_York", date(2026, 3, 8), 23, 2),
        ("America/New_York", date(2026, 11, 1), 24, None),
        ("Australia/Lord_Howe", date(2026, 10, 4), 24, None),  # 02:00 -> 02:30: half an hour
        ("Asia/Kathmandu", date(2026, 6, 1), 24, None),  # +05:45
    ],
)
def test_every_existing_local_hour_appears_once(
    tz: str, day: date, rows: int, missing_hour: int | None
) -> None:
    hours = build_local_hours(start=day, end=day, tz=tz)
    assert len(hours) == rows and hours.is_unique and hours.is_monotonic_increasing
    assert str(hours.dtype) == "datetime64[ns]"
    expected = [h for h in range(24) if h != missing_hour]
    assert hours.dt.hour.tolist() == expected and (hours.dt.date == day).all()


def test_dst_weekends_keep_every_booking_and_merge_the_repeated_hour() -> None:
    tz = "Europe/Berlin"
    counts = _counts(
        ("2026-03-29", 1, 1, 30.0),
        ("2026-03-29", 3, 2, 60.0),
        ("2026-10-25", 2, 2, 75.0),  # 02:30 CEST and 02:30 CET, grouped in SQL as one hour
    )
    sat, sun = date(2026, 3, 28), date(2026, 3, 29)
    spring_capacity = _capacity(sat, sun, tz, (6, 0, 6))  # Sundays 00:00-06:00
    spring = build_hourly_series(counts, spring_capacity, start=sat, end=sun, tz=tz)
    assert len(spring) == 24 + 23 and spring["y"].sum() == 3.0
    assert list(spring.columns) == SERIES_COLUMNS
    sunday = spring[spring["ds"].dt.day == 29]
    assert sunday["capacity_minutes"].sum() == 300  # 00:00-06:00 less the skipped hour
    autumn = date(2026, 10, 25)
    fall_capacity = _capacity(autumn, autumn, tz, (6, 0, 6))
    fall = build_hourly_series(counts, fall_capacity, start=autumn, end=autumn, tz=tz)
    assert len(fall) == 24 and fall["y"].sum() == 2.0
    repeated = fall.set_index("ds").loc[pd.Timestamp("2026-10-25 02:00")]
    assert repeated["y"] == 2.0 and repeated["capacity_minutes"] == 120.0


def test_closed_hours_stay_in_the_frame_flagged_closed() -> None:
    day = date(2026, 6, 6)  # a Saturday
    capacity = _capacity(day, day, "Europe/Berlin", (5, 10, 14))
    counts = _counts(("2026-06-06", 11, 3, 135.0), ("2026-06-06", 18, 1, 45.0))  # 18: walk-in
    series = build_hourly_series(counts, capacity, start=day, end=day, tz="Europe/Berlin")
    open_hours = series.loc[series["is_open"], "ds"].dt.hour.tolist()
    assert open_hours == [10, 11, 12, 13, 18]  # a booking opens an hour without a rota
    assert series["is_open"].dtype == bool and len(series) == 24
    assert series.loc[series["ds"].dt.hour == 11, ["y", "booked_minutes"]].values.tolist() == [
        [3.0, 135.0]
    ]
    assert series.loc[series["ds"].dt.hour == 3, "capacity_minutes"].item() == 0.0


def test_counts_at_a_local_hour_that_does_not_exist_are_refused() -> None:
    counts = _counts(("2026-03-29", 2, 1, 30.0))  # no 02:00 in Berlin that day
    empty = _capacity(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    with pytest.raises(ValueError, match="don't exist in Europe/Berlin"):
        build_hourly_series(
            counts, empty, start=date(2026, 3, 29), end=date(2026, 3, 29), tz="Europe/Berlin"
        )


def test_future_frame_and_daily_totals() -> None:
    start, end = date(2026, 3, 23), date(2026, 3, 29)  # Mon-Sun, DST on Sunday
    capacity = _capacity(start, end, "Europe/Berlin", (0, 9, 17), (6, 1, 4))
    future = build_future_frame(capacity, start=start, end=end, tz="Europe/Berlin")
    assert list(future.columns) == ["ds", "is_open", "capacity_minutes"]
    assert len(future) == 6 * 24 + 23 and future["is_open"].sum() == 8 + 2
    assert future["capacity_minutes"].sum() == 8 * 60 + 2 * 60
    counts = _counts(("2026-03-23", 9, 4, 0.0), ("2026-03-29", 3, 2, 0.0))
    hourly = build_hourly_series(counts, capacity, start=start, end=end, tz="Europe/Berlin")
    daily = build_daily_series(hourly)
    assert daily["ds"].tolist() == list(pd.date_range("2026-03-23", "2026-03-29"))
    assert daily["y"].tolist() == [4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]


def _series_for_fingerprint() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ds": pd.date_range("2026-06-01", periods=48, freq="h"),
            "y": [float(i % 5) for i in range(48)],
            "is_open": [8 <= i % 24 < 18 for i in range(48)],
        }
    )


def test_fingerprint_is_stable_and_changes_with_any_value_or_parameter() -> None:
    series = _series_for_fingerprint()
    params = {"horizon_days": 28, "since": date(2026, 1, 1)}
    reference = compute_fingerprint(series, extra=params)
    assert len(reference) == 64
    assert compute_fingerprint(series.copy(), extra=dict(reversed(params.items()))) == reference
    changed = series.copy()
    changed.loc[17, "y"] += 1.0
    assert compute_fingerprint(changed, extra=params) != reference
    closed = series.copy()
    closed.loc[30, "is_open"] = not closed.loc[30, "is_open"]
    assert compute_fingerprint(closed, extra=params) != reference
    shifted = series.assign(ds=series["ds"] + pd.Timedelta(hours=1))
    assert compute_fingerprint(shifted, extra=params) != reference
    assert compute_fingerprint(series, extra={**params, "horizon_days": 14}) != reference


def test_fingerprint_is_the_same_in_another_process() -> None:
    here = compute_fingerprint(_series_for_fingerprint(), extra={"scope": "business"})
    script = (
        "from tests.forecasting.test_series import _series_for_fingerprint as s\n"
        "from forecasting.series import compute_fingerprint as f\n"
        "print(f(s(), extra={'scope': 'business'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == here


def test_series_dtypes_follow_the_contract() -> None:
    day = date(2026, 6, 1)
    series = build_hourly_series(
        _counts(), _capacity(day, day, "Europe/Berlin"), start=day, end=day, tz="Europe/Berlin"
    )
    assert series.dtypes.astype(str).to_dict() == {
        "ds": "datetime64[ns]",
        "y": "float64",
        "is_open": "bool",
        "booked_minutes": "float64",
        "capacity_minutes": "float64",
    }
    assert not series["is_open"].any() and series["y"].eq(0).all()
    assert series["ds"].iloc[0] == datetime(2026, 6, 1)

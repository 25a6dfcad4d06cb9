"""Forecasting's SQL on SQLite and PostgreSQL: local hourly counts across both DST
changes of Europe/Berlin in 2026, and stored forecast runs (save, load, prune, tenancy).

Spring: Sun 29 March, 02:00 CET jumps to 03:00 CEST (01:00 UTC). Autumn: Sun 25 October,
03:00 CEST falls back to 02:00 CET (01:00 UTC), so 00:30 and 01:30 UTC are both 02:30.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.capacity import compute_capacity
from auth.roles import Actor, PermissionDenied
from data.booking_queries import load_schedules
from data.db import read_conn, write_tx
from data.forecasts import (
    KEEP_RUNS,
    load_forecast_run,
    load_hourly_counts,
    load_hourly_counts_by,
    load_latest_forecast_runs,
    save_forecast_run,
)
from data.schema import appointments, working_hours
from forecasting.series import build_hourly_series
from scheduling.timezones import local_day_bounds
from tests.factories import make_account, make_business, make_service, make_staff

TZ = "Europe/Berlin"


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _book(conn, business_id, staff_id, service_id, start, minutes=30, status="booked") -> None:
    conn.execute(
        appointments.insert().values(
            business_id=business_id, staff_id=staff_id, service_id=service_id,
            starts_at=start, ends_at=start + timedelta(minutes=minutes), status=status,
            price_cents=3000, created_at=start - timedelta(days=3),
            updated_at=start - timedelta(days=3),
        )
    )  # fmt: skip


def _night_shift(conn, business_id: int, staff_id: int) -> None:
    """Sundays 00:00-06:00 local: the DST switches fall inside the shift."""
    conn.execute(
        working_hours.insert().values(
            business_id=business_id, staff_id=staff_id, weekday=6,
            start_time=time(0), end_time=time(6),
        )
    )  # fmt: skip


def _world(engine: sa.Engine, business: int) -> dict[str, int]:
    with write_tx(engine) as conn:
        ids = {
            "staff": make_staff(conn, business),
            "other_staff": make_staff(conn, business),
            "service": make_service(conn, business),
            "other_service": make_service(conn, business),
            "analyst": make_account(conn, business, role="analyst"),
        }
        _night_shift(conn, business, ids["staff"])
    return ids


def _analyst(business: int, account_id: int) -> Actor:
    return Actor.for_account(account_id=account_id, business_id=business, role="analyst")


def _series(engine: sa.Engine, actor: Actor, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's counts from SQL, and its hourly series with the rota's capacity."""
    with read_conn(engine) as conn:
        counts = load_hourly_counts(conn, actor=actor, tz=TZ, start=day, end=day)
        start, end = local_day_bounds(day, TZ)
        schedules = load_schedules(conn, actor=actor, start=start, end=end, include_busy=False)
    capacity = compute_capacity(schedules, tz=TZ, start=start, end=end)
    return counts, build_hourly_series(counts, capacity, start=day, end=day, tz=TZ)


def test_fall_back_sums_both_occurrences_of_the_repeated_hour(
    engine: sa.Engine, business: int
) -> None:
    ids = _world(engine, business)
    with write_tx(engine) as conn:
        other = make_business(conn)
        foreign_staff, foreign_service = make_staff(conn, other), make_service(conn, other)
        _book(conn, business, ids["staff"], ids["service"], utc(10, 25, 0, 30))  # 02:30 CEST
        _book(conn, business, ids["staff"], ids["service"], utc(10, 25, 1, 30), 45)  # 02:30 CET
        _book(conn, business, ids["other_staff"], ids["service"], utc(10, 25, 1, 0), 60,
              status="cancelled")  # fmt: skip
        _book(conn, business, ids["staff"], ids["other_service"], utc(10, 25, 3, 30))  # 04:30
        _book(conn, other, foreign_staff, foreign_service, utc(10, 25, 0, 30))
    counts, series = _series(engine, _analyst(business, ids["analyst"]), date(2026, 10, 25))
    assert counts.to_dict("records") == [
        {"day": pd.Timestamp("2026-10-25"), "hour": 2, "bookings": 2, "booked_minutes": 75.0},
        {"day": pd.Timestamp("2026-10-25"), "hour": 4, "bookings": 1, "booked_minutes": 30.0},
    ]
    assert len(series) == 24 and series["ds"].is_unique
    two = series[series["ds"] == pd.Timestamp("2026-10-25 02:00")]
    assert two["y"].tolist() == [2.0] and two["booked_minutes"].tolist() == [75.0]
    assert two["capacity_minutes"].tolist() == [120.0]  # the shift works 02:00-03:00 twice
    assert series["y"].sum() == 3.0
    assert series["is_open"].sum() == 6  # 00:00-06:00; the rest of the day is closed


def test_spring_forward_day_has_23_hours_and_loses_no_booking(
    engine: sa.Engine, business: int
) -> None:
    ids = _world(engine, business)
    starts = [utc(3, 29, 0, 30), utc(3, 29, 1, 0), utc(3, 29, 1, 30)]  # 01:30, 03:00, 03:30
    with write_tx(engine) as conn:
        for start in starts:
            _book(conn, business, ids["staff"], ids["service"], start)
        _book(conn, business, ids["staff"], ids["service"], utc(3, 28, 22, 30))  # 28th 23:30
        _book(conn, business, ids["staff"], ids["service"], utc(3, 29, 22, 0))  # 30th 00:00
    counts, series = _series(engine, _analyst(business, ids["analyst"]), date(2026, 3, 29))
    assert list(zip(counts["day"].dt.day, counts["hour"], counts["bookings"], strict=True)) == [
        (29, 1, 1),
        (29, 3, 2),
    ]
    assert len(series) == 23
    assert pd.Timestamp("2026-03-29 02:00") not in set(series["ds"])
    booked = series[series["y"] > 0].set_index(series["ds"].dt.hour[series["y"] > 0])["y"]
    assert booked.to_dict() == {1: 1.0, 3: 2.0}
    assert series["capacity_minutes"].sum() == 5 * 60  # 00:00-06:00 minus the lost hour


def test_counts_honour_staff_and_service_filters_and_permissions(
    engine: sa.Engine, business: int
) -> None:
    ids = _world(engine, business)
    with write_tx(engine) as conn:
        _book(conn, business, ids["staff"], ids["service"], utc(6, 1, 8))  # 10:00 CEST
        _book(conn, business, ids["other_staff"], ids["other_service"], utc(6, 1, 8))
        _book(conn, business, ids["other_staff"], ids["service"], utc(6, 1, 9))  # 11:00
    actor = _analyst(business, ids["analyst"])
    day = date(2026, 6, 1)
    with read_conn(engine) as conn:

        def hours(**filters: int) -> list[tuple[int, int]]:
            frame = load_hourly_counts(conn, actor=actor, tz=TZ, start=day, end=day, **filters)
            return list(zip(frame["hour"], frame["bookings"], strict=True))

        assert hours() == [(10, 2), (11, 1)]
        assert hours(staff_id=ids["other_staff"]) == [(10, 1), (11, 1)]
        assert hours(service_id=ids["service"]) == [(10, 1), (11, 1)]
        assert hours(staff_id=ids["staff"], service_id=ids["other_service"]) == []
        by_staff = load_hourly_counts_by(
            conn, actor=actor, tz=TZ, start=day, end=day, by="staff_id"
        )
        assert list(by_staff.itertuples(index=False, name=None)) == [
            (ids["staff"], pd.Timestamp(day), 10, 1, 30.0),
            (ids["other_staff"], pd.Timestamp(day), 10, 1, 30.0),
            (ids["other_staff"], pd.Timestamp(day), 11, 1, 30.0),
        ]
        by_service = load_hourly_counts_by(
            conn, actor=actor, tz=TZ, start=day, end=day, by="service_id"
        )
        assert by_service[["service_id", "hour", "bookings"]].values.tolist() == [
            [ids["service"], 10, 1],
            [ids["service"], 11, 1],
            [ids["other_service"], 10, 1],
        ]
        with pytest.raises(ValueError, match="by must be"):
            load_hourly_counts_by(conn, actor=actor, tz=TZ, start=day, end=day, by="customer_id")
        staff_actor = Actor.for_account(account_id=1, business_id=business, role="staff")
        with pytest.raises(PermissionDenied):
            load_hourly_counts(conn, actor=staff_actor, tz=TZ, start=day, end=day)


def _save(conn, actor: Actor, fingerprint: str, scope="business", scope_id=None, **extra) -> int:
    return save_forecast_run(
        conn, actor=actor, scope=scope, scope_id=scope_id, params={"horizon_days": 28},
        fingerprint=fingerprint, model_json=f'{{"model": "{fingerprint}"}}',
        metrics=extra.get("metrics", {"mase": 0.8}), forecast={"rows": [fingerprint]},
    )  # fmt: skip


def test_forecast_runs_round_trip_and_keep_only_the_newest(
    engine: sa.Engine, business: int
) -> None:
    ids = _world(engine, business)
    actor = _analyst(business, ids["analyst"])
    metrics = {"mase": math.nan, "mae": 1.5, "coverage": float("inf"), "n": 3}
    with write_tx(engine) as conn:
        run_ids = [_save(conn, actor, f"fp{n}") for n in range(KEEP_RUNS + 2)]
        staff_run = _save(conn, actor, "fp0", "staff", ids["staff"], metrics=metrics)
    with read_conn(engine) as conn:
        assert load_forecast_run(conn, actor=actor, scope="business", scope_id=None,
                                 fingerprint="fp1") is None  # fmt: skip
        newest = load_forecast_run(
            conn, actor=actor, scope="business", scope_id=None, fingerprint=f"fp{KEEP_RUNS + 1}"
        )
        kept = load_forecast_run(
            conn, actor=actor, scope="business", scope_id=None, fingerprint="fp2"
        )
        staff = load_forecast_run(
            conn, actor=actor, scope="staff", scope_id=ids["staff"], fingerprint="fp0"
        )
        latest = load_latest_forecast_runs(conn, actor=actor)
    assert newest is not None and newest["id"] == run_ids[-1]
    assert newest["model_json"] == f'{{"model": "fp{KEEP_RUNS + 1}"}}'
    assert newest["params"] == {"horizon_days": 28} and newest["forecast"] == {
        "rows": [f"fp{KEEP_RUNS + 1}"]
    }
    assert newest["created_by"] == ids["analyst"] and newest["status"] == "done"
    assert kept is not None and kept["id"] == run_ids[2]  # fp0 and fp1 pruned
    assert kept["model_json"] is None and kept["forecast"] == {"rows": ["fp2"]}
    assert staff is not None and staff["id"] == staff_run and staff["scope_id"] == ids["staff"]
    assert staff["metrics"] == {"mase": None, "mae": 1.5, "coverage": None, "n": 3}
    assert staff["model_json"] == '{"model": "fp0"}'  # the newest of its own scope
    assert [(r["scope"], r["id"]) for r in latest] == [
        ("business", run_ids[-1]),
        ("staff", staff_run),
    ]
    assert all("model_json" not in run for run in latest)


def test_another_business_runs_are_never_returned_or_pruned(
    engine: sa.Engine, business: int
) -> None:
    ids = _world(engine, business)
    mine = _analyst(business, ids["analyst"])
    with write_tx(engine) as conn:
        theirs = Actor.operator(business_id=make_business(conn))
        my_run = _save(conn, mine, "same")
        for _ in range(KEEP_RUNS + 1):  # enough to prune a shared scope
            their_run = _save(conn, theirs, "same")
    with read_conn(engine) as conn:
        loaded = load_forecast_run(
            conn, actor=mine, scope="business", scope_id=None, fingerprint="same"
        )
        assert loaded is not None and loaded["id"] == my_run
        assert [run["id"] for run in load_latest_forecast_runs(conn, actor=mine)] == [my_run]
        assert [run["id"] for run in load_latest_forecast_runs(conn, actor=theirs)] == [their_run]


def test_forecast_runs_check_scope_and_permission(engine: sa.Engine, business: int) -> None:
    ids = _world(engine, business)
    actor = _analyst(business, ids["analyst"])
    staff_actor = Actor.for_account(account_id=1, business_id=business, role="staff")
    with write_tx(engine) as conn:
        with pytest.raises(ValueError, match="scope_id"):
            _save(conn, actor, "x", "business", ids["staff"])
        with pytest.raises(ValueError, match="scope must be"):
            _save(conn, actor, "x", "customer", 1)
        with pytest.raises(PermissionDenied):
            _save(conn, staff_actor, "x")
        with pytest.raises(PermissionDenied):
            load_latest_forecast_runs(conn, actor=staff_actor)

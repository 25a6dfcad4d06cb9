"""Series for bench/forecast_bench.py: the demo salon (seeded into a scratch SQLite file)
and the real public series in shared/data/real (never copied into the project).

Every series follows forecasting/frames.py: `ds` local wall-clock hour (or day), `y`,
`is_open`. Demo hours are open when the rota has working minutes or a booking started.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.capacity import compute_capacity  # noqa: E402
from auth.roles import Actor  # noqa: E402
from bench.scratch import scratch_sqlite  # noqa: E402
from data.booking_queries import load_schedules  # noqa: E402
from data.db import make_engine, read_conn  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.schema import appointments  # noqa: E402

TZ = "Europe/Berlin"
REAL_CANDIDATES = (ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real"))


@dataclass(frozen=True)
class DemoSalon:
    """Booking start hours and rota capacity of the seeded demo business."""

    starts: pd.DataFrame  # staff_id, ds (local hour of a non-cancelled booking's start)
    capacity: pd.DataFrame  # staff_id, ds (local hour), minutes
    first_day: date
    today: date  # history ends at its local midnight; the future starts there
    seed_seconds: float


def real_data_dir() -> Path:
    for candidate in REAL_CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"real series not found in {' or '.join(map(str, REAL_CANDIDATES))}")


def load_demo_salon(
    *, appointments: int | None, seed: int, today: date, days_ahead: int
) -> DemoSalon:
    from data.demo import seed_demo

    with scratch_sqlite() as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        summary = seed_demo(engine, appointments=appointments, seed=seed, today=today)
        first_day = summary.first_start.astimezone(ZoneInfo(TZ)).date()
        start, end = _utc_midnight(first_day), _utc_midnight(today + timedelta(days=days_ahead))
        actor = Actor.operator(business_id=summary.business_id, label="bench")
        with read_conn(engine) as conn:
            starts = pd.read_sql(_booking_starts(summary.business_id), conn)
            schedules = load_schedules(conn, actor=actor, start=start, end=end, include_busy=False)
        engine.dispose()
    local = pd.to_datetime(starts["starts_at"], utc=True).dt.tz_convert(TZ).dt.tz_localize(None)
    capacity = compute_capacity(schedules, tz=TZ, start=start, end=end)
    capacity_ds = pd.to_datetime(capacity["day"]) + pd.to_timedelta(capacity["hour"], unit="h")
    return DemoSalon(
        starts=pd.DataFrame({"staff_id": starts["staff_id"], "ds": local.dt.floor("h")}),
        capacity=pd.DataFrame(
            {"staff_id": capacity["staff_id"], "ds": capacity_ds, "minutes": capacity["minutes"]}
        ),
        first_day=first_day,
        today=today,
        seed_seconds=summary.seconds,
    )


def demo_series(
    salon: DemoSalon, *, staff_id: int | None = None, days_ahead: int = 28
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history up to `today`, future for `days_ahead` days) of the business or one stylist."""
    starts, capacity = salon.starts, salon.capacity
    if staff_id is not None:
        starts = starts[starts["staff_id"] == staff_id]
        capacity = capacity[capacity["staff_id"] == staff_id]
    counts = starts["ds"].value_counts()
    minutes = capacity.groupby("ds")["minutes"].sum()
    hours = local_hours(salon.first_day, salon.today + timedelta(days=days_ahead), TZ)
    y = counts.reindex(hours, fill_value=0).to_numpy(dtype=float)
    is_open = (minutes.reindex(hours, fill_value=0.0).to_numpy() > 0) | (y > 0)
    frame = pd.DataFrame({"ds": hours, "y": y, "is_open": is_open})
    cut = pd.Timestamp(salon.today)
    history = frame[frame["ds"] < cut].reset_index(drop=True)
    return history, frame[frame["ds"] >= cut][["ds", "is_open"]].reset_index(drop=True)


def local_hours(first: date, end: date, tz: str) -> pd.DatetimeIndex:
    """Every local wall-clock hour in [first, end) once: the spring-forward hour is
    absent, the repeated fall-back hour appears once."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(end, time.min, tzinfo=zone).astimezone(UTC)
    instants = pd.date_range(lo, hi, freq="h", inclusive="left")
    wall = instants.tz_convert(tz).tz_localize(None)
    return pd.DatetimeIndex(wall.unique()).astype("datetime64[ns]")


def bike_series(folder: Path) -> pd.DataFrame:
    """Capital Bikeshare hourly rentals. The 165 hours the file lacks (no rentals, or the
    system down: Hurricane Sandy) become open hours with y = 0; the rentals run 24/7."""
    raw = pd.read_csv(folder / "bike_sharing" / "hour.csv")
    ds = pd.to_datetime(raw["dteday"]) + pd.to_timedelta(raw["hr"], unit="h")
    values = pd.Series(raw["cnt"].to_numpy(dtype=float), index=ds.astype("datetime64[ns]"))
    hours = pd.date_range(values.index.min(), values.index.max(), freq="h")
    y = values.reindex(hours, fill_value=0.0).to_numpy()
    return pd.DataFrame({"ds": hours.astype("datetime64[ns]"), "y": y, "is_open": True})


def daily_example(folder: Path, name: str, *, log_values: bool = False) -> pd.DataFrame:
    """A Prophet example series, one row per day; missing days are closed (is_open False)."""
    raw = pd.read_csv(folder / "prophet" / name)
    values = pd.Series(raw["y"].to_numpy(dtype=float), index=pd.to_datetime(raw["ds"]))
    if log_values:  # page views are stored as log(y)
        values = pd.Series(np.round(np.exp(values.to_numpy())), index=values.index)
    days = pd.date_range(values.index.min(), values.index.max(), freq="D")
    present = values.reindex(days)
    return pd.DataFrame(
        {
            "ds": days.astype("datetime64[ns]"),
            "y": present.fillna(0.0).to_numpy(),
            "is_open": present.notna().to_numpy(),
        }
    )


def _booking_starts(business_id: int) -> sa.Select:
    return sa.select(appointments.c.staff_id, appointments.c.starts_at).where(
        appointments.c.business_id == business_id, appointments.c.status != "cancelled"
    )


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(TZ)).astimezone(UTC)

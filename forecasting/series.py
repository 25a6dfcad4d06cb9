"""Hourly and daily booking series in local wall-clock time, as Prophet wants them. Pure.

The shared series contract: `ds` is the tz-naive local start of the hour
(datetime64[ns]); every local hour that exists in the range appears exactly once. On the
spring DST day the skipped hour is absent (23 rows in Europe/Berlin); on the autumn day
the repeated hour is one row holding the bookings of both occurrences (24 rows). Closed
hours stay in the frame with `is_open` False, so a model can be told not to forecast
them. Local days are ranges [start, end], both inclusive, like the reports' filters.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from scheduling.timezones import local_day_bounds

SERIES_COLUMNS = ["ds", "y", "is_open", "booked_minutes", "capacity_minutes"]
FUTURE_COLUMNS = ["ds", "is_open", "capacity_minutes"]
# Every UTC offset in the tz database is a multiple of 15 minutes, so stepping real time
# by 15 minutes meets every local hour that exists, however a zone shifts its clocks.
_STEP = "15min"


def build_local_hours(*, start: date, end: date, tz: str) -> pd.Series:
    """The local hours that exist on days [start, end], in order: tz-naive wall-clock
    starts of the hour (datetime64[ns]), each once."""
    lo, hi = local_day_bounds(start, tz, days=(end - start).days + 1)
    instants = pd.date_range(lo, hi, freq=_STEP, inclusive="left")
    wall = instants.tz_convert(tz).tz_localize(None).floor("h")
    hours = np.unique(wall.to_numpy().astype("datetime64[ns]"))
    return pd.Series(hours, name="ds")


def build_hourly_series(
    counts: pd.DataFrame,
    capacity_hours: pd.DataFrame,
    *,
    start: date,
    end: date,
    tz: str,
) -> pd.DataFrame:
    """One row per existing local hour of days [start, end]: ds, y (bookings starting in
    that hour, float), is_open (working capacity in that hour, or a booking happened),
    booked_minutes, capacity_minutes.

    `counts` has columns day, hour, bookings, booked_minutes (data.forecasts.
    load_hourly_counts); `capacity_hours` has day, hour, minutes (analytics.capacity.
    compute_capacity's frame; rows for several staff are summed). Rows outside the range
    are ignored. A count in an hour that doesn't exist in `tz` raises ValueError: it
    means the counts were grouped in another zone, and would be silently lost.
    """
    hours = build_local_hours(start=start, end=end, tz=tz).to_frame()
    booked = _by_hour(counts, {"bookings": "y", "booked_minutes": "booked_minutes"})
    booked = booked[(booked["ds"] >= hours["ds"].iloc[0]) & (booked["ds"] <= hours["ds"].iloc[-1])]
    missing = ~booked["ds"].isin(hours["ds"])
    if missing.any():
        raise ValueError(
            f"bookings counted at local hours that don't exist in {tz}: "
            f"{', '.join(str(ds) for ds in booked.loc[missing, 'ds'].head(3))}"
        )
    capacity = _by_hour(capacity_hours, {"minutes": "capacity_minutes"})
    frame = hours.merge(booked, on="ds", how="left").merge(capacity, on="ds", how="left")
    frame = frame.fillna({"y": 0.0, "booked_minutes": 0.0, "capacity_minutes": 0.0})
    frame["is_open"] = (frame["capacity_minutes"] > 0) | (frame["y"] > 0)
    return frame[SERIES_COLUMNS].astype(
        {"y": "float64", "booked_minutes": "float64", "capacity_minutes": "float64"}
    )


def build_future_frame(
    capacity_hours: pd.DataFrame, *, start: date, end: date, tz: str
) -> pd.DataFrame:
    """The hours to forecast on days [start, end]: ds, is_open (capacity_minutes > 0),
    capacity_minutes. Same hours and capacity input as build_hourly_series."""
    hours = build_local_hours(start=start, end=end, tz=tz).to_frame()
    capacity = _by_hour(capacity_hours, {"minutes": "capacity_minutes"})
    frame = hours.merge(capacity, on="ds", how="left").fillna({"capacity_minutes": 0.0})
    frame["capacity_minutes"] = frame["capacity_minutes"].astype("float64")
    frame["is_open"] = frame["capacity_minutes"] > 0
    return frame[FUTURE_COLUMNS]


def build_daily_series(hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily totals of an hourly series: ds (local midnight, datetime64[ns]), y. Every
    day of the hourly frame appears, closed days with y = 0."""
    days = hourly["ds"].dt.normalize().rename("ds")
    daily = hourly["y"].groupby(days).sum().reset_index()
    return daily.astype({"ds": "datetime64[ns]", "y": "float64"})


def compute_fingerprint(series: pd.DataFrame, *, extra: dict[str, Any]) -> str:
    """sha256 (hex) of the series' column names, values and the parameters in `extra`.

    Stable across runs, processes and machines: values are hashed as explicit bytes
    (timestamps as int64 nanoseconds, numbers and booleans as float64, NaN canonical,
    anything else as text), and `extra` as sorted JSON. Row order counts."""
    digest = hashlib.sha256()
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    digest.update(f"rows={len(series)}".encode())
    for column in series.columns:
        digest.update(f"\x1e{column}\x1f".encode())
        digest.update(_column_bytes(series[column]))
    return digest.hexdigest()


def _column_bytes(values: pd.Series) -> bytes:
    if pd.api.types.is_datetime64_any_dtype(values):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        nanos = values.astype("datetime64[ns]").to_numpy().astype("int64")
        return nanos.astype("<i8").tobytes()
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64").to_numpy()
        return np.where(np.isnan(numbers), np.nan, numbers).astype("<f8").tobytes()
    return "\x1f".join(map(str, values.tolist())).encode()


def _by_hour(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Sum `columns` (renamed) per local hour, keyed by ds = day + hour."""
    if frame.empty:
        empty = {"ds": pd.Series([], dtype="datetime64[ns]")}
        return pd.DataFrame(
            empty | {new: pd.Series([], dtype="float64") for new in columns.values()}
        )
    days = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    ds = (days + pd.to_timedelta(frame["hour"].astype("int64"), unit="h")).rename("ds")
    summed = frame[list(columns)].astype("float64").groupby(ds).sum()
    return summed.rename(columns=columns).reset_index()

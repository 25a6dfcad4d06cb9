"""Forecasting's SQL: hourly booking counts in local time, and stored forecast runs.

Counts are grouped in SQL by the local day and hour of each start (data/sql_time), so a
million appointments come back as a few thousand rows. On the autumn DST day the
repeated local hour is one group: bookings from both occurrences of 02:00-03:00 count
together, as the shared series contract wants. A forecast run is derived data (no
audit entry); reading or writing one needs VIEW_ANALYTICS, and every query is scoped
to the actor's business. Only the newest `KEEP_RUNS` runs per scope are kept, and only
the newest keeps its serialised model (a Prophet JSON holds its history: about 2 MB for
two years of hours); older runs keep their parameters, metrics and forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.schema import appointments, forecast_runs
from data.sql_time import LocalClock, minutes_between
from data.types import utcnow
from scheduling.timezones import local_day_bounds

A = appointments.c
R = forecast_runs.c
KEEP_RUNS = 5
SCOPES = ("business", "staff", "service")
COUNT_COLUMNS = ["day", "hour", "bookings", "booked_minutes"]
_SUMMARY_COLUMNS = (R.id, R.scope, R.scope_id, R.params, R.data_fingerprint, R.metrics)
_RUN_COLUMNS = (*_SUMMARY_COLUMNS, R.forecast, R.status, R.created_by, R.created_at)


def load_hourly_counts(
    conn: Connection,
    *,
    actor: Actor,
    tz: str,
    start: date,
    end: date,
    staff_id: int | None = None,
    service_id: int | None = None,
) -> pd.DataFrame:
    """Not-cancelled appointments starting on local days [start, end] (both inclusive),
    by local day and hour of their start: columns day (local date, datetime64[s]),
    hour (int), bookings (int), booked_minutes (float). Hours without bookings are absent.
    """
    query = _hourly_query(conn, actor, tz, start, end, ())
    if staff_id is not None:
        query = query.where(A.staff_id == staff_id)
    if service_id is not None:
        query = query.where(A.service_id == service_id)
    return _counts_frame(conn, query, ())


def load_hourly_counts_by(
    conn: Connection, *, actor: Actor, tz: str, start: date, end: date, by: str
) -> pd.DataFrame:
    """load_hourly_counts for every staff member (by="staff_id") or service
    (by="service_id") in one scan: the same columns after a leading `by` column (int).
    Members without bookings in the range are absent."""
    if by not in ("staff_id", "service_id"):
        raise ValueError(f"by must be staff_id or service_id, not {by!r}")
    query = _hourly_query(conn, actor, tz, start, end, (A[by],))
    return _counts_frame(conn, query, (by,))


def _hourly_query(
    conn: Connection, actor: Actor, tz: str, start: date, end: date, keys: tuple[Any, ...]
) -> sa.Select:
    actor.require(Permission.VIEW_ANALYTICS)
    lo, hi = local_day_bounds(start, tz, days=(end - start).days + 1)
    dialect = conn.dialect.name
    hour = LocalClock.over(dialect, tz, lo, hi).hour_start(A.starts_at).label("hour_start")
    length = sa.func.round(minutes_between(dialect, A.starts_at, A.ends_at))
    return (
        sa.select(
            *keys,
            hour,
            sa.func.count().label("bookings"),
            sa.cast(sa.func.coalesce(sa.func.sum(length), 0), sa.Float).label("booked_minutes"),
        )
        .where(A.business_id == actor.business_id, A.status != "cancelled")
        .where(A.starts_at >= lo, A.starts_at < hi)
        .group_by(*keys, hour)
    )


def _counts_frame(conn: Connection, query: sa.Select, keys: tuple[str, ...]) -> pd.DataFrame:
    """Run the query; split its hour key (SQLite: 'YYYY-MM-DD HH' text) into day and
    hour; sort by the keys, day and hour."""
    columns = [*keys, "hour_start", "bookings", "booked_minutes"]
    rows = pd.DataFrame(conn.execute(query).fetchall(), columns=columns)
    text_format = "%Y-%m-%d %H" if conn.dialect.name == "sqlite" else None
    starts = pd.to_datetime(rows["hour_start"], format=text_format).astype("datetime64[s]")
    frame = pd.DataFrame(
        {
            **{key: rows[key].astype("int64") for key in keys},
            "day": starts.dt.normalize(),
            "hour": starts.dt.hour.astype("int64"),
            "bookings": rows["bookings"].astype("int64"),
            "booked_minutes": rows["booked_minutes"].astype("float64"),
        }
    )
    return frame.sort_values([*keys, "day", "hour"], ignore_index=True)


def save_forecast_run(
    conn: Connection,
    *,
    actor: Actor,
    scope: str,
    scope_id: int | None,
    params: Mapping[str, Any],
    fingerprint: str,
    model_json: str | None,
    metrics: Mapping[str, Any],
    forecast: Mapping[str, Any],
) -> int:
    """Store one run, drop this scope's runs beyond the newest KEEP_RUNS and clear the
    older runs' model_json, in the caller's transaction. Returns the new run's id.

    `scope` is "business" (scope_id None), "staff" or "service" (scope_id the id).
    params, metrics and forecast must be JSON-like; numpy scalars become numbers,
    dates ISO text, and NaN or infinity becomes None (PostgreSQL's JSON has no NaN).
    """
    actor.require(Permission.VIEW_ANALYTICS)
    _check_scope(scope, scope_id)
    values = {
        "business_id": actor.business_id,
        "scope": scope,
        "scope_id": scope_id,
        "params": to_json_value(dict(params)),
        "data_fingerprint": fingerprint,
        "model_json": model_json,
        "metrics": to_json_value(dict(metrics)),
        "forecast": to_json_value(dict(forecast)),
        "status": "done",
        "created_by": actor.account_id,
        "created_at": utcnow(),
    }
    insert = forecast_runs.insert().values(**values).returning(R.id)
    run_id = int(conn.execute(insert).scalar_one())
    _prune_runs(conn, actor, scope, scope_id)
    return run_id


def load_forecast_run(
    conn: Connection, *, actor: Actor, scope: str, scope_id: int | None, fingerprint: str
) -> dict[str, Any] | None:
    """The newest run of this business, scope and data fingerprint, with its model_json;
    None when there is none. Keys: id, scope, scope_id, params, fingerprint, metrics,
    forecast, status, created_by, created_at, model_json."""
    actor.require(Permission.VIEW_ANALYTICS)
    _check_scope(scope, scope_id)
    query = (
        sa.select(*_RUN_COLUMNS, R.model_json)
        .where(_same_scope(actor, scope, scope_id), R.data_fingerprint == fingerprint)
        .order_by(R.created_at.desc(), R.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return _run_dict(row) if row is not None else None


def load_latest_forecast_runs(conn: Connection, *, actor: Actor) -> list[dict[str, Any]]:
    """The newest run per (scope, scope_id) of this business, without model_json,
    ordered by scope then scope_id (the business first). Keys as load_forecast_run's."""
    actor.require(Permission.VIEW_ANALYTICS)
    rank = (
        sa.func.row_number()
        .over(partition_by=(R.scope, R.scope_id), order_by=(R.created_at.desc(), R.id.desc()))
        .label("rank")
    )
    ranked = sa.select(*_RUN_COLUMNS, rank).where(R.business_id == actor.business_id).subquery()
    columns = [ranked.c[column.name] for column in _RUN_COLUMNS]
    query = sa.select(*columns).where(ranked.c.rank == 1)
    runs = [_run_dict(row) for row in conn.execute(query).mappings()]
    order = {scope: index for index, scope in enumerate(SCOPES)}
    return sorted(runs, key=lambda run: (order[run["scope"]], run["scope_id"] or 0))


def _check_scope(scope: str, scope_id: int | None) -> None:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if (scope == "business") != (scope_id is None):
        raise ValueError("scope_id is None for the business scope and an id for staff/service")


def _same_scope(actor: Actor, scope: str, scope_id: int | None) -> sa.ColumnElement[bool]:
    same_id = R.scope_id.is_(None) if scope_id is None else R.scope_id == scope_id
    return sa.and_(R.business_id == actor.business_id, R.scope == scope, same_id)


def _prune_runs(conn: Connection, actor: Actor, scope: str, scope_id: int | None) -> None:
    stale = (
        sa.select(R.id)
        .where(_same_scope(actor, scope, scope_id))
        .order_by(R.created_at.desc(), R.id.desc())
        .offset(KEEP_RUNS)
    )
    ids = [row.id for row in conn.execute(stale)]
    if ids:
        conn.execute(
            forecast_runs.delete().where(R.business_id == actor.business_id, R.id.in_(ids))
        )
    newest = (
        sa.select(R.id)
        .where(_same_scope(actor, scope, scope_id))
        .order_by(R.created_at.desc(), R.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        forecast_runs.update()
        .where(_same_scope(actor, scope, scope_id), R.model_json.is_not(None), R.id != newest)
        .values(model_json=None)
    )


def _run_dict(row: sa.RowMapping) -> dict[str, Any]:
    run = dict(row)
    run["fingerprint"] = run.pop("data_fingerprint")
    run["scope_id"] = None if run["scope_id"] is None else int(run["scope_id"])
    run["id"] = int(run["id"])
    return run


def to_json_value(value: Any) -> Any:
    """A JSON-safe copy: numpy and pandas scalars as Python numbers, dates and times as
    ISO text, tuples and arrays as lists, NaN and infinity as None."""
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [to_json_value(item) for item in list(value)]
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None  # NaN, NaT, pd.NA
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return value

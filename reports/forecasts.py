"""Peak-time forecasts for a business, a staff member or a service: build the hourly
series from the database, reuse the stored run while the data fingerprint is unchanged,
otherwise fit and backtest (forecasting.engine.forecast_series, a pure function of one
series) and store the run. Many series are fitted in parallel with joblib.

No Streamlit: the Peak times page (through ui/forecast_data), the CLI and the benchmark
call this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from sqlalchemy.engine import Connection, Engine

from analytics.capacity import compute_capacity
from auth.roles import Actor, Permission
from data import forecasts as store
from data.analytics import load_report_catalog
from data.booking_queries import load_schedules
from data.business import load_business
from data.db import read_conn, write_tx
from forecasting.engine import SeriesResult, SeriesTask, forecast_series
from forecasting.models import ForecastSettings, make_forecast
from forecasting.results import empty_metrics, empty_per_origin
from forecasting.series import (
    build_future_frame,
    build_hourly_series,
    compute_fingerprint,
)
from forecasting.staffing import (
    compute_minutes_per_booking,
    compute_staffing,
    suggest_shift_changes,
)
from scheduling.timezones import local_day_bounds, local_today

HISTORY_DAYS = 2 * 365
SCOPES = ("business", "staff", "service")
#: (done, total, label) while fitting.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast: the whole business, one staff member or one service."""

    scope: str = "business"
    scope_id: int | None = None
    settings: ForecastSettings = field(default_factory=ForecastSettings)

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        if (self.scope == "business") != (self.scope_id is None):
            raise ValueError("a staff or service forecast names its id; a business one doesn't")


@dataclass(frozen=True)
class PreparedSeries:
    """A series read from the database, ready to fit, and its fingerprint."""

    request: ForecastRequest
    label: str
    task: SeriesTask
    fingerprint: str


@dataclass(frozen=True)
class ForecastOutcome:
    """A fitted (or reused) forecast with what the page shows beside it."""

    request: ForecastRequest
    label: str
    history: pd.DataFrame
    future: pd.DataFrame
    result: SeriesResult
    reused: bool
    run_id: int | None

    def staffing(self) -> tuple[pd.DataFrame, list[Any]]:
        """Demand in booked minutes against the scheduled capacity, and shift suggestions."""
        per_booking = compute_minutes_per_booking(self.history)
        staffing = compute_staffing(
            self.result.forecast, self.future, minutes_per_booking=per_booking
        )
        return staffing, suggest_shift_changes(staffing)


def prepare_series(
    conn: Connection, *, actor: Actor, request: ForecastRequest, today: date | None = None
) -> PreparedSeries:
    """Read the scope's hourly history (up to yesterday) and its future opening hours."""
    actor.require(Permission.VIEW_ANALYTICS)
    business = load_business(conn, business_id=actor.business_id)
    tz, country = business["timezone"], business.get("country")
    today = today or local_today(tz)
    start, end = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
    horizon_end = today + timedelta(days=request.settings.horizon_days - 1)
    staff_ids, label = _scope_staff(conn, actor, request)
    counts = store.load_hourly_counts(
        conn, actor=actor, tz=tz, start=start, end=end,
        staff_id=request.scope_id if request.scope == "staff" else None,
        service_id=request.scope_id if request.scope == "service" else None,
    )  # fmt: skip
    history = build_hourly_series(
        counts, _capacity_hours(conn, actor, tz, start, end, staff_ids), start=start, end=end, tz=tz
    )
    future = build_future_frame(
        _capacity_hours(conn, actor, tz, today, horizon_end, staff_ids),
        start=today, end=horizon_end, tz=tz,
    )  # fmt: skip
    task = SeriesTask(
        history=history, future=future, country=country, settings=request.settings, label=label
    )
    extra = {"scope": request.scope, "scope_id": request.scope_id, "country": country,
             "settings": asdict(request.settings), "today": today.isoformat(),
             "open": future["is_open"].astype(int).tolist()}  # fmt: skip
    return PreparedSeries(request, label, task, compute_fingerprint(history, extra=extra))


def _scope_staff(conn: Connection, actor: Actor, request: ForecastRequest) -> tuple[list[int], str]:
    """The staff whose hours are the scope's capacity, and the scope's label."""
    catalog = load_report_catalog(conn, actor=actor)
    staff, services, offers = catalog["staff"], catalog["services"], catalog["offers"]
    active = staff.loc[staff["is_active"].astype(bool), "staff_id"].astype(int).tolist()
    if request.scope == "business":
        return active, "Whole business"
    if request.scope == "staff":
        match = staff[staff["staff_id"] == request.scope_id]
        if match.empty:
            raise LookupError(f"There is no staff member with id {request.scope_id}.")
        return [int(request.scope_id or 0)], str(match["staff"].iloc[0])
    match = services[services["service_id"] == request.scope_id]
    if match.empty:
        raise LookupError(f"There is no service with id {request.scope_id}.")
    offering = offers.loc[offers["service_id"] == request.scope_id, "staff_id"].astype(int)
    return sorted(set(offering) & set(active)), str(match["service"].iloc[0])


def _capacity_hours(
    conn: Connection, actor: Actor, tz: str, start: date, end: date, staff_ids: list[int]
) -> pd.DataFrame:
    """Working minutes per local day and hour, summed over the scope's staff."""
    lo, hi = local_day_bounds(start, tz, days=(end - start).days + 1)
    schedules = (
        load_schedules(conn, actor=actor, start=lo, end=hi, staff_ids=staff_ids, include_busy=False)
        if staff_ids
        else []
    )
    capacity = compute_capacity(schedules, tz=tz, start=lo, end=hi)
    return capacity.groupby(["day", "hour"], as_index=False)["minutes"].sum()


def run_forecasts(
    engine: Engine,
    *,
    actor: Actor,
    requests: Sequence[ForecastRequest],
    today: date | None = None,
    force: bool = False,
    n_jobs: int = 2,
    progress: Progress | None = None,
) -> list[ForecastOutcome]:
    """Forecast each request: reuse a stored run with the same fingerprint (unless
    `force`), fit the others in parallel (joblib, `n_jobs` processes), store new runs."""
    actor.require(Permission.VIEW_ANALYTICS)
    with read_conn(engine) as conn:
        prepared = [prepare_series(conn, actor=actor, request=r, today=today) for r in requests]
        stored = [None if force else _stored(conn, actor, p) for p in prepared]
    missing = [p for p, run in zip(prepared, stored, strict=True) if run is None]
    fitted = _fit_all(missing, n_jobs=n_jobs, progress=progress)
    outcomes = []
    for item, run in zip(prepared, stored, strict=True):
        if run is not None:
            outcomes.append(
                _outcome(item, SeriesResult.from_json(run["forecast"]), True, run["id"])
            )
            continue
        result = fitted[id(item)]
        with write_tx(engine) as conn:
            run_id = store.save_forecast_run(
                conn, actor=actor, scope=item.request.scope, scope_id=item.request.scope_id,
                params=asdict(item.request.settings), fingerprint=item.fingerprint,
                model_json=result.model_json, metrics=result.metrics_json(),
                forecast=result.to_json(),
            )  # fmt: skip
        outcomes.append(_outcome(item, result, False, run_id))
    return outcomes


def find_stored_forecast(
    engine: Engine, *, actor: Actor, request: ForecastRequest, today: date | None = None
) -> ForecastOutcome | None:
    """The stored run for the scope's current data, if there is one (no fitting)."""
    actor.require(Permission.VIEW_ANALYTICS)
    with read_conn(engine) as conn:
        item = prepare_series(conn, actor=actor, request=request, today=today)
        run = _stored(conn, actor, item)
    if run is None:
        return None
    return _outcome(item, SeriesResult.from_json(run["forecast"]), True, run["id"])


def _stored(conn: Connection, actor: Actor, item: PreparedSeries) -> dict[str, Any] | None:
    request = item.request
    return store.load_forecast_run(
        conn, actor=actor, scope=request.scope, scope_id=request.scope_id,
        fingerprint=item.fingerprint,
    )  # fmt: skip


def _fit_all(
    items: list[PreparedSeries], *, n_jobs: int, progress: Progress | None
) -> dict[int, SeriesResult]:
    """forecast_series over the items; in parallel processes when there are several."""
    if not items:
        return {}
    if len(items) == 1 or n_jobs == 1:
        results = []
        for done, item in enumerate(items):
            if progress:
                progress(done, len(items), item.label)
            results.append(safe_forecast_series(item.task))
    else:
        if progress:
            progress(0, len(items), f"{len(items)} series in parallel")
        results = Parallel(n_jobs=n_jobs)(delayed(safe_forecast_series)(i.task) for i in items)
    if progress:
        progress(len(items), len(items), "done")
    return {id(item): result for item, result in zip(items, results, strict=True)}


def safe_forecast_series(task: SeriesTask) -> SeriesResult:
    """forecast_series, and if it fails unexpectedly, the hour-of-week profile with a
    note saying so: a batch over many series never stops at one bad series."""
    try:
        return forecast_series(task)
    except Exception as exc:  # noqa: BLE001 - any failure becomes a visible note
        profile = make_forecast(
            task.history, task.future, model="hour_of_week_mean", country=None,
            settings=task.settings,
        )  # fmt: skip
        note = f"The forecast failed ({exc}); showing the hour-of-week average instead."
        return SeriesResult(
            label=task.label, winner="hour_of_week_mean", reason="", forecast=profile,
            forecasts={"hour_of_week_mean": profile}, metrics=empty_metrics(),
            per_origin=empty_per_origin(), model_json=None, notes=(note,), seconds={},
        )  # fmt: skip


def _outcome(
    item: PreparedSeries, result: SeriesResult, reused: bool, run_id: int | None
) -> ForecastOutcome:
    task = item.task
    return ForecastOutcome(
        item.request, item.label, task.history, task.future, result, reused, run_id
    )


def all_scopes(
    conn: Connection, *, actor: Actor, settings: ForecastSettings
) -> list[ForecastRequest]:
    """The business, every active staff member and every active service."""
    catalog = load_report_catalog(conn, actor=actor)
    requests = [ForecastRequest("business", None, settings)]
    for scope, frame, column in (("staff", catalog["staff"], "staff_id"),
                                 ("service", catalog["services"], "service_id")):  # fmt: skip
        active = frame[frame["is_active"].astype(bool)]
        requests += [ForecastRequest(scope, int(i), settings) for i in active[column]]
    return requests

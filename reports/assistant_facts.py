"""The facts recommendations rest on, read for one business (assistant/facts.py is the
contract, assistant/fact_builders.py turns frames into facts).

Read-only, and it never trains or fits: KPIs, boards and idle hours come from the same
SQL aggregates as the Overview; the forecast and staffing from the stored Peak times run
(the one for today's data, else the newest of the last MAX_FORECAST_AGE_DAYS days, marked
`current_data: false`); churn bands from the stored scores (Retention); no-show risk from
the stored model or each customer's own rate (reports.noshow.score_noshow_risk). What is
absent lands in `missing`, saying how to get it.

The period is the last `period_days` full local days before `today`, against the
`period_days` before them. Idle windows look at the last IDLE_WEEKS weeks.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from analytics.capacity import compute_capacity
from analytics.churn_features import CHURN_FEATURES, build_churn_features
from analytics.churn_model import ChurnSettings
from analytics.kpis import build_kpis
from analytics.report import ReportFilter
from assistant import fact_builders as build
from assistant.facts import BusinessFacts, Fact, Missing, Topic
from auth.roles import Actor, Permission
from data import analytics as queries
from data.booking_queries import load_schedules
from data.business import load_business
from data.db import read_conn
from data.forecasts import load_forecast_run, load_latest_forecast_runs
from data.retention import load_latest_churn_scores
from data.types import utcnow
from forecasting.results import SeriesResult
from reports.forecasts import ForecastOutcome, ForecastRequest, prepare_series
from reports.model_files import load_model
from reports.noshow import score_noshow_risk
from reports.overview import DEFAULT_REBOOK_DAYS
from reports.retention_inputs import load_inputs, local_midnight
from reports.retention_view import build_band_table
from scheduling.timezones import local_day_bounds, local_today
from settings import load_settings

IDLE_WEEKS = 8
MAX_FORECAST_AGE_DAYS = 7  # an older stored run (made for another day's data) is not used
NOSHOW_DAYS = 14
NO_FORECAST = "open Peak times or run `cli.py forecast`"


@dataclasses.dataclass
class _Collected:
    """Facts as they are built, and the reasons for the families that could not be."""

    facts: list[Fact] = dataclasses.field(default_factory=list)
    missing: list[Missing] = dataclasses.field(default_factory=list)

    def add(self, topic: Topic, facts: list[Fact], reason: str) -> None:
        """The facts, or (none built) the reason they are missing."""
        self.facts += facts
        if not facts:
            self.missing.append(Missing(topic=topic, reason=reason))


def build_business_facts(
    engine: Engine,
    *,
    actor: Actor,
    today: date | None = None,
    period_days: int = 28,
    models_dir: Path | None = None,
) -> BusinessFacts:
    """Every family of facts for the actor's business as of local `today` (default: now),
    or the reason it is missing. `models_dir`: where the churn and no-show models live
    (default: the settings' MODELS_DIR)."""
    actor.require(Permission.VIEW_ANALYTICS)
    if period_days < 1:
        raise ValueError("period_days must be at least 1")
    models = Path(models_dir) if models_dir is not None else load_settings().models_dir
    with read_conn(engine) as conn:
        business = load_business(conn, business_id=actor.business_id)
        tz = str(business["timezone"])
        today = today or local_today(tz)
        period = ReportFilter(today - timedelta(days=period_days), today - timedelta(days=1))
        collected = _period_facts(conn, actor, tz, period, today)
        outcome, info = _stored_forecast(conn, actor, today)
    _forecast_facts(collected, outcome, info)
    now = utcnow() if today >= local_today(tz) else local_midnight(today, tz).to_pydatetime()
    _churn_facts(collected, engine, actor, models)
    _noshow_facts(collected, engine, actor, models, now)
    return BusinessFacts(
        as_of=today, period_start=period.start, period_end=today,
        currency=str(business["currency"]), timezone=tz,
        facts=tuple(collected.facts), missing=tuple(collected.missing),
    )  # fmt: skip


def _period_facts(
    conn: Connection, actor: Actor, tz: str, period: ReportFilter, today: date
) -> _Collected:
    """KPIs, idle windows, services and staff: the Overview's aggregates, read once."""
    queries.begin_report(conn)
    previous, days = period.previous(), period.days
    summary = queries.load_summary(conn, actor=actor, tz=tz, filters=period)
    mix = queries.load_customer_mix(
        conn, actor=actor, tz=tz, filters=period, rebook_days=DEFAULT_REBOOK_DAYS
    )
    catalog = queries.load_report_catalog(conn, actor=actor)
    idle_start = today - timedelta(weeks=IDLE_WEEKS)
    capacity = _capacity(conn, actor, tz, min(previous.start, idle_start), today, catalog)
    current = _days(capacity, period.start, today)
    before = _days(capacity, previous.start, period.start)
    idle_period = ReportFilter(idle_start, today - timedelta(days=1))
    profile = queries.load_start_profile(conn, actor=actor, tz=tz, filters=idle_period)
    available = {True: float(current["minutes"].sum()), False: float(before["minutes"].sum())}
    collected = _Collected()
    kpis = build_kpis(summary, mix, available)
    collected.add("kpi", build.build_kpi_facts(kpis, period_days=days), "No KPIs.")
    recent = _days(capacity, idle_start, today)
    collected.add(
        "utilization",
        build.build_idle_facts(recent, profile, weeks=IDLE_WEEKS),
        f"No mostly free windows of 2 hours or more in the last {IDLE_WEEKS} weeks."
        if len(recent)
        else f"No working hours in the last {IDLE_WEEKS} weeks: set them in Team & services.",
    )
    collected.add(
        "service",
        build.build_service_facts(summary, catalog["services"], period_days=days),
        f"No bookings in the last {2 * days} days.",
    )
    collected.add(
        "staff",
        build.build_staff_facts(summary, current, before),
        f"No staff with working hours or bookings in the last {days} days.",
    )
    return collected


def _capacity(
    conn: Connection,
    actor: Actor,
    tz: str,
    start: date,
    end: date,
    catalog: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """Working minutes of every active staff member on local days [start, end), by
    staff, day and hour (as the Overview counts capacity)."""
    staff = catalog["staff"]
    ids = sorted(int(i) for i in staff.loc[staff["is_active"].astype(bool), "staff_id"])
    lo, hi = local_day_bounds(start, tz, days=(end - start).days)
    schedules = (
        load_schedules(conn, actor=actor, start=lo, end=hi, staff_ids=ids, include_busy=False)
        if ids
        else []
    )
    return compute_capacity(schedules, tz=tz, start=lo, end=hi)


def _days(capacity: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The capacity rows of local days [start, end)."""
    day = capacity["day"]
    return capacity[(day >= pd.Timestamp(start)) & (day < pd.Timestamp(end))]


def _stored_forecast(
    conn: Connection, actor: Actor, today: date
) -> tuple[ForecastOutcome | None, dict[str, Any]]:
    """The business forecast stored for today's data (as Peak times finds it) or else
    the newest stored one made in the last MAX_FORECAST_AGE_DAYS days, cut to the days
    from today on. Never fits. Also what to say about it: made_on, current_data and
    horizon_days (the days it covers from today)."""
    item = prepare_series(conn, actor=actor, request=ForecastRequest(), today=today)
    run = load_forecast_run(
        conn, actor=actor, scope="business", scope_id=None, fingerprint=item.fingerprint
    )
    current = run is not None
    if run is None:
        runs = [r for r in load_latest_forecast_runs(conn, actor=actor) if r["scope"] == "business"]
        run = runs[0] if runs else None
    result = _result(run)
    if run is None or result is None:
        return None, {}
    made_on = pd.Timestamp(result.forecast["ds"].min()).date()
    ahead = result.forecast[result.forecast["ds"] >= pd.Timestamp(today)].reset_index(drop=True)
    if not 0 <= (today - made_on).days <= MAX_FORECAST_AGE_DAYS or ahead.empty:
        return None, {"made_on": made_on.isoformat()}
    future = item.task.future
    future = future[future["ds"].astype("datetime64[ns]") <= ahead["ds"].max()]
    outcome = ForecastOutcome(
        item.request, item.label, item.task.history, future.reset_index(drop=True),
        dataclasses.replace(result, forecast=ahead), True, run["id"],
    )  # fmt: skip
    days = int(ahead["ds"].dt.normalize().nunique())
    return outcome, {"made_on": made_on.isoformat(), "current_data": current, "horizon_days": days}


def _result(run: dict[str, Any] | None) -> SeriesResult | None:
    """The stored run's forecast; None for none, or one stored in an older format."""
    try:
        return None if run is None else SeriesResult.from_json(run["forecast"])
    except (ValueError, KeyError, TypeError):
        return None


def _forecast_facts(
    collected: _Collected, outcome: ForecastOutcome | None, info: dict[str, Any]
) -> None:
    """forecast.model, peak and quiet windows, and the staffing check."""
    if outcome is None:
        made_on = info.get("made_on")
        why = f"The last forecast was made on {made_on}" if made_on else "No forecast yet"
        collected.add("forecast", [], f"{why}: {NO_FORECAST}.")
        collected.add("staffing", [], f"{why} to check the rota against: {NO_FORECAST}.")
        return
    result, extra = outcome.result, dict(info)
    model = build.build_forecast_model_facts(
        result.metrics, winner=result.winner, horizon_days=extra.pop("horizon_days"), extra=extra
    )
    collected.add("forecast", model + build.build_peak_facts(result.forecast, outcome.future), "")
    if float(pd.to_numeric(outcome.history["y"]).sum()) == 0:
        collected.add("staffing", [], "No bookings yet to check the rota against.")
        return
    staffing, suggestions = outcome.staffing()
    collected.add(
        "staffing",
        build.build_staffing_facts(staffing, suggestions),
        "No open hours in the forecast's weeks: set working hours in Team & services.",
    )


def _churn_facts(collected: _Collected, engine: Engine, actor: Actor, models: Path) -> None:
    """Churn bands with spend at stake from the newest stored scores, computed as the
    Retention page does (reports.retention_view), and the stored model's quality."""
    with read_conn(engine) as conn:
        scores = load_latest_churn_scores(conn, actor=actor)
        visits = load_inputs(conn, actor=actor).visits if not scores.empty else None
    if visits is None:
        collected.add(
            "churn", [], "No churn scores yet: open Retention or run `cli.py churn score`."
        )
        return
    at = pd.Timestamp(scores["as_of"].iloc[0])
    features = build_churn_features(visits, at, active_days=ChurnSettings().active_days)
    spend = features[["spend_365d"]].reset_index()
    bands = build_band_table(scores.merge(spend, on="customer_id", how="left"))
    stored, _ = load_model(
        models, business_id=actor.business_id, kind="churn", features=CHURN_FEATURES
    )
    evaluation = stored.evaluation if stored is not None and stored.evaluation else None
    collected.add("churn", build.build_churn_facts(bands, evaluation), "No customers scored.")


def _noshow_facts(
    collected: _Collected, engine: Engine, actor: Actor, models: Path, now: datetime
) -> None:
    """No-show risk of the next NOSHOW_DAYS days' booked appointments (never trains)."""
    end = pd.Timestamp(now) + pd.Timedelta(days=NOSHOW_DAYS)
    scoring = score_noshow_risk(
        engine, actor=actor, models_dir=models, now=now, end=end.to_pydatetime()
    )
    method = "model" if scoring.method == "model" else "own rates"
    collected.add(
        "noshow",
        build.build_noshow_facts(scoring.scores, method=method, days=NOSHOW_DAYS),
        f"No appointments booked in the next {NOSHOW_DAYS} days.",
    )

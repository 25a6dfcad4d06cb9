"""The naive alternative the Overview bench measures: every appointment of the business
pulled into pandas with `pd.read_sql`, and the frames the SQL in data/analytics.py
returns computed from those rows instead, then fed to the same pure builders
(analytics/), so both paths must give the same numbers. Capacity (the rota, not
appointments) is loaded as reports/overview.py loads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from analytics import breakdowns as build
from analytics.capacity import compute_capacity
from analytics.kpis import build_kpis
from analytics.report import ReportFilter
from auth.roles import Actor
from data.analytics import LATE_CANCEL_MINUTES, load_report_catalog, period_bounds
from data.booking_queries import load_schedules
from data.business import load_business
from data.schema import appointments
from scheduling.timezones import local_day_bounds

MIN = pd.Timedelta(minutes=1)


@dataclass(frozen=True)
class Inputs:
    rows: pd.DataFrame  # every appointment of the business
    catalog: dict[str, pd.DataFrame]
    capacity: pd.DataFrame
    previous_minutes: float
    tz: str


def load_inputs(conn: sa.Connection, actor: Actor, filters: ReportFilter) -> Inputs:
    """All appointment rows, the names, this period's capacity and the previous one's."""
    tz = load_business(conn, business_id=actor.business_id)["timezone"]
    a = appointments.c
    query = sa.select(
        a.id, a.staff_id, a.service_id, a.customer_id, a.starts_at, a.ends_at, a.status,
        a.price_cents, a.created_at, a.cancelled_at,
    ).where(a.business_id == actor.business_id)  # fmt: skip
    rows = pd.read_sql(query, conn)
    frames = []
    for period in (filters, filters.previous()):
        start, end = period_bounds(period, tz)
        schedules = load_schedules(conn, actor=actor, start=start, end=end, include_busy=False)
        frames.append(compute_capacity(schedules, tz=tz, start=start, end=end))
    catalog = load_report_catalog(conn, actor=actor)
    return Inputs(rows, catalog, frames[0], float(frames[1]["minutes"].sum()), tz)


def build_naive_overview(inputs: Inputs, filters: ReportFilter) -> dict[str, pd.DataFrame]:
    """Everything the Overview shows, from raw rows: its frames by Overview field name."""
    rows, tz, capacity = inputs.rows, inputs.tz, inputs.capacity
    for column in ("starts_at", "ends_at", "created_at", "cancelled_at"):
        rows[column] = pd.to_datetime(rows[column], utc=True)
    prev_lo, cur_lo = (period_bounds(p, tz)[0] for p in (filters.previous(), filters))
    hi = period_bounds(filters, tz)[1]
    both = rows[(rows["starts_at"] >= prev_lo) & (rows["starts_at"] < hi)].copy()
    both["current"] = both["starts_at"] >= cur_lo
    both["local"] = both["starts_at"].dt.tz_convert(tz)
    both["minutes"] = ((both["ends_at"] - both["starts_at"]) / MIN).round()
    summary = _summary(both)
    now = both[both["current"]]
    available = {True: float(capacity["minutes"].sum()), False: inputs.previous_minutes}
    staff, services = inputs.catalog["staff"], inputs.catalog["services"]
    return {
        "kpis": build_kpis(summary, _customer_mix(rows, both, cur_lo, prev_lo), available),
        "daily": build.build_daily(_daily(now), capacity, start=filters.start, end=filters.end),
        "heatmap": build.build_heatmap(_profile(now), capacity),
        "staff_board": build.build_staff_board(summary, capacity, staff),
        "service_board": build.build_service_board(summary, services, available[True]),
        "cohorts": build.build_cohorts(_cohort_counts(rows, filters, hi, tz)),
        "revenue_at_risk": build.build_revenue_at_risk(_lost(rows, now)),
    }


def digest(frames: Any) -> dict[str, float | None]:
    """A few numbers per frame (an Overview or build_naive_overview's dict), to compare."""

    def get(name: str) -> pd.DataFrame:
        return frames[name] if isinstance(frames, dict) else getattr(frames, name)

    values = get("kpis").set_index("key")["value"].astype(float).to_dict()
    sums = {
        "daily.revenue_cents": get("daily")["revenue_cents"].sum(),
        "daily.available_minutes": get("daily")["available_minutes"].sum(),
        "heatmap.booked_minutes": get("heatmap")["booked_minutes"].sum(),
        "staff_board.revenue_cents": get("staff_board")["revenue_cents"].sum(),
        "service_board.bookings": get("service_board")["bookings"].sum(),
        "cohorts.customers": get("cohorts")["customers"].sum(),
        "revenue_at_risk.at_risk_cents": get("revenue_at_risk")["at_risk_cents"].sum(),
        "revenue_at_risk.refilled": get("revenue_at_risk")["refilled"].sum(),
    }
    merged = {f"kpis.{k}": v for k, v in values.items()} | sums
    return {k: None if pd.isna(v) else round(float(v), 6) for k, v in merged.items()}


def _flags(frame: pd.DataFrame) -> pd.DataFrame:
    status = frame["status"]
    kept = status != "cancelled"
    return pd.DataFrame({
        "bookings": 1, "completed": (status == "completed").astype(int),
        "cancelled": (~kept).astype(int), "no_show": (status == "no_show").astype(int),
        "revenue_cents": frame["price_cents"].where(status == "completed", 0),
        "booked_minutes": frame["minutes"].where(kept, 0.0),
    }, index=frame.index)  # fmt: skip


def _summary(both: pd.DataFrame) -> pd.DataFrame:
    flags = _flags(both)
    notice = (both["starts_at"] - both["cancelled_at"]) / MIN
    flags["late_cancelled"] = flags["cancelled"].astype(bool) & (notice < LATE_CANCEL_MINUTES)
    flags["late_cancelled"] = flags["late_cancelled"].astype(int)
    flags["lead_minutes"] = (both["starts_at"] - both["created_at"]) / MIN
    keys = both[["current", "staff_id", "service_id"]]
    return pd.concat([keys, flags], axis=1).groupby(list(keys), as_index=False).sum()


def _customer_mix(
    rows: pd.DataFrame, both: pd.DataFrame, cur_lo: datetime, prev_lo: datetime
) -> pd.DataFrame:
    known = rows[rows["customer_id"].notna() & (rows["status"] != "cancelled")]
    later = known.sort_values(["customer_id", "starts_at"], ascending=[True, False])
    later = later.assign(soonest=later.groupby("customer_id")["created_at"].cummin())
    visits = both[(both["status"] == "completed") & both["customer_id"].notna()]
    matched = pd.merge_asof(
        visits.sort_values("starts_at"), later.sort_values("starts_at")[
            ["starts_at", "customer_id", "soonest"]],
        on="starts_at", by="customer_id", direction="forward", allow_exact_matches=False,
    )  # fmt: skip
    matched["rebooked"] = matched["soonest"] <= matched["ends_at"] + pd.Timedelta(days=30)
    done = rows[(rows["status"] == "completed") & rows["customer_id"].notna()]
    first = done.groupby("customer_id")["starts_at"].min()
    visitors = visits[["customer_id", "current"]].drop_duplicates()
    lo = visitors["current"].map({True: cur_lo, False: prev_lo})
    visitors = visitors.assign(new=visitors["customer_id"].map(first) >= pd.to_datetime(lo))
    mix = pd.DataFrame({
        "visits": matched.groupby("current").size(),
        "rebooked": matched.groupby("current")["rebooked"].sum(),
        "customers": visitors.groupby("current").size(),
        "new_customers": visitors.groupby("current")["new"].sum(),
    }).reindex([False, True], fill_value=0).fillna(0).astype(int)  # fmt: skip
    return mix.rename_axis("current").reset_index()


def _daily(now: pd.DataFrame) -> pd.DataFrame:
    day = now["local"].dt.tz_localize(None).dt.normalize().rename("day")
    return _flags(now).groupby(day).sum().reset_index()


def _profile(now: pd.DataFrame) -> pd.DataFrame:
    kept = now[now["status"] != "cancelled"]
    local = kept["local"]
    frame = pd.DataFrame({"dow": (local.dt.dayofweek + 1) % 7, "hour": local.dt.hour,
                          "minute": local.dt.minute,
                          "minutes": kept["minutes"].astype(int)})  # fmt: skip
    return frame.groupby(list(frame), as_index=False).size().rename(columns={"size": "bookings"})


def _month_index(instants: pd.Series, tz: str) -> pd.Series:
    local = instants.dt.tz_convert(tz)
    return local.dt.year * 12 + local.dt.month - 1


def _cohort_counts(
    rows: pd.DataFrame, filters: ReportFilter, hi: datetime, tz: str
) -> pd.DataFrame:
    first_month = filters.end.year * 12 + filters.end.month - 1 - 11
    window_lo = local_day_bounds(date(first_month // 12, first_month % 12 + 1, 1), tz)[0]
    done = rows[(rows["status"] == "completed") & rows["customer_id"].notna()]
    first = done.groupby("customer_id")["starts_at"].min()
    window = done[(done["starts_at"] >= window_lo) & (done["starts_at"] < hi)]
    firsts = first[first.index.isin(window["customer_id"]) & (first >= window_lo)]
    window = window[window["customer_id"].isin(firsts.index)]
    counts = pd.DataFrame({
        "cohort_month": window["customer_id"].map(_month_index(firsts, tz)),
        "active_month": _month_index(window["starts_at"], tz),
        "customer_id": window["customer_id"],
    })  # fmt: skip
    counts = counts.groupby(["cohort_month", "active_month"])["customer_id"].nunique()
    return counts.rename("customers").reset_index()


def _lost(rows: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Cancelled and no-show slots, refilled when another kept booking of the same staff
    member overlaps (kept bookings never overlap each other: the last one starting
    before the slot ends is the only candidate)."""
    lost = now[now["status"].isin(["cancelled", "no_show"])].copy()
    notice = (lost["starts_at"] - lost["cancelled_at"]) / MIN
    lost["kind"] = "cancelled"
    lost.loc[notice < LATE_CANCEL_MINUTES, "kind"] = "late_cancelled"
    lost.loc[lost["status"] == "no_show", "kind"] = "no_show"
    kept = rows.loc[rows["status"] != "cancelled", ["id", "staff_id", "starts_at", "ends_at"]]
    kept = kept.rename(columns={"id": "other", "starts_at": "at", "ends_at": "other_ends"})
    probe = lost.assign(at=lost["ends_at"] - pd.Timedelta(microseconds=1)).sort_values("at")
    matched = pd.merge_asof(probe, kept.sort_values("at"), on="at", by="staff_id")
    matched["refilled"] = (matched["other"] != matched["id"]) & (
        matched["other_ends"] > matched["starts_at"]
    )
    matched["at_risk_cents"] = matched["price_cents"].where(~matched["refilled"], 0)
    return matched.groupby("kind", as_index=False).agg(
        appointments=("id", "size"), value_cents=("price_cents", "sum"),
        refilled=("refilled", "sum"), at_risk_cents=("at_risk_cents", "sum"),
    )  # fmt: skip

"""Everything the Overview shows, for the page, the HTML report, exports and the CLI.

SQL aggregates (data/analytics) and the rota (data/booking_queries) in, pure pandas
(analytics/) out. No Streamlit: the page caches this through ui/analytics_data.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from analytics.breakdowns import (
    build_cohorts,
    build_daily,
    build_heatmap,
    build_revenue_at_risk,
    build_service_board,
    build_staff_board,
)
from analytics.capacity import compute_capacity
from analytics.kpis import build_kpis
from analytics.report import Overview, ReportFilter
from auth.roles import Actor, Permission
from data import analytics as queries
from data.booking_queries import load_schedules
from data.business import load_business

DEFAULT_REBOOK_DAYS = 30


def build_overview(
    conn: Connection, *, actor: Actor, filters: ReportFilter, rebook_days: int = DEFAULT_REBOOK_DAYS
) -> Overview:
    """Compute the Overview for one business and filter (read-only)."""
    actor.require(Permission.VIEW_ANALYTICS)
    queries.begin_report(conn)
    business = load_business(conn, business_id=actor.business_id)
    tz = business["timezone"]
    catalog = queries.load_report_catalog(conn, actor=actor)
    summary = queries.load_summary(conn, actor=actor, tz=tz, filters=filters)
    capacity, previous_capacity = _capacities(conn, actor, tz, filters, catalog)
    available = {True: float(capacity["minutes"].sum()), False: float(previous_capacity)}
    mix = queries.load_customer_mix(
        conn, actor=actor, tz=tz, filters=filters, rebook_days=rebook_days
    )
    profile = queries.load_start_profile(conn, actor=actor, tz=tz, filters=filters)
    daily = queries.load_daily(conn, actor=actor, tz=tz, filters=filters)
    cohorts = queries.load_cohort_counts(conn, actor=actor, tz=tz, filters=filters)
    lost = queries.load_lost_slots(conn, actor=actor, tz=tz, filters=filters)
    return Overview(
        business_name=business["name"],
        timezone=tz,
        currency=business["currency"],
        filters=filters,
        rebook_days=rebook_days,
        kpis=build_kpis(summary, mix, available),
        daily=build_daily(daily, capacity, start=filters.start, end=filters.end),
        heatmap=build_heatmap(profile, capacity),
        staff_board=build_staff_board(summary, capacity, catalog["staff"]),
        service_board=build_service_board(summary, catalog["services"], available[True]),
        cohorts=build_cohorts(cohorts),
        revenue_at_risk=build_revenue_at_risk(lost),
        notes=_notes(rebook_days, capacity),
    )


def _capacity_staff(filters: ReportFilter, catalog: dict[str, pd.DataFrame]) -> list[int] | None:
    """Whose working hours count as capacity: the chosen staff (else every active one),
    narrowed to those who offer a chosen service."""
    staff = catalog["staff"]
    ids = set(filters.staff_ids) or set(staff.loc[staff["is_active"].astype(bool), "staff_id"])
    if filters.service_ids:
        offers = catalog["offers"]
        ids &= set(offers.loc[offers["service_id"].isin(filters.service_ids), "staff_id"])
    return sorted(int(i) for i in ids)


def _capacities(
    conn: Connection,
    actor: Actor,
    tz: str,
    filters: ReportFilter,
    catalog: dict[str, pd.DataFrame],
) -> tuple[pd.DataFrame, float]:
    """This period's capacity frame and the previous period's available minutes."""
    ids = _capacity_staff(filters, catalog)
    previous = filters.previous()
    frames = []
    for period in (filters, previous):
        start, end = queries.period_bounds(period, tz)
        schedules = (
            load_schedules(
                conn, actor=actor, start=start, end=end, staff_ids=ids, include_busy=False
            )
            if ids
            else []
        )
        frames.append(compute_capacity(schedules, tz=tz, start=start, end=end))
    return frames[0], float(frames[1]["minutes"].sum())


def _notes(rebook_days: int, capacity: pd.DataFrame) -> tuple[str, ...]:
    notes = [
        "Utilization compares booked time with today's working hours and recorded time off; "
        "past changes to the rota are not kept.",
        f"Rebooking counts a visit as rebooked when the customer booked again within "
        f"{rebook_days} days and before the period ended (both periods alike), so visits "
        "near the end of a period have had less time to be rebooked.",
    ]
    if not len(capacity):
        notes.append("No working hours in this period, so utilization can't be computed.")
    return tuple(notes)

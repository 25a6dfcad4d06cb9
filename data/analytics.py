"""Analytics aggregates in SQL: the Overview's numbers, grouped where the rows live.

Every function reads one business (`actor.business_id`), takes the report's filter and
returns small frames: a few hundred rows whatever the number of appointments. Local
days, hours and months are computed in SQL in the business's time zone (data/sql_time).
The definitions of the KPIs built from these live in analytics/kpis.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analytics.report import ReportFilter
from auth.roles import Actor, Permission
from data.schema import appointments, services, staff, staff_services, time_off, working_hours
from data.sql_time import LocalClock, minutes_between, plus_days
from scheduling.timezones import local_day_bounds

A = appointments.c
LATE_CANCEL_MINUTES = 24 * 60
NOT_CANCELLED = A.status != "cancelled"
BOOKED_STATUSES = ("booked", "confirmed", "completed", "no_show")


def begin_report(conn: Connection) -> None:
    """Settings for a report's read transaction (PostgreSQL): no JIT (compiling costs
    more than these sub-second queries save), room to hash and sort in memory, and the
    page cost of a cached or SSD-backed database, so the planner takes the index-only
    scans of the customer-history index (half the time of hashing the table)."""
    if conn.dialect.name == "postgresql":
        for setting in ("jit = off", "work_mem = '64MB'", "random_page_cost = 1.1"):
            conn.exec_driver_sql(f"SET LOCAL {setting}")


def period_bounds(filters: ReportFilter, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the filter's local days."""
    return local_day_bounds(filters.start, tz, days=filters.days)


def count_if(condition: Any) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _sum_if(condition: Any, value: Any) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def _filtered(
    query: sa.Select, actor: Actor, filters: ReportFilter, table: sa.FromClause = appointments
) -> sa.Select:
    """The business, and the filter's staff and services (not its dates)."""
    query = query.where(table.c.business_id == actor.business_id)
    if filters.staff_ids:
        query = query.where(table.c.staff_id.in_(filters.staff_ids))
    if filters.service_ids:
        query = query.where(table.c.service_id.in_(filters.service_ids))
    return query


def _scoped(
    query: sa.Select, actor: Actor, filters: ReportFilter, lo: datetime, hi: datetime
) -> sa.Select:
    """`_filtered`, and appointments starting in [lo, hi)."""
    return _filtered(query, actor, filters).where(A.starts_at >= lo, A.starts_at < hi)


def _frame(conn: Connection, query: sa.Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def load_summary(conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter) -> pd.DataFrame:
    """Totals for this period and the previous one, by staff member and service.

    Columns: current (bool), staff_id, service_id, bookings, completed, cancelled,
    late_cancelled, no_show, revenue_cents, booked_minutes, lead_minutes (sum of
    start - created over all bookings).
    """
    actor.require(Permission.VIEW_ANALYTICS)
    dialect = conn.dialect.name
    lo, _ = period_bounds(filters.previous(), tz)
    cur_lo, hi = period_bounds(filters, tz)
    duration = sa.func.round(minutes_between(dialect, A.starts_at, A.ends_at))
    notice = minutes_between(dialect, A.cancelled_at, A.starts_at)
    current = sa.case((A.starts_at >= cur_lo, 1), else_=0).label("current")
    query = sa.select(
        current,
        A.staff_id,
        A.service_id,
        sa.func.count().label("bookings"),
        count_if(A.status == "completed").label("completed"),
        count_if(A.status == "cancelled").label("cancelled"),
        count_if(sa.and_(A.status == "cancelled", notice < LATE_CANCEL_MINUTES)).label(
            "late_cancelled"
        ),
        count_if(A.status == "no_show").label("no_show"),
        _sum_if(A.status == "completed", A.price_cents).label("revenue_cents"),
        sa.cast(_sum_if(NOT_CANCELLED, duration), sa.Float).label("booked_minutes"),
        sa.cast(
            sa.func.coalesce(sa.func.sum(minutes_between(dialect, A.created_at, A.starts_at)), 0),
            sa.Float,
        ).label("lead_minutes"),
    ).group_by(current, A.staff_id, A.service_id)
    frame = _frame(conn, _scoped(query, actor, filters, lo, hi))
    frame["current"] = frame["current"].astype(bool)
    return frame


def load_customer_mix(
    conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter, rebook_days: int
) -> pd.DataFrame:
    """Per period (current True/False): completed visits by known customers (visits), how
    many were rebooked (the customer holds a later, not cancelled, appointment booked no
    later than `rebook_days` after the visit ended and before the period's end, so both
    periods are measured alike), customers with a visit (customers)
    and how many of them were new (first completed visit ever, at any staff member or
    service, in that period)."""
    actor.require(Permission.VIEW_ANALYTICS)
    prev_lo, _ = period_bounds(filters.previous(), tz)
    cur_lo, hi = period_bounds(filters, tz)
    bounds = (prev_lo, cur_lo, hi)
    return _merge_periods(
        _load_rebooking(conn, actor, filters, bounds, rebook_days),
        _load_visitors(conn, actor, filters, bounds),
        _load_new_customers(conn, actor, filters, bounds),
    )


def _load_rebooking(
    conn: Connection,
    actor: Actor,
    filters: ReportFilter,
    bounds: tuple[datetime, datetime, datetime],
    rebook_days: int,
) -> pd.DataFrame:
    """Visits per period, and those rebooked. The EXISTS sits in WHERE, so PostgreSQL
    runs it as a hashed semi-join; SQLite seeks the customer's history per visit.
    (A window over each customer's appointments was measured slower for 30-day ranges
    on both engines, and on PostgreSQL for a year too.)"""
    prev_lo, cur_lo, hi = bounds
    dialect = conn.dialect.name
    current = sa.case((A.starts_at >= cur_lo, 1), else_=0).label("current")
    visits = (
        _completed_in(appointments, actor, filters)
        .add_columns(A.starts_at, A.ends_at, current)
        .where(A.starts_at >= prev_lo, A.starts_at < hi)
        .subquery("visits")
    )
    v, later = visits.c, appointments.alias("later")
    rebooked = (
        sa.select(sa.literal(1))
        .where(
            later.c.customer_id == v.customer_id,
            later.c.starts_at > v.starts_at,
            later.c.status != "cancelled",
            later.c.created_at <= plus_days(dialect, v.ends_at, rebook_days),
            later.c.created_at < sa.case((v.current == 1, hi), else_=cur_lo),
            later.c.business_id == actor.business_id,
            later.c.starts_at > prev_lo,  # implied by the above; bounds PostgreSQL's hash
            later.c.created_at < hi,
        )
        .exists()
    )
    by_period = sa.select(v.current).group_by(v.current)
    return _merge_periods(
        _frame(conn, by_period.add_columns(sa.func.count().label("visits"))),
        _frame(conn, by_period.add_columns(sa.func.count().label("rebooked")).where(rebooked)),
    )


def _completed_in(table: sa.FromClause, actor: Actor, filters: ReportFilter) -> sa.Select:
    query = sa.select(table.c.customer_id).where(
        table.c.status == "completed", table.c.customer_id.is_not(None)
    )
    return _filtered(query, actor, filters, table)


def _load_visitors(
    conn: Connection, actor: Actor, filters: ReportFilter, bounds: tuple[datetime, ...]
) -> pd.DataFrame:
    prev_lo, cur_lo, hi = bounds
    current = sa.case((A.starts_at >= cur_lo, 1), else_=0).label("current")
    visitors = (
        _completed_in(appointments, actor, filters)
        .add_columns(current)
        .where(A.starts_at >= prev_lo, A.starts_at < hi)
        .distinct()
        .subquery("visitors")
    )
    query = sa.select(visitors.c.current, sa.func.count().label("customers"))
    return _frame(conn, query.group_by(visitors.c.current))


def _load_new_customers(
    conn: Connection, actor: Actor, filters: ReportFilter, bounds: tuple[datetime, ...]
) -> pd.DataFrame:
    """Customers whose first completed visit ever (unfiltered) falls in a period, and who
    have a (filtered) completed visit in it. The firsts come from one ordered index-only
    scan; the filtered check is one seek per new customer."""
    prev_lo, cur_lo, hi = bounds
    first_at = sa.func.min(A.starts_at)
    firsts = (
        sa.select(A.customer_id, first_at.label("first_at"))
        .where(
            A.business_id == actor.business_id,
            A.status == "completed",
            A.customer_id.is_not(None),
            A.starts_at < hi,
        )
        .group_by(A.customer_id)
        .having(first_at >= prev_lo)
        .cte("firsts")
        .prefix_with("MATERIALIZED")
    )
    is_current = firsts.c.first_at >= cur_lo
    visit = appointments.alias("visit")
    in_period = (
        _completed_in(visit, actor, filters)
        .where(
            visit.c.customer_id == firsts.c.customer_id,
            visit.c.starts_at >= sa.case((is_current, cur_lo), else_=prev_lo),
            visit.c.starts_at < sa.case((is_current, hi), else_=cur_lo),
        )
        .exists()
    )
    current = sa.case((is_current, 1), else_=0).label("current")
    query = sa.select(current, sa.func.count().label("new_customers")).where(in_period)
    return _frame(conn, query.group_by(current))


def _merge_periods(*frames: pd.DataFrame) -> pd.DataFrame:
    merged = pd.DataFrame({"current": [0, 1]})
    for frame in frames:
        frame = frame.astype({"current": int})
        merged = merged.merge(frame, on="current", how="left")
    merged = merged.fillna(0)
    for column in merged.columns:
        merged[column] = merged[column].astype(int)
    merged["current"] = merged["current"].astype(bool)
    return merged


def load_daily(conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter) -> pd.DataFrame:
    """Per local day of the period: bookings, completed, cancelled, no_show,
    revenue_cents, booked_minutes. Days without bookings are absent."""
    actor.require(Permission.VIEW_ANALYTICS)
    lo, hi = period_bounds(filters, tz)
    clock = LocalClock.over(conn.dialect.name, tz, lo, hi)
    day = clock.day(A.starts_at).label("day")
    duration = sa.func.round(minutes_between(conn.dialect.name, A.starts_at, A.ends_at))
    query = sa.select(
        day,
        sa.func.count().label("bookings"),
        count_if(A.status == "completed").label("completed"),
        count_if(A.status == "cancelled").label("cancelled"),
        count_if(A.status == "no_show").label("no_show"),
        _sum_if(A.status == "completed", A.price_cents).label("revenue_cents"),
        sa.cast(_sum_if(NOT_CANCELLED, duration), sa.Float).label("booked_minutes"),
    ).group_by(day)
    frame = _frame(conn, _scoped(query, actor, filters, lo, hi))
    frame["day"] = pd.to_datetime(frame["day"].astype(str))
    return frame


def load_start_profile(
    conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter
) -> pd.DataFrame:
    """Not-cancelled bookings of the period by local start (day of week with 0 = Sunday,
    hour, minute) and length in minutes: columns dow, hour, minute, minutes, bookings.
    Few rows (starts sit on a grid), and exact enough to spread booked time over hours."""
    actor.require(Permission.VIEW_ANALYTICS)
    lo, hi = period_bounds(filters, tz)
    query = start_profile_select(conn.dialect.name, tz, lo, hi)
    return _frame(conn, _scoped(query, actor, filters, lo, hi))


def start_profile_select(dialect: str, tz: str, lo: datetime, hi: datetime) -> sa.Select:
    """The start-profile query (see load_start_profile), not yet scoped: the caller adds
    the business, the period [lo, hi) and any filters, and checks the permission."""
    clock = LocalClock.over(dialect, tz, lo, hi)
    dow, hour, minute = clock.dow_hour_minute(A.starts_at)
    duration = sa.func.round(minutes_between(dialect, A.starts_at, A.ends_at))
    columns = (dow.label("dow"), hour.label("hour"), minute.label("minute"))
    length = sa.cast(duration, sa.Integer).label("minutes")
    return (
        sa.select(*columns, length, sa.func.count().label("bookings"))
        .where(NOT_CANCELLED)
        .group_by(*columns, length)
    )


def load_cohort_counts(
    conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter, months: int = 12
) -> pd.DataFrame:
    """Customers by local month of first completed visit (the last `months` months up to
    the period's end) x local month of activity: columns cohort_month, active_month,
    customers (month values are year * 12 + month - 1). Visits honour the staff and
    service filters; "first" looks at all history before the period's end."""
    actor.require(Permission.VIEW_ANALYTICS)
    _, hi = period_bounds(filters, tz)
    end_month = filters.end.year * 12 + filters.end.month - 1
    first_month = end_month - months + 1
    window_lo = local_day_bounds(
        filters.end.replace(year=first_month // 12, month=first_month % 12 + 1, day=1), tz
    )[0]
    clock = LocalClock.over(conn.dialect.name, tz, window_lo, hi)
    first_at = sa.func.min(A.starts_at)
    firsts_all = (  # every customer's first completed visit: one ordered index-only scan
        _filtered(sa.select(A.customer_id, first_at.label("first_at")), actor, filters)
        .where(A.status == "completed", A.customer_id.is_not(None), A.starts_at < hi)
        .group_by(A.customer_id)
        .having(first_at >= window_lo)
        .cte("firsts_all")
        .prefix_with("MATERIALIZED")
    )
    firsts = (  # materialised, so each customer's cohort month is computed once
        sa.select(
            firsts_all.c.customer_id,
            clock.month_index(firsts_all.c.first_at).label("cohort_month"),
        )
        .cte("firsts")
        .prefix_with("MATERIALIZED")
    )
    cohort = firsts.c.cohort_month
    month = clock.month_index(A.starts_at).label("active_month")
    query = (
        _scoped(
            sa.select(cohort, month, sa.func.count(sa.distinct(A.customer_id)).label("customers")),
            actor,
            filters,
            window_lo,
            hi,
        )
        .join_from(firsts, appointments, A.customer_id == firsts.c.customer_id)
        .where(A.status == "completed")
        .group_by(cohort, month)
    )
    return _frame(conn, query)


def load_lost_slots(
    conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter
) -> pd.DataFrame:
    """Cancelled and no-show appointments of the period, by kind ("cancelled",
    "late_cancelled" = under 24 h notice, "no_show"): appointments, value_cents, and
    refilled = how many of them had their time taken by another, not cancelled, booking
    of the same staff member (any overlap)."""
    actor.require(Permission.VIEW_ANALYTICS)
    lo, hi = period_bounds(filters, tz)
    notice = minutes_between(conn.dialect.name, A.cancelled_at, A.starts_at)
    kind = sa.case(
        (A.status == "no_show", "no_show"),
        (notice < LATE_CANCEL_MINUTES, "late_cancelled"),
        else_="cancelled",
    ).label("kind")
    other = appointments.alias("other")
    refilled = sa.exists().where(
        other.c.business_id == actor.business_id,
        other.c.staff_id == A.staff_id,
        other.c.id != A.id,
        other.c.status != "cancelled",
        other.c.starts_at >= plus_days(conn.dialect.name, A.starts_at, -1),  # bounds the seek
        other.c.starts_at < A.ends_at,
        other.c.ends_at > A.starts_at,
    )
    query = (
        sa.select(
            kind,
            sa.func.count().label("appointments"),
            sa.func.coalesce(sa.func.sum(A.price_cents), 0).label("value_cents"),
            count_if(refilled).label("refilled"),
            _sum_if(sa.not_(refilled), A.price_cents).label("at_risk_cents"),
        )
        .where(A.status.in_(("cancelled", "no_show")))
        .group_by(kind)
    )
    return _frame(conn, _scoped(query, actor, filters, lo, hi))


def load_report_catalog(conn: Connection, *, actor: Actor) -> dict[str, pd.DataFrame]:
    """Names for the report: staff (staff_id, staff, is_active), services (service_id,
    service, category, is_active) and offers (staff_id, service_id)."""
    actor.require(Permission.VIEW_ANALYTICS)
    business = actor.business_id
    queries = {
        "staff": sa.select(
            staff.c.id.label("staff_id"), staff.c.display_name.label("staff"), staff.c.is_active
        ).where(staff.c.business_id == business),
        "services": sa.select(
            services.c.id.label("service_id"),
            services.c.name.label("service"),
            services.c.category,
            services.c.is_active,
        ).where(services.c.business_id == business),
        "offers": sa.select(staff_services.c.staff_id, staff_services.c.service_id).where(
            staff_services.c.business_id == business
        ),
    }
    return {
        name: _frame(conn, query.order_by(*query.selected_columns[:1]))
        for name, query in queries.items()
    }


def load_analytics_version(conn: Connection, *, actor: Actor) -> tuple[Any, ...]:
    """A cheap fingerprint of everything the reports read: the latest appointment write,
    and the latest change (or row count) of staff, services, offers, hours and time off.
    Index seeks and tiny tables, so it is read on every render."""
    business = actor.business_id
    latest = (
        sa.select(A.updated_at, A.id)
        .where(A.business_id == business)
        .order_by(A.updated_at.desc(), A.id.desc())
        .limit(1)
    )
    row = conn.execute(latest).first()
    small = sa.select(
        sa.select(sa.func.max(staff.c.updated_at))
        .where(staff.c.business_id == business)
        .scalar_subquery(),
        sa.select(sa.func.max(services.c.updated_at))
        .where(services.c.business_id == business)
        .scalar_subquery(),
        sa.select(sa.func.count())
        .where(staff_services.c.business_id == business)
        .scalar_subquery(),
        sa.select(sa.func.count()).where(working_hours.c.business_id == business).scalar_subquery(),
        sa.select(sa.func.max(working_hours.c.id))
        .where(working_hours.c.business_id == business)
        .scalar_subquery(),
        sa.select(sa.func.count()).where(time_off.c.business_id == business).scalar_subquery(),
        sa.select(sa.func.max(time_off.c.updated_at))
        .where(time_off.c.business_id == business)
        .scalar_subquery(),
    )
    return (tuple(row) if row else (None, None), tuple(conn.execute(small).one()))

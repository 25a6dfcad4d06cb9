"""Reads behind the smart slot suggestions of the booking form (issue 8, item 5).

A customer's past completed visits, the business's idle capacity by local weekday x
hour over the last weeks, and every free slot of a service in the next days. Reads
only; each needs MANAGE_BOOKINGS (the front desk) and is scoped to `actor.business_id`:
another business's customer is `NotFound`, its staff `NotFound`, its rows never count.
The ranking itself is pure: `scheduling.slot_ranking`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analytics.breakdowns import build_heatmap
from analytics.capacity import compute_capacity
from auth.roles import Actor, Permission
from data.analytics import start_profile_select
from data.booking_queries import (
    build_service_spec,
    load_booking_policy,
    load_schedules,
    load_service_row,
)
from data.business import NotFound
from data.schema import appointments, customers
from data.types import utcnow
from scheduling.availability import Slot, find_free_slots
from scheduling.slot_ranking import build_idle_map
from scheduling.timezones import local_day_bounds

A = appointments.c
MAX_SLOTS = 5000  # free slots considered at most (earliest first)


@dataclass(frozen=True)
class VisitPattern:
    """A customer's first name (for the UI's heading) and latest completed visits."""

    customer_id: int
    first_name: str
    visits: list[dict[str, Any]]  # starts_at (UTC), staff_id, service_id, status; newest first


def load_customer_visit_pattern(
    conn: Connection, *, actor: Actor, customer_id: int, limit: int = 50
) -> VisitPattern:
    """The customer's latest `limit` completed visits; NotFound outside this business."""
    actor.require(Permission.MANAGE_BOOKINGS)
    name = conn.execute(
        sa.select(customers.c.first_name).where(
            customers.c.business_id == actor.business_id, customers.c.id == customer_id
        )
    ).first()
    if name is None:
        raise NotFound(f"customer {customer_id} does not exist in this business")
    query = (
        sa.select(A.starts_at, A.staff_id, A.service_id, A.status)
        .where(
            A.business_id == actor.business_id,
            A.status == "completed",
            A.customer_id == customer_id,
        )
        .order_by(A.starts_at.desc())  # no id tie-break: the customer index serves the order
        .limit(max(limit, 0))
    )
    visits = [dict(row) for row in conn.execute(query).mappings()]
    return VisitPattern(customer_id, str(name[0]), visits)


def load_idle_profile(
    conn: Connection, *, actor: Actor, weeks: int = 8, today: date
) -> dict[tuple[int, int], float]:
    """{(local weekday 0 = Monday, local hour): free share 0..1} over the `weeks` full
    weeks of local days before `today`: 1 - booked / available minutes, where available
    is today's rota of the active staff minus recorded time off (as on the Overview).
    Hours nobody works are absent."""
    actor.require(Permission.MANAGE_BOOKINGS)
    tz = load_booking_policy(conn, actor=actor).timezone
    start, end = local_day_bounds(today - timedelta(weeks=weeks), tz, days=7 * weeks)
    profile = _load_booked_profile(conn, actor=actor, tz=tz, start=start, end=end)
    schedules = load_schedules(conn, actor=actor, start=start, end=end, include_busy=False)
    heatmap = build_heatmap(profile, compute_capacity(schedules, tz=tz, start=start, end=end))
    columns = ("weekday", "hour", "booked_minutes", "available_minutes")
    return build_idle_map(zip(*(heatmap[column] for column in columns), strict=True))


def _load_booked_profile(
    conn: Connection, *, actor: Actor, tz: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """Not-cancelled bookings starting in [start, end) by local start and length: dow
    (0 = Sunday), hour, minute, minutes, bookings (analytics.breakdowns' profile). The
    Overview's query, scoped here: its loader needs VIEW_ANALYTICS, which staff lack."""
    query = start_profile_select(conn.dialect.name, tz, start, end).where(
        A.business_id == actor.business_id, A.starts_at >= start, A.starts_at < end
    )
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def find_slots_ahead(
    conn: Connection,
    *,
    actor: Actor,
    service_id: int,
    staff_id: int | None = None,
    days: int = 14,
    now: datetime | None = None,
    limit: int = MAX_SLOTS,
) -> list[Slot]:
    """Every free slot (at most `limit`, earliest first) of the service that starts
    within `days` days of now (and the policy's notice and horizon): with one staff
    member, or with any active one who offers it. The same rules as `find_slots`."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = now or utcnow()
    service = load_service_row(conn, actor=actor, service_id=service_id)
    if limit <= 0 or days <= 0 or not service["is_active"]:
        return []
    policy = load_booking_policy(conn, actor=actor)
    policy = replace(policy, max_days_ahead=min(policy.max_days_ahead, days))
    spec = build_service_spec(service)
    earliest = now + policy.min_notice
    schedules = load_schedules(
        conn, actor=actor, start=earliest,
        end=now + timedelta(days=policy.max_days_ahead) + spec.occupies,
        staff_ids=None if staff_id is None else [staff_id],
    )  # fmt: skip
    return find_free_slots(schedules, spec, policy=policy, now=now, limit=limit)

"""Counts of appointments for the home page: one aggregate query, scoped to the business."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor
from data.schema import appointments, staff


def load_agenda_counts(
    conn: Connection, *, actor: Actor, start: datetime, end: datetime
) -> list[dict[str, object]]:
    """Appointments starting in [start, end) by staff member and status (no customer data)."""
    query = (
        sa.select(
            staff.c.display_name.label("staff"),
            appointments.c.status,
            sa.func.count().label("appointments"),
            sa.func.sum(appointments.c.price_cents).label("value_cents"),
        )
        .join(staff, staff.c.id == appointments.c.staff_id)
        .where(
            appointments.c.business_id == actor.business_id,
            appointments.c.starts_at >= start,
            appointments.c.starts_at < end,
        )
        .group_by(staff.c.display_name, appointments.c.status)
        .order_by(staff.c.display_name, appointments.c.status)
    )
    return [dict(row) for row in conn.execute(query).mappings()]

"""What reminder planning reads: upcoming appointments with their service and staff names,
their customers' contact details and consents, the idempotency keys already in the
outbox, and the queued reminders to check for withdrawal. Scoped to the actor's business;
needs MANAGE_BOOKINGS (owners, staff, and the dispatcher acting for the business)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.schema import appointments, customers, notifications, services, staff

A, C, N = appointments.c, customers.c, notifications.c
CHUNK = 5_000
CUSTOMER_COLUMNS = (C.id, C.first_name, C.phone, C.email, C.sms_opt_in, C.sms_opt_in_at,
                    C.email_opt_in, C.email_opt_in_at)  # fmt: skip


LIVE_STATUSES = ("queued", "sending", "sent", "delivered")  # a message on its way or out


@dataclass(frozen=True)
class ReminderInputs:
    appointments: list[dict[str, Any]]  # id, customer_id, staff_id, service_id, starts_at, ...
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    already: set[str] = field(default_factory=set)  # keys in the outbox, any status
    # (appointment_id, channel, template_kind) of messages queued or sent (LIVE_STATUSES)
    reminded: set[tuple[int, str, str]] = field(default_factory=set)


def load_reminder_inputs(
    conn: Connection, *, actor: Actor, start: datetime, end: datetime
) -> ReminderInputs:
    """Appointments starting in [start, end) (every status: the planner reports cancelled
    ones), soonest first, with staff_id, service_id, service_name and staff_name; their
    customers by id; the outbox keys already used for them; and which of them have a
    message of a kind on a channel queued or sent already (`reminded`)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = (
        sa.select(
            A.id,
            A.customer_id,
            A.staff_id,
            A.service_id,
            A.starts_at,
            A.status,
            services.c.name.label("service_name"),
            staff.c.display_name.label("staff_name"),
        )  # fmt: skip
        .join(services, services.c.id == A.service_id)
        .join(staff, staff.c.id == A.staff_id)
        .where(A.business_id == actor.business_id, A.starts_at >= start, A.starts_at < end)
        .order_by(A.starts_at, A.id)
    )
    rows = [dict(row) for row in conn.execute(query).mappings()]
    people = sorted({row["customer_id"] for row in rows if row["customer_id"] is not None})
    keys, reminded = _outbox_of(conn, actor, [row["id"] for row in rows])
    return ReminderInputs(rows, _customers(conn, actor, people), keys, reminded)


def _customers(conn: Connection, actor: Actor, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        query = sa.select(*CUSTOMER_COLUMNS).where(
            C.business_id == actor.business_id, C.id.in_(chunk)
        )
        found.update({int(row["id"]): dict(row) for row in conn.execute(query).mappings()})
    return found


def _outbox_of(
    conn: Connection, actor: Actor, appointment_ids: Sequence[int]
) -> tuple[set[str], set[tuple[int, str, str]]]:
    """The outbox keys of these appointments' messages (any status), and (appointment,
    channel, kind) of those queued or sent."""
    keys: set[str] = set()
    reminded: set[tuple[int, str, str]] = set()
    for chunk in _chunks(appointment_ids):
        query = sa.select(
            N.idempotency_key, N.appointment_id, N.channel, N.template_kind, N.status
        ).where(N.business_id == actor.business_id, N.appointment_id.in_(chunk))
        for row in conn.execute(query).mappings():
            keys.add(row["idempotency_key"])
            if row["status"] in LIVE_STATUSES:
                reminded.add((int(row["appointment_id"]), row["channel"], row["template_kind"]))
    return keys, reminded


def load_queued_reminders(conn: Connection, *, actor: Actor) -> list[dict[str, Any]]:
    """Queued outbox rows tied to an appointment (id, appointment_id, idempotency_key,
    status), and nothing else: the input of notifications.withdrawals."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = sa.select(N.id, N.appointment_id, N.idempotency_key, N.status).where(
        N.business_id == actor.business_id, N.status == "queued", N.appointment_id.is_not(None)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def load_appointment_states(
    conn: Connection, *, actor: Actor, appointment_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """id, starts_at and status of these appointments of the business (others absent)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(appointment_ids))):
        query = sa.select(A.id, A.starts_at, A.status).where(
            A.business_id == actor.business_id, A.id.in_(chunk)
        )
        rows.extend(dict(row) for row in conn.execute(query).mappings())
    return rows


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    values = list(ids)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]

"""Reads behind the notification history: the filtered outbox, messages per campaign, and
what became of the appointments that were (or were not) reminded.

Every query is scoped to `actor.business_id`; a message is tied to an appointment only
when both belong to the same business. Read-only: nothing here writes or audits.
- `load_outbox_page` and `campaign_message_counts` need MANAGE_BOOKINGS (the outbox
  holds contact details);
- `load_reminder_outcomes` needs VIEW_ANALYTICS or MANAGE_BOOKINGS: it returns ids,
  statuses, channels, variants and times, never a recipient or a body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission, PermissionDenied
from data.schema import CHANNELS, NOTIFICATION_STATUSES, appointments
from data.schema import notifications as N
from data.types import utcnow

PAGE_COLUMNS = (N.c.id, N.c.created_at, N.c.channel, N.c.recipient, N.c.template_kind,
                N.c.variant, N.c.campaign_id, N.c.appointment_id, N.c.status, N.c.status_reason,
                N.c.attempts, N.c.provider, N.c.sent_at, N.c.delivered_at,
                N.c.last_error)  # fmt: skip
MAX_PAGE = 1_000
REMINDER_KIND = "reminder"
REMINDED_STATUSES = ("sent", "delivered")  # a reminder that reached the provider
OUTCOME_COLUMNS = ("appointment_id", "status", "starts_at", "created_at", "source", "channel",
                   "variant", "sent_at")  # fmt: skip


def load_outbox_page(
    conn: Connection,
    *,
    actor: Actor,
    status: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
    campaign_id: int | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """This business's outbox rows, newest first, at most `limit` (1 to MAX_PAGE), with
    the PAGE_COLUMNS (no subject, no body). Each filter applies when given: one status,
    one channel, one template kind, one campaign, created at or after `since`. Raises
    ValueError for an unknown status or channel or a `limit` out of range."""
    actor.require(Permission.MANAGE_BOOKINGS)
    if status is not None and status not in NOTIFICATION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(NOTIFICATION_STATUSES)}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    filters = {N.c.status: status, N.c.channel: channel, N.c.template_kind: kind,
               N.c.campaign_id: campaign_id}  # fmt: skip
    query = sa.select(*PAGE_COLUMNS).where(N.c.business_id == actor.business_id)
    query = query.where(
        *(column == value for column, value in filters.items() if value is not None)
    )
    if since is not None:
        query = query.where(N.c.created_at >= since)
    query = query.order_by(N.c.created_at.desc(), N.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def campaign_message_counts(conn: Connection, *, actor: Actor) -> dict[int, dict[str, int]]:
    """{campaign_id: {status: messages}} for this business's campaigns that have outbox
    rows; every status present (0 when none). Campaigns without messages are absent."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = (
        sa.select(N.c.campaign_id, N.c.status, sa.func.count())
        .where(N.c.business_id == actor.business_id, N.c.campaign_id.is_not(None))
        .group_by(N.c.campaign_id, N.c.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for campaign_id, status, n in conn.execute(query).all():
        counts.setdefault(int(campaign_id), dict.fromkeys(NOTIFICATION_STATUSES, 0))
        counts[int(campaign_id)][status] = int(n)
    return counts


def load_reminder_outcomes(
    conn: Connection,
    *,
    actor: Actor,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The appointments that started in [since, min(until, now)) - past ones only - with
    their current status, when they were booked (created_at) and how (source), one row
    per reminder that reached the provider (template kind
    "reminder", status sent or delivered): OUTCOME_COLUMNS, soonest first. An appointment
    without such a reminder (the baseline) has one row with channel, variant and sent_at
    missing. Times are tz-aware UTC. `now` defaults to the current time."""
    if not (actor.can(Permission.VIEW_ANALYTICS) or actor.can(Permission.MANAGE_BOOKINGS)):
        raise PermissionDenied(f"the {actor.role.value} role may not see reminder outcomes")
    end = min(until, now or utcnow())
    A = appointments.c
    reminded = sa.and_(
        N.c.appointment_id == A.id,
        N.c.business_id == A.business_id,
        N.c.template_kind == REMINDER_KIND,
        N.c.status.in_(REMINDED_STATUSES),
        N.c.sent_at.is_not(None),
    )
    query = (
        sa.select(
            A.id.label("appointment_id"),
            A.status,
            A.starts_at,
            A.created_at,
            A.source,
            N.c.channel,
            N.c.variant,
            N.c.sent_at,
        )
        .select_from(appointments.outerjoin(N, reminded))
        .where(A.business_id == actor.business_id, A.starts_at >= since, A.starts_at < end)
        .order_by(A.starts_at, A.id, N.c.sent_at, N.c.id)
    )
    rows = [dict(row) for row in conn.execute(query).mappings()] if since < end else []
    frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    for column in ("starts_at", "created_at", "sent_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame

"""Who a campaign reaches: its segment's customers with their contact details and
consents, the outbox keys the campaign already used, and who has booked again since;
and customer tags, to build a segment from. Scoped to the actor's business; needs
MANAGE_BOOKINGS (owners and staff)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.business import NotFound
from data.reminders import CUSTOMER_COLUMNS
from data.schema import appointments, campaigns, customers, notifications

A, C, K, N = appointments.c, customers.c, campaigns.c, notifications.c
CHUNK = 5_000
UPCOMING = ("booked", "confirmed")


@dataclass(frozen=True)
class CampaignAudience:
    campaign: dict[str, Any]  # id, name, kind, channel, status, segment
    customer_ids: list[int]  # the segment's order; some may be gone since
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)  # the ones still here
    already: set[str] = field(default_factory=set)  # this campaign's keys in the outbox
    booked: set[int] = field(default_factory=set)  # with a booking starting after `now`


def load_campaign_audience(
    conn: Connection, *, actor: Actor, campaign_id: int, now: datetime
) -> CampaignAudience:
    """The campaign and its segment's customers (merged-away ones left out, so they read
    as gone), the outbox keys it used, and who of them holds an upcoming booking.
    NotFound unless the campaign is the business's."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = sa.select(K.id, K.name, K.kind, K.channel, K.status, K.segment).where(
        K.business_id == actor.business_id, K.id == campaign_id
    )
    row = conn.execute(query).mappings().one_or_none()
    if row is None:
        raise NotFound(f"campaign {campaign_id} not found")
    campaign = dict(row)
    ids = [int(i) for i in (campaign["segment"] or {}).get("customer_ids", [])]
    found: dict[int, dict[str, Any]] = {}
    booked: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        people = sa.select(*CUSTOMER_COLUMNS).where(
            C.business_id == actor.business_id, C.id.in_(chunk), C.merged_into_id.is_(None)
        )
        found.update({int(r["id"]): dict(r) for r in conn.execute(people).mappings()})
        upcoming = sa.select(A.customer_id).distinct().where(
            A.business_id == actor.business_id, A.customer_id.in_(chunk),
            A.starts_at > now, A.status.in_(UPCOMING),
        )  # fmt: skip
        booked.update(int(i) for i in conn.execute(upcoming).scalars())
    used = sa.select(N.idempotency_key).where(
        N.business_id == actor.business_id, N.campaign_id == campaign_id
    )
    return CampaignAudience(campaign, ids, found, set(conn.execute(used).scalars()), booked)


def count_customer_tags(conn: Connection, *, actor: Actor) -> dict[str, int]:
    """Every tag of the business's (unmerged) customers with how many carry it, most
    used first."""
    actor.require(Permission.MANAGE_BOOKINGS)
    counts: Counter[str] = Counter()
    for tags in _tag_lists(conn, actor):
        counts.update(set(tags))
    return dict(counts.most_common())


def customers_with_tags(conn: Connection, *, actor: Actor, tags: Sequence[str]) -> list[int]:
    """Ids of the business's (unmerged) customers carrying any of `tags`, ascending."""
    actor.require(Permission.MANAGE_BOOKINGS)
    wanted = {str(tag) for tag in tags}
    query = sa.select(C.id, C.tags).where(
        C.business_id == actor.business_id, C.merged_into_id.is_(None)
    )
    rows = conn.execute(query.order_by(C.id)).all()
    return [int(i) for i, found in rows if wanted & {str(t) for t in (found or [])}]


def _tag_lists(conn: Connection, actor: Actor) -> list[list[Any]]:
    query = sa.select(C.tags).where(C.business_id == actor.business_id, C.merged_into_id.is_(None))
    return [list(tags or []) for tags in conn.execute(query).scalars()]


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    values = list(ids)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def customers_for_window(
    conn: Connection,
    *,
    actor: Actor,
    weekday: int,
    start_hour: int,
    end_hour: int,
    tz: str,
    since: datetime,
    now: datetime,
) -> list[int]:
    """Customers who came at least once in this local window (weekday 0 = Monday, hours
    [start_hour, end_hour)) since `since`, and hold no upcoming booking: the audience of a
    campaign to fill that window. Unmerged customers only; ascending ids."""
    actor.require(Permission.MANAGE_BOOKINGS)
    visits = sa.select(A.customer_id, A.starts_at).where(
        A.business_id == actor.business_id, A.customer_id.is_not(None),
        A.starts_at >= since, A.starts_at < now, A.status == "completed",
    )  # fmt: skip
    zone = ZoneInfo(tz)
    found = set()
    for customer_id, starts_at in conn.execute(visits):
        local = starts_at.astimezone(zone)
        if local.weekday() == weekday and start_hour <= local.hour < end_hour:
            found.add(int(customer_id))
    booked = sa.select(A.customer_id).where(
        A.business_id == actor.business_id, A.starts_at > now, A.status.in_(UPCOMING)
    )
    merged = sa.select(C.id).where(C.business_id == actor.business_id,
                                   C.merged_into_id.is_not(None))  # fmt: skip
    found -= {int(i) for i in conn.execute(booked).scalars() if i is not None}
    found -= set(conn.execute(merged).scalars())
    return sorted(found)

"""Campaign drafts: a named audience (segment) for a kind of message on one channel.

Creating one, and recording a send, need MANAGE_BOOKINGS (owners and staff; analysts may
not); listing needs VIEW_ANALYTICS or MANAGE_BOOKINGS. Every query is scoped to
`actor.business_id`. A segment is a JSON mapping; when it names customers
("customer_ids"), they must all be this business's. The audit entry of a new draft
carries no customer data: the number of customers and the segment's keys only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission, PermissionDenied
from data.audit import record_audit
from data.business import NotFound
from data.forecasts import to_json_value
from data.schema import CHANNELS, campaigns, customers
from data.types import utcnow

CAMPAIGN_KINDS = ("win_back", "reminder", "announcement")
CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "done", "cancelled")
MAX_NAME_LENGTH = 200
CHUNK_IDS = 10_000
K = campaigns.c
_LISTED = (K.id, K.name, K.kind, K.channel, K.status, K.segment, K.created_by, K.created_at)


def create_campaign_draft(
    conn: Connection, *, actor: Actor, name: str, kind: str, channel: str, segment: Mapping
) -> int:
    """Store a draft campaign and its audit entry in the caller's transaction; returns
    its id. `name` is stripped (1 to 200 characters), `kind` one of CAMPAIGN_KINDS,
    `channel` one of the schema's CHANNELS, `segment` a JSON-able mapping (numpy
    numbers become numbers). A "customer_ids" entry must be a non-empty list of this
    business's customer ids; it is stored without repeats, in the given order.
    Raises ValueError naming the first problem; nothing is written then.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    name = _checked_name(name)
    if kind not in CAMPAIGN_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CAMPAIGN_KINDS)}, not {kind!r}")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    document = _checked_segment(segment)
    if "customer_ids" in document:
        document["customer_ids"] = _checked_audience(conn, actor, document["customer_ids"])
    now = utcnow()
    values = {"name": name, "kind": kind, "channel": channel, "segment": document,
              "status": "draft", "created_by": actor.account_id}  # fmt: skip
    insert = campaigns.insert().values(
        **values, business_id=actor.business_id, created_at=now, updated_at=now
    )
    campaign_id = int(conn.execute(insert.returning(K.id)).scalar_one())
    summary: dict[str, Any] = {key: values[key] for key in ("name", "kind", "channel", "status")}
    summary |= {"audience": _audience(document), "segment_keys": sorted(document)}
    record_audit(
        conn, actor=actor, action="create", entity="campaigns", entity_id=campaign_id,
        after=summary,
    )  # fmt: skip
    return campaign_id


def record_campaign_sent(
    conn: Connection, *, actor: Actor, campaign_id: int, enqueued: int, skipped: int
) -> None:
    """A send of the campaign put `enqueued` new messages in the outbox (`skipped` were
    not sent): its status becomes "done" (a later send may still reach customers who
    became reachable since), with an audit entry of the counts. Needs MANAGE_BOOKINGS;
    NotFound unless it is the business's; ValueError for a cancelled campaign."""
    actor.require(Permission.MANAGE_BOOKINGS)
    mine = sa.and_(K.business_id == actor.business_id, K.id == campaign_id)
    status = conn.execute(sa.select(K.status).where(mine)).scalar_one_or_none()
    if status is None:
        raise NotFound(f"campaign {campaign_id} not found")
    if status == "cancelled":
        raise ValueError("this campaign was cancelled")
    conn.execute(campaigns.update().where(mine).values(status="done", updated_at=utcnow()))
    record_audit(
        conn, actor=actor, action="send", entity="campaigns", entity_id=campaign_id,
        before={"status": status},
        after={"status": "done", "enqueued": int(enqueued), "skipped": int(skipped)},
    )  # fmt: skip


def list_campaigns(
    conn: Connection, *, actor: Actor, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The business's campaigns, newest first (at most `limit`), optionally of one
    status. Keys: id, name, kind, channel, status, segment, created_by, created_at,
    audience (how many customer_ids the segment names, None when it names none)."""
    if not (actor.can(Permission.VIEW_ANALYTICS) or actor.can(Permission.MANAGE_BOOKINGS)):
        raise PermissionDenied(f"the {actor.role.value} role may not see campaigns")
    query = sa.select(*_LISTED).where(K.business_id == actor.business_id)
    if status is not None:
        if status not in CAMPAIGN_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CAMPAIGN_STATUSES)}")
        query = query.where(K.status == status)
    query = query.order_by(K.created_at.desc(), K.id.desc()).limit(limit)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return [{**row, "audience": _audience(row["segment"])} for row in rows]


def _audience(segment: Mapping[str, Any]) -> int | None:
    ids = segment.get("customer_ids")
    return None if ids is None else len(ids)


def _checked_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise ValueError(f"name must have 1 to {MAX_NAME_LENGTH} characters")
    return name


def _checked_segment(segment: Mapping) -> dict[str, Any]:
    if not isinstance(segment, Mapping):
        raise ValueError("segment must be a mapping")
    document = to_json_value(segment)
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"segment must be JSON: {exc}") from exc
    return dict(document)


def _checked_audience(conn: Connection, actor: Actor, ids: Any) -> list[int]:
    """The ids without repeats; ValueError unless they are a non-empty list of integers
    that all name customers of the actor's business (counted in chunks of CHUNK_IDS)."""
    if not isinstance(ids, list) or not ids:
        raise ValueError("customer_ids must be a non-empty list")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("customer_ids must be whole numbers")
    unique = list(dict.fromkeys(ids))
    found = sum(_count_own(conn, actor, unique[i : i + CHUNK_IDS])
                for i in range(0, len(unique), CHUNK_IDS))  # fmt: skip
    if found < len(unique):
        raise ValueError(f"{len(unique) - found} customer id(s) are not customers of this business")
    return unique


def _count_own(conn: Connection, actor: Actor, ids: Sequence[int]) -> int:
    query = sa.select(sa.func.count()).where(
        customers.c.business_id == actor.business_id, customers.c.id.in_(ids)
    )
    return int(conn.execute(query).scalar_one())

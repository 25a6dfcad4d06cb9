"""The notification outbox: every message is a `notifications` row before it is sent.

Life of a row: queued -> sending (claimed, with a lease) -> sent, or back to queued for
a retry, or failed / skipped / withdrawn with a reason. Every transition is one UPDATE
guarded by a WHERE on the current status (and, from the dispatcher, on the claim's
attempt number), so a late worker whose lease expired cannot overwrite a newer outcome;
nothing ever goes from sent back to sending.

Enqueueing needs MANAGE_BOOKINGS and is scoped to `actor.business_id`: idempotency keys
start with f"b{business_id}:" and a repeated key is a no-op. The dispatcher's functions
(`claim_due`, `record_*`, `mark_opted_out`) take no actor: a system worker runs them,
across businesses unless `claim_due` is given one. They run in the caller's transaction;
on SQLite that is `write_tx` (BEGIN IMMEDIATE: one writer at a time), on PostgreSQL the
claim locks its rows with FOR UPDATE SKIP LOCKED so several workers never share a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.schema import CHANNELS, NOTIFICATION_STATUSES, appointments, campaigns, customers
from data.schema import notification_templates as templates
from data.schema import notifications as N
from data.types import utcnow

REQUIRED_KEYS = ("channel", "recipient", "body", "template_kind", "idempotency_key", "scheduled_at")
OPTIONAL_KEYS = ("subject", "template_id", "variant", "campaign_id", "appointment_id",
                 "customer_id")  # fmt: skip
CLAIMED_COLUMNS = (N.c.id, N.c.business_id, N.c.channel, N.c.recipient, N.c.subject, N.c.body,
                   N.c.idempotency_key, N.c.attempts, N.c.provider_message_id,
                   N.c.appointment_id, N.c.customer_id)  # fmt: skip
LISTED_COLUMNS = (N.c.id, N.c.channel, N.c.recipient, N.c.subject, N.c.template_kind, N.c.variant,
                  N.c.campaign_id, N.c.appointment_id, N.c.customer_id, N.c.status,
                  N.c.status_reason, N.c.attempts, N.c.scheduled_at, N.c.next_attempt_at,
                  N.c.provider, N.c.provider_message_id, N.c.last_error, N.c.sent_at,
                  N.c.created_at)  # fmt: skip
MAX_REASON = 200
MAX_ERROR = 2_000
CHUNK = 5_000
_OWNED = {"template_id": templates, "campaign_id": campaigns,
          "appointment_id": appointments, "customer_id": customers}  # fmt: skip


@dataclass(frozen=True)
class EnqueueResult:
    inserted: int
    duplicates: int  # keys already in the outbox (or repeated within the call)


def enqueue_messages(
    conn: Connection, *, actor: Actor, messages: Sequence[Mapping[str, Any]]
) -> EnqueueResult:
    """Insert queued rows in bulk; a row whose idempotency key exists is skipped.

    Each mapping has REQUIRED_KEYS (scheduled_at tz-aware) and may have OPTIONAL_KEYS.
    Raises ValueError (nothing written) for an unknown channel, a missing key, a key not
    starting with f"b{actor.business_id}:", or a template, campaign, appointment or
    customer id that is not this business's.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    if not messages:
        return EnqueueResult(0, 0)
    now = utcnow()
    rows = [_row(message, actor.business_id, now) for message in messages]
    for key, table in _OWNED.items():
        _check_owned(conn, table, {row[key] for row in rows if row[key] is not None}, actor)
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        inserted += _insert_ignoring_duplicates(conn, rows[start : start + CHUNK])
    return EnqueueResult(inserted, len(rows) - inserted)


def _row(message: Mapping[str, Any], business_id: int, now: datetime) -> dict[str, Any]:
    missing = [key for key in REQUIRED_KEYS if message.get(key) is None]
    if missing:
        raise ValueError(f"message is missing {', '.join(missing)}")
    if message["channel"] not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    key = str(message["idempotency_key"])
    if not key.startswith(f"b{business_id}:"):
        raise ValueError(f"idempotency keys must start with 'b{business_id}:'")
    row = {name: message[name] for name in REQUIRED_KEYS}
    row |= {name: message.get(name) for name in OPTIONAL_KEYS}
    return row | {"idempotency_key": key, "business_id": business_id, "status": "queued",
                  "attempts": 0, "created_at": now, "updated_at": now}  # fmt: skip


def _check_owned(conn: Connection, table: sa.Table, ids: set[Any], actor: Actor) -> None:
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = sa.select(table.c.id).where(
            table.c.business_id == actor.business_id, table.c.id.in_(chunk)
        )
        found = set(conn.execute(query).scalars())
        if len(found) < len(chunk):
            raise ValueError(f"{table.name} {sorted(set(chunk) - found)[:5]} not found")


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(N).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return len(conn.execute(insert.returning(N.c.id), rows).all())


def _due(now: datetime) -> sa.ColumnElement[bool]:
    queued = sa.and_(
        N.c.status == "queued",
        N.c.scheduled_at <= now,
        sa.or_(N.c.next_attempt_at.is_(None), N.c.next_attempt_at <= now),
    )
    lease_expired = sa.and_(N.c.status == "sending", N.c.next_attempt_at <= now)
    return sa.or_(queued, lease_expired)


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    business_id: int | None = None,
    channels: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Claim up to `limit` due rows, oldest due first, in the caller's transaction.

    Due: queued with scheduled_at <= now and no pending retry time after now, or
    sending whose lease (next_attempt_at) has expired - a crashed worker's rows. Claimed
    rows become sending with attempts + 1 and next_attempt_at = now + lease. Returns
    dicts with the CLAIMED_COLUMNS (attempts already incremented: the claim's token).
    """
    if limit <= 0:
        return []
    query = sa.select(N.c.id).where(_due(now))
    if business_id is not None:
        query = query.where(N.c.business_id == business_id)
    if channels is not None:
        query = query.where(N.c.channel.in_(list(channels)))
    order = sa.func.coalesce(N.c.next_attempt_at, N.c.scheduled_at)
    query = query.order_by(order, N.c.id).limit(limit).with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    update = (
        N.update()
        .where(N.c.id.in_(ids), _due(now))
        .values(
            status="sending", attempts=N.c.attempts + 1, next_attempt_at=now + lease, updated_at=now
        )
        .returning(*CLAIMED_COLUMNS)
    )
    claimed = {row["id"]: dict(row) for row in conn.execute(update).mappings()}
    return [claimed[i] for i in ids if i in claimed]


def _transition(
    conn: Connection,
    ids: Sequence[int],
    values: dict[str, Any],
    *,
    allowed: tuple[str, ...],
    attempt: int | None = None,
) -> int:
    """Apply `values` to the rows among `ids` whose status is in `allowed` (and whose
    attempts equal `attempt`, when given); returns how many rows changed."""
    assert set(allowed) <= set(NOTIFICATION_STATUSES)
    if not ids:
        return 0
    where: list[sa.ColumnElement[bool]] = [N.c.id.in_(list(ids)), N.c.status.in_(allowed)]
    if attempt is not None:
        where.append(N.c.attempts == attempt)
    return int(conn.execute(N.update().where(*where).values(**values)).rowcount)


def record_sent(
    conn: Connection,
    *,
    message_id: int,
    provider: str,
    provider_message_id: str,
    now: datetime,
    attempt: int | None = None,
) -> bool:
    """sending -> sent. False when the row is no longer this claim's (see `attempt`)."""
    values: dict[str, Any] = {"status": "sent", "provider": provider, "sent_at": now,
                              "provider_message_id": provider_message_id,
                              "next_attempt_at": None, "updated_at": now}  # fmt: skip
    return _transition(conn, [message_id], values, allowed=("sending",), attempt=attempt) == 1


def record_retry(
    conn: Connection,
    *,
    message_id: int,
    error: str,
    next_attempt_at: datetime,
    attempt: int | None = None,
) -> bool:
    """sending -> queued, due again at `next_attempt_at`, with the error kept."""
    values: dict[str, Any] = {"status": "queued", "last_error": error[:MAX_ERROR],
              "next_attempt_at": next_attempt_at, "updated_at": utcnow()}  # fmt: skip
    return _transition(conn, [message_id], values, allowed=("sending",), attempt=attempt) == 1


def record_failed(
    conn: Connection, *, message_id: int, error: str, reason: str, attempt: int | None = None
) -> bool:
    """queued or sending -> failed, with a short reason and the full error."""
    values = {"status": "failed", "status_reason": reason[:MAX_REASON],
              "last_error": error[:MAX_ERROR], "next_attempt_at": None,
              "updated_at": utcnow()}  # fmt: skip
    allowed = ("queued", "sending")
    return _transition(conn, [message_id], values, allowed=allowed, attempt=attempt) == 1


def record_skipped(conn: Connection, *, message_ids: Sequence[int], reason: str) -> int:
    """queued or sending -> skipped (not sent on purpose: no consent, no address ...)."""
    values = {"status": "skipped", "status_reason": reason[:MAX_REASON], "next_attempt_at": None,
              "updated_at": utcnow()}  # fmt: skip
    return _transition(conn, message_ids, values, allowed=("queued", "sending"))


def record_withdrawn(conn: Connection, *, message_ids: Sequence[int], reason: str) -> int:
    """queued or sending -> withdrawn (the appointment was cancelled or moved)."""
    values = {"status": "withdrawn", "status_reason": reason[:MAX_REASON],
              "next_attempt_at": None, "updated_at": utcnow()}  # fmt: skip
    return _transition(conn, message_ids, values, allowed=("queued", "sending"))


def requeue_failed(
    conn: Connection, *, actor: Actor, message_ids: Sequence[int], now: datetime
) -> int:
    """The retry button: this business's failed rows -> queued, due at `now`, attempts
    reset to 0. Returns how many rows changed; other rows are left alone."""
    actor.require(Permission.MANAGE_BOOKINGS)
    own = sa.select(N.c.id).where(N.c.business_id == actor.business_id, N.c.id.in_(message_ids))
    ids = list(conn.execute(own).scalars())
    values = {"status": "queued", "status_reason": None, "attempts": 0, "next_attempt_at": now,
              "updated_at": now}  # fmt: skip
    return _transition(conn, ids, values, allowed=("failed",))


def mark_opted_out(conn: Connection, *, customer_id: int, channel: str, now: datetime) -> bool:
    """The provider says this customer opted out of `channel`: consent off (the
    *_opt_in_at stamp records when), with an audit entry by "system:dispatcher".
    Returns False when the customer is gone or already opted out."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    flag = customers.c[f"{channel}_opt_in"]
    query = sa.select(customers.c.business_id).where(customers.c.id == customer_id, flag)
    business_id = conn.execute(query).scalar_one_or_none()
    if business_id is None:
        return False
    conn.execute(
        customers.update()
        .where(customers.c.id == customer_id)
        .values({flag.name: False, f"{channel}_opt_in_at": now, "updated_at": now})
    )
    system = Actor.operator(business_id=business_id, label="system:dispatcher")
    record_audit(
        conn, actor=system, action="update", entity="customers", entity_id=customer_id,
        before={flag.name: True}, after={flag.name: False, "reason": "provider opt-out"},
    )  # fmt: skip
    return True


def load_outbox(
    conn: Connection, *, actor: Actor, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """This business's outbox rows, newest first (LISTED_COLUMNS), optionally of one status."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = sa.select(*LISTED_COLUMNS).where(N.c.business_id == actor.business_id)
    if status is not None:
        if status not in NOTIFICATION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(NOTIFICATION_STATUSES)}")
        query = query.where(N.c.status == status)
    query = query.order_by(N.c.created_at.desc(), N.c.id.desc()).limit(limit).offset(offset)
    return [dict(row) for row in conn.execute(query).mappings()]


def count_by_status(conn: Connection, *, actor: Actor) -> dict[str, int]:
    """{status: rows} for this business, every status present (0 when none)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    mine = N.c.business_id == actor.business_id
    query = sa.select(N.c.status, sa.func.count()).where(mine).group_by(N.c.status)
    counts = dict.fromkeys(NOTIFICATION_STATUSES, 0)
    counts.update({status: int(n) for status, n in conn.execute(query).all()})
    return counts


# --- dispatcher recheck and delivery status (issue 7) ----------------------------------------

DELIVERY_STATUSES = ("delivered", "failed")
UNDELIVERED_REASON = "not delivered (provider report)"


def load_claimed_appointments(
    conn: Connection, *, message_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The dispatcher's recheck (a system worker: no actor). For each of these messages:
    {"template_kind", "idempotency_key", "appointment_id", "appointment_status",
    "starts_at", "consent"}: the appointment's status and start as they are NOW (None
    when the message has no appointment, or it is gone or another business's), and the
    customer's consent for the message's channel NOW (None when the message names no
    customer, or the customer is gone). One query per 5,000 ids."""
    A, C = appointments.c, customers.c
    same = sa.and_(A.id == N.c.appointment_id, A.business_id == N.c.business_id)
    own = sa.and_(C.id == N.c.customer_id, C.business_id == N.c.business_id)
    found: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(message_ids))
    for start in range(0, len(wanted), CHUNK):
        query = (
            sa.select(
                N.c.id,
                N.c.channel,
                N.c.template_kind,
                N.c.idempotency_key,
                N.c.appointment_id,
                A.status.label("appointment_status"),
                A.starts_at,
                C.id.label("customer_found"),
                C.sms_opt_in,
                C.email_opt_in,
            )  # fmt: skip
            .select_from(N.outerjoin(appointments, same).outerjoin(customers, own))
            .where(N.c.id.in_(wanted[start : start + CHUNK]))
        )
        found.update(
            {row["id"]: _claimed_check(dict(row)) for row in conn.execute(query).mappings()}
        )
    return found


def _claimed_check(row: Mapping[str, Any]) -> dict[str, Any]:
    check = {key: row[key] for key in ("template_kind", "idempotency_key", "appointment_id",
                                       "appointment_status", "starts_at")}  # fmt: skip
    found = row["customer_found"] is not None
    check["consent"] = bool(row[f"{row['channel']}_opt_in"]) if found else None
    return check


def record_delivery(
    conn: Connection, *, message_id: int, status: str, error: str | None, at: datetime
) -> bool:
    """sent -> delivered (delivered_at = `at`) or sent -> failed (the provider gave up
    after accepting it; `error` kept). False when the row is not "sent" (already
    recorded, or never sent). Raises ValueError for another `status`."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if status == "delivered":
        values["delivered_at"] = at
    else:
        values |= {"status_reason": UNDELIVERED_REASON,
                   "last_error": (error or "undelivered")[:MAX_ERROR]}  # fmt: skip
    return _transition(conn, [message_id], values, allowed=("sent",)) == 1


def load_recent_sent(
    conn: Connection, *, actor: Actor, provider: str, since: datetime, limit: int = 200
) -> list[dict[str, Any]]:
    """This business's rows still "sent" (no delivery report yet) by `provider`, sent at
    or after `since`, newest first, at most `limit`: dicts of id and provider_message_id."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = (
        sa.select(N.c.id, N.c.provider_message_id)
        .where(
            N.c.business_id == actor.business_id,
            N.c.status == "sent",
            N.c.provider == provider,
            N.c.sent_at >= since,
            N.c.provider_message_id.is_not(None),
        )  # fmt: skip
        .order_by(N.c.sent_at.desc(), N.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]

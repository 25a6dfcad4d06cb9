"""The dispatcher: claims due outbox rows, sends them, records each outcome.

Transactions are short and never wrap a send (one connection per batch, idle between):
1. one transaction claims a batch (rows -> sending, attempts + 1, leased until
   now + lease; FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite);
2. each message is sent OUTSIDE any transaction, paced by `rate_per_second`;
3. each outcome is recorded in its own transaction right after its send, guarded by
   the claim's attempt number, so a worker whose lease ran out cannot overwrite the
   outcome of the worker that reclaimed the row.

Delivery is at-least-once, with a window of one message per worker: a crash (or a lost
database) after a provider accepted a message but before `record_sent` committed leaves
the row in sending; after the lease it is reclaimed and sent again. Keeping the record
right after the send keeps that window to the one in-flight message. A crash anywhere
else (after the claim, before a send) only delays messages until the lease expires. A
reclaimed row that already carries a provider message id is recorded as sent without
sending again. Pick `lease` well above the slowest send (provider timeouts included).

Outcomes: a transient error (TransientSendError, or any unexpected exception) is
retried after an exponential backoff with full jitter (uniform in [0, min(cap,
base * 2 ** (attempt - 1))], at least the provider's retry-after), and fails for good
after `max_attempts`; a PermanentSendError fails at once, and one with `opted_out` also
turns the customer's consent for that channel off. A row with a blank recipient is
skipped. Only channels that have a sender are claimed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from data.outbox import (
    claim_due,
    mark_opted_out,
    record_failed,
    record_retry,
    record_sent,
    record_skipped,
)
from data.types import utcnow
from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    Sender,
    TransientSendError,
)

log = logging.getLogger("slotboard.notifications.dispatcher")
Progress = Callable[[int, int], None]  # (done, total) within the claimed batch


@dataclass(frozen=True)
class DispatchReport:
    """How the claimed messages ended. `stale`: the outcome was not recorded because the
    row was no longer this worker's claim (its lease ran out and another worker took it)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    stale: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped + self.stale

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


@dataclass(frozen=True)
class _Policy:
    lease: timedelta
    max_attempts: int
    backoff_base: timedelta
    backoff_cap: timedelta
    now_fn: Callable[[], datetime]
    rng: random.Random


class RateLimiter:
    """At most `rate_per_second` sends: waits (through `sleep`) until 1 / rate seconds
    have passed since the previous send. No limit when the rate is None or <= 0."""

    def __init__(
        self,
        rate_per_second: float | None,
        *,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate_per_second if rate_per_second and rate_per_second > 0 else 0.0
        self._sleep, self._clock = sleep, clock
        self._next: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def compute_backoff(
    attempt: int, *, base: timedelta, cap: timedelta, rng: random.Random
) -> timedelta:
    """Full jitter: uniform in [0, min(cap, base * 2 ** (attempt - 1))]."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=rng.uniform(0.0, ceiling))


def dispatch_once(
    engine: Engine,
    *,
    senders: Mapping[str, Sender],
    now_fn: Callable[[], datetime] = utcnow,
    batch_size: int = 100,
    lease: timedelta = timedelta(minutes=5),
    rate_per_second: float | None = 10.0,
    max_attempts: int = 5,
    backoff_base: timedelta = timedelta(seconds=30),
    backoff_cap: timedelta = timedelta(hours=1),
    rng: random.Random | None = None,
    business_id: int | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DispatchReport:
    """Claim one batch of due messages (of the channels in `senders`, of one business
    or all), send each, record each outcome; see the module docstring. Never raises for
    a send error; database errors propagate (claimed rows are then reclaimed after the
    lease). `progress(done, total)` is called after each message."""
    jitter = rng or random.Random()  # noqa: S311 - backoff jitter, not security
    policy = _Policy(lease, max_attempts, backoff_base, backoff_cap, now_fn, jitter)
    limiter = RateLimiter(rate_per_second, sleep=sleep, clock=clock)
    counts = dict.fromkeys(("sent", "retried", "failed", "skipped", "stale"), 0)
    with engine.connect() as conn:  # one connection; idle (no transaction) during sends
        with conn.begin():
            rows = claim_due(conn, now=now_fn(), limit=batch_size, lease=lease,
                             business_id=business_id, channels=list(senders))  # fmt: skip
        for done, row in enumerate(rows, start=1):
            counts[_deliver(conn, row, senders[row["channel"]], policy, limiter)] += 1
            if progress is not None:
                progress(done, len(rows))
    return DispatchReport(**counts)


def dispatch_pending(engine: Engine, *, max_batches: int = 1_000, **options: Any) -> DispatchReport:
    """`dispatch_once` until a claim finds nothing due (or `max_batches`); the sum."""
    total = DispatchReport()
    for _ in range(max_batches):
        report = dispatch_once(engine, **options)
        total += report
        if not report.claimed:
            break
    return total


def _deliver(
    conn: Connection, row: dict[str, Any], sender: Sender, policy: _Policy, limiter: RateLimiter
) -> str:
    """Send one claimed row and record the outcome; returns the report field to count."""
    if not (row["recipient"] or "").strip():
        return _record(conn, "skipped", record_skipped, message_ids=[row["id"]],
                       reason="no recipient")  # fmt: skip
    if row["provider_message_id"]:  # accepted by the provider before: never send again
        return _sent(conn, row, sender.name, row["provider_message_id"], policy)
    limiter.wait()
    try:
        result = sender.send(_message(row))
    except PermanentSendError as exc:
        return _record(conn, "failed", _fail, row=row, exc=exc, now=policy.now_fn())
    except TransientSendError as exc:
        return _retry_or_fail(conn, row, str(exc) or "transient error", exc.retry_after, policy)
    except Exception as exc:  # noqa: BLE001 - an unknown failure must not abort the batch
        log.exception("sender %s raised on message %s", sender.name, row["id"])
        return _retry_or_fail(conn, row, f"{type(exc).__name__}: {exc}", None, policy)
    return _sent(conn, row, sender.name, result.provider_message_id, policy)


def _message(row: Mapping[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        id=row["id"], business_id=row["business_id"], channel=row["channel"],
        recipient=row["recipient"], subject=row["subject"], body=row["body"],
        idempotency_key=row["idempotency_key"], attempt=row["attempts"],
    )  # fmt: skip


def _record(conn: Connection, outcome: str, write: Callable[..., int | bool], **kw: Any) -> str:
    """Run one record_* function in its own transaction; "stale" when it changed nothing."""
    with conn.begin():  # BEGIN IMMEDIATE on SQLite (data.db's begin hook)
        changed = write(conn, **kw)
    if not changed:
        which = kw.get("message_id", kw.get("message_ids"))
        log.warning("message %s: %s not recorded (no longer this worker's claim)", which, outcome)
    return outcome if changed else "stale"


def _sent(
    conn: Connection, row: dict[str, Any], provider: str, provider_id: str, p: _Policy
) -> str:
    return _record(
        conn, "sent", record_sent, message_id=row["id"], provider=provider,
        provider_message_id=provider_id, now=p.now_fn(), attempt=row["attempts"],
    )  # fmt: skip


def _fail(conn: Connection, *, row: dict[str, Any], exc: PermanentSendError, now: datetime) -> bool:
    failed = record_failed(conn, message_id=row["id"], error=str(exc) or exc.reason,
                           reason=exc.reason, attempt=row["attempts"])  # fmt: skip
    if failed and exc.opted_out and row["customer_id"] is not None:
        mark_opted_out(conn, customer_id=row["customer_id"], channel=row["channel"], now=now)
    return failed


def _retry_or_fail(
    conn: Connection, row: dict[str, Any], error: str, retry_after: float | None, p: _Policy
) -> str:
    ids = {"message_id": row["id"], "attempt": row["attempts"], "error": error}
    if row["attempts"] >= p.max_attempts:
        reason = f"gave up after {row['attempts']} attempts"
        return _record(conn, "failed", record_failed, reason=reason, **ids)
    delay = compute_backoff(row["attempts"], base=p.backoff_base, cap=p.backoff_cap, rng=p.rng)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return _record(conn, "retried", record_retry, next_attempt_at=p.now_fn() + delay, **ids)

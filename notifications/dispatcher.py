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

Recheck before sending: the claim transaction also loads, in one query, the current
status and start of the appointment of every claimed row that has one (or whose key has
the automatic-reminder shape of notifications.planning). A message is then withdrawn
instead of sent when its appointment is cancelled, no longer booked/confirmed, or gone
(a "cancellation" message is exempt from the status checks: it is about a cancelled
appointment); a reminder (automatic, or a manual one of kind "reminder") whose
appointment starts at or before `now` is skipped ("appointment already started"),
checked again right before the send, after any rate-limit wait. A message whose
customer has since withdrawn consent for its channel (a STOP reply, an opt-out in the
customer record) is skipped first of all: consent is checked when a message is planned
and again when it is sent. A moved appointment's
old reminder is withdrawn by the schedule (notifications.withdrawals); here it is only
never sent after the start. A cancellation after the claim is not seen until the next
batch.

Pacing: one `RateLimiter` (thread-safe) per `dispatch_pending` call, or the one passed in
as `limiter`; share one between worker threads to hold them all to one rate.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine

from data.outbox import (
    claim_due,
    load_claimed_appointments,
    mark_opted_out,
    record_failed,
    record_retry,
    record_sent,
    record_skipped,
    record_withdrawn,
)
from data.types import utcnow
from notifications.planning import UPCOMING_STATUSES, as_utc
from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    Sender,
    TransientSendError,
)
from notifications.withdrawals import WITHDRAW_CANCELLED, WITHDRAW_MISSING, WITHDRAW_NOT_UPCOMING

log = logging.getLogger("slotboard.notifications.dispatcher")
Progress = Callable[[int, int], None]  # (done, total) within the claimed batch
SKIP_STARTED = "appointment already started"
SKIP_NO_CONSENT = "no consent (withdrawn since it was queued)"
EXEMPT_KINDS = frozenset({"cancellation"})  # sent about a cancelled appointment
# notifications.planning's key: b{business}:a{appointment}:{kind}:{channel}:{nominal UTC}
_REMINDER_KEY = re.compile(r"^b\d+:a(\d+):[^:]+:(?:sms|email):\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass(frozen=True)
class DispatchReport:
    """How the claimed messages ended. `stale`: the outcome was not recorded because the
    row was no longer this worker's claim (its lease ran out and another worker took it)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    stale: int = 0
    withdrawn: int = 0

    @property
    def claimed(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

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


class Recheck(NamedTuple):
    """Why a claimed message must not be sent: `outcome` "withdrawn" or "skipped"."""

    outcome: str
    reason: str


class RateLimiter:
    """At most `rate_per_second` sends: waits (through `sleep`) until 1 / rate seconds
    have passed since the previous send. No limit when the rate is None or <= 0.
    Thread-safe: threads sharing one limiter share the rate (each reserves the next
    slot under a lock, then sleeps outside it)."""

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
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


def compute_recheck(check: Mapping[str, Any] | None, *, now: datetime) -> Recheck | None:
    """The dispatcher's verdict on one claimed message from `check` (a row of
    data.outbox.load_claimed_appointments; None: no appointment involved): None to send,
    else why not (module docstring). Pure."""
    if check is None:
        return None
    if check.get("consent") is False:
        return Recheck("skipped", SKIP_NO_CONSENT)
    reminder = _REMINDER_KEY.match(str(check.get("idempotency_key") or "")) is not None
    status = check.get("appointment_status")
    if status is None:
        gone = check.get("appointment_id") is not None or reminder
        return Recheck("withdrawn", WITHDRAW_MISSING) if gone else None
    if check.get("template_kind") not in EXEMPT_KINDS:
        if status == "cancelled":
            return Recheck("withdrawn", WITHDRAW_CANCELLED)
        if status not in UPCOMING_STATUSES:
            return Recheck("withdrawn", WITHDRAW_NOT_UPCOMING)
    about_to_start = reminder or check.get("template_kind") == "reminder"  # manual ones too
    if about_to_start and as_utc(check["starts_at"]) <= now:
        return Recheck("skipped", SKIP_STARTED)
    return None


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
    limiter: RateLimiter | None = None,
) -> DispatchReport:
    """Claim one batch of due messages (of the channels in `senders`, of one business
    or all), recheck their appointments, send each, record each outcome; see the module
    docstring. Never raises for a send error; database errors propagate (claimed rows are
    then reclaimed after the lease). `progress(done, total)` is called after each
    message. `limiter` (when given) replaces `rate_per_second`, `sleep` and `clock`."""
    jitter = rng or random.Random()  # noqa: S311 - backoff jitter, not security
    policy = _Policy(lease, max_attempts, backoff_base, backoff_cap, now_fn, jitter)
    pace = limiter or RateLimiter(rate_per_second, sleep=sleep, clock=clock)
    counts = dict.fromkeys((f.name for f in fields(DispatchReport)), 0)
    with engine.connect() as conn:  # one connection; idle (no transaction) during sends
        with conn.begin():
            rows = claim_due(conn, now=now_fn(), limit=batch_size, lease=lease,
                             business_id=business_id, channels=list(senders))  # fmt: skip
            checks = load_claimed_appointments(conn, message_ids=_to_recheck(rows))
        for done, row in enumerate(rows, start=1):
            sender, check = senders[row["channel"]], checks.get(row["id"])
            counts[_deliver(conn, row, check, sender, policy, pace)] += 1
            if progress is not None:
                progress(done, len(rows))
    return DispatchReport(**counts)


def dispatch_pending(engine: Engine, *, max_batches: int = 1_000, **options: Any) -> DispatchReport:
    """`dispatch_once` until a claim finds nothing due (or `max_batches`); the sum. One
    rate limiter paces every batch (built from the options unless `limiter` is given)."""
    if options.get("limiter") is None:
        pacing = {name: options.pop(name) for name in ("sleep", "clock") if name in options}
        options["limiter"] = RateLimiter(options.pop("rate_per_second", 10.0), **pacing)
    total = DispatchReport()
    for _ in range(max_batches):
        report = dispatch_once(engine, **options)
        total += report
        if not report.claimed:
            break
    return total


def _to_recheck(rows: list[dict[str, Any]]) -> list[int]:
    """Claimed rows whose appointment or customer's consent must be rechecked."""
    return [row["id"] for row in rows
            if row["appointment_id"] is not None or row["customer_id"] is not None
            or _REMINDER_KEY.match(row["idempotency_key"] or "")]  # fmt: skip


def _deliver(
    conn: Connection,
    row: dict[str, Any],
    check: Mapping[str, Any] | None,
    sender: Sender,
    policy: _Policy,
    limiter: RateLimiter,
) -> str:
    """Send one claimed row and record the outcome; returns the report field to count."""
    if row["provider_message_id"]:  # accepted by the provider before: never send again
        return _sent(conn, row, sender.name, row["provider_message_id"], policy)
    verdict = compute_recheck(check, now=policy.now_fn())
    if verdict is None and not (row["recipient"] or "").strip():
        verdict = Recheck("skipped", "no recipient")
    if verdict is None:
        limiter.wait()
        verdict = compute_recheck(check, now=policy.now_fn())  # the wait may pass the start
    if verdict is not None:
        write = record_withdrawn if verdict.outcome == "withdrawn" else record_skipped
        return _record(conn, verdict.outcome, write, message_ids=[row["id"]],
                       reason=verdict.reason)  # fmt: skip
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

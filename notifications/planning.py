"""Reminder planning: who gets which reminder, when, and why not. Pure (no I/O).

The dispatcher and `cli.py remind schedule` load rows, call `plan_reminders` (and
`notifications.withdrawals.plan_withdrawals`), and act on the answer (enqueue, withdraw).

Send time of a rule, in the business's zone. An offset of whole days keeps the LOCAL
wall-clock time: a 10:00 appointment is reminded at 10:00 local N days earlier, whatever DST
did in between (23 or 25 real hours across a switch); a skipped wall-clock time (spring gap)
moves to the end of the gap, an ambiguous one (autumn) is its first occurrence, as in the
calendar (`scheduling.catalog.to_utc`). Any other offset (2 h, 36 h) is real time:
`starts_at - offset`. That is the rule's *nominal* send time, and the idempotency key is
"b{business}:a{appointment}:{kind}:{channel}:{nominal UTC as YYYY-MM-DDTHH:MM:SSZ}": it
depends only on the start and the rule, so every run at any `now` gives the same key, and a
reschedule (new start) a new one.

Quiet hours (business local time, half-open [start, end), may wrap midnight; start == end:
none). A nominal send time inside them moves (1) EARLIER, to one minute before that quiet
period starts (20:59 the evening before for 21:00-08:00), if that is still after `now`; else
(2) LATER, to the end of the quiet period, if that is still before the appointment; else
(3) the reminder is skipped (SKIP_QUIET_HOURS). The key stays the nominal one, so the
`now`-dependent choice can never give one reminder two keys. The moved time is
`PlannedMessage.scheduled_at`.

A reminder is due when its (moved) send time is in (now - grace, now + horizon]; later ones
are left for a later run, earlier ones are skipped (SKIP_TOO_LATE). Only appointments that
start after `now` count: booked and confirmed ones are planned, cancelled ones reported
(SKIP_CANCELLED), completed and no-show ones ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifications.contacts import CHANNELS, check_recipient
from scheduling.catalog import to_utc

ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)
UPCOMING_STATUSES = ("booked", "confirmed")
DEFAULT_GRACE = timedelta(minutes=30)

SKIP_QUIET_HOURS = "quiet hours"
SKIP_ALREADY_REMINDED = "already reminded"
SKIP_CANCELLED = "appointment cancelled"
SKIP_TOO_LATE = "send time already passed"
SKIP_NO_CUSTOMER = "no customer record"


@dataclass(frozen=True)
class ReminderRule:
    """Send a `kind` message on `channel` `offset` before each appointment (offset > 0)."""

    channel: str
    offset: timedelta
    name: str = ""
    kind: str = "reminder"

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if self.offset <= timedelta(0):
            raise ValueError("a reminder offset must be positive")
        if not self.kind or ":" in self.kind:
            raise ValueError("a kind must be non-empty and contain no ':'")


@dataclass(frozen=True)
class QuietHours:
    """No sending in [start, end) local time; wraps midnight when start > end."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def period_of(self, local: datetime) -> tuple[datetime, datetime]:
        """Naive local (start, end) of the quiet period containing the naive `local`."""
        day = local.date()
        if self.start > self.end and local.time() < self.end:
            day -= ONE_DAY  # the early-morning part of last night's period
        end_day = day + ONE_DAY if self.start > self.end else day
        return datetime.combine(day, self.start), datetime.combine(end_day, self.end)


@dataclass(frozen=True)
class BusinessContext:
    id: int
    timezone: str
    country: str | None = None


@dataclass(frozen=True)
class PlannedMessage:
    idempotency_key: str
    appointment_id: int
    customer_id: int
    channel: str
    recipient: str
    kind: str
    scheduled_at: datetime  # UTC, after any quiet-hours move
    rule_name: str = ""


@dataclass(frozen=True)
class Skipped:
    appointment_id: int
    customer_id: int | None
    channel: str
    kind: str
    reason: str
    idempotency_key: str


@dataclass
class Plan:
    messages: list[PlannedMessage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class PlanSummary:
    planned: int
    skipped: int
    planned_by_channel: dict[str, int]
    skipped_by_reason: dict[str, int]  # most frequent first


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; raises ValueError for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected a tz-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def compute_send_time(starts_at: datetime, rule: ReminderRule, *, timezone: str) -> datetime:
    """The rule's nominal send time (UTC) for an appointment at `starts_at` (module docstring)."""
    start = as_utc(starts_at)
    if rule.offset % ONE_DAY:
        return start - rule.offset
    local = start.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return to_utc(local - rule.offset, timezone)


def compute_quiet_send_time(
    nominal: datetime, *, starts_at: datetime, quiet: QuietHours, timezone: str, now: datetime
) -> datetime | None:
    """`nominal` moved out of quiet hours (module docstring), or None when it cannot be."""
    local = nominal.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if not quiet.contains(local.time()):
        return nominal
    quiet_start, quiet_end = quiet.period_of(local)
    before = to_utc(quiet_start, timezone) - ONE_MINUTE
    if before > now:
        return before
    after = to_utc(quiet_end, timezone)
    return after if after < starts_at else None


def build_idempotency_key(
    business_id: int, appointment_id: int, kind: str, channel: str, at: datetime
) -> str:
    """ "b{business}:a{appointment}:{kind}:{channel}:{at in UTC, to the second}Z"."""
    stamp = as_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"b{business_id}:a{appointment_id}:{kind}:{channel}:{stamp}"


@dataclass
class _Run:
    """What one `plan_reminders` call shares across its appointment x rule pairs."""

    business: BusinessContext
    customers: Mapping[int, Mapping[str, Any]]
    now: datetime
    grace: timedelta
    horizon: timedelta
    quiet: QuietHours | None
    taken: set[str]  # keys already in the outbox or planned in this run
    recipients: dict[tuple[int, str], tuple[str | None, str | None]] = field(default_factory=dict)

    def recipient(self, customer_id: int | None, channel: str) -> tuple[str | None, str | None]:
        customer = self.customers.get(customer_id) if customer_id is not None else None
        if customer_id is None or customer is None:
            return None, SKIP_NO_CUSTOMER
        if (customer_id, channel) not in self.recipients:
            found = check_recipient(channel, customer, country=self.business.country)
            self.recipients[customer_id, channel] = found
        return self.recipients[customer_id, channel]


def plan_reminders(
    appointments: Iterable[Mapping[str, Any]],
    customers: Mapping[int, Mapping[str, Any]],
    rules: Sequence[ReminderRule],
    *,
    business: BusinessContext,
    now: datetime,
    already: Collection[str],
    quiet: QuietHours | None,
    horizon: timedelta,
    grace: timedelta = DEFAULT_GRACE,
) -> Plan:
    """The reminders due in (now - grace, now + horizon], and the ones skipped, with why.

    `appointments`: mappings with `id`, `customer_id` (None for a walk-in), `starts_at`
    (tz-aware) and `status`, all of `business`. `customers`: by id, mappings as in
    `notifications.contacts`. `already`: idempotency keys already in the outbox (any status).
    Output follows input order (appointment, then rule); a key is planned at most once.
    """
    run = _Run(business, customers, as_utc(now), grace, horizon, quiet, set(already))
    plan = Plan()
    for appointment in appointments:
        for rule in rules:
            outcome = _plan_one(appointment, rule, run)
            if isinstance(outcome, PlannedMessage):
                plan.messages.append(outcome)
            elif outcome is not None:
                plan.skipped.append(outcome)
    return plan


def _plan_one(
    appointment: Mapping[str, Any], rule: ReminderRule, run: _Run
) -> PlannedMessage | Skipped | None:
    start, status = as_utc(appointment["starts_at"]), appointment["status"]
    if start <= run.now or status not in (*UPCOMING_STATUSES, "cancelled"):
        return None
    tz = run.business.timezone
    nominal = compute_send_time(start, rule, timezone=tz)
    send: datetime | None = nominal
    if run.quiet is not None:
        send = compute_quiet_send_time(
            nominal, starts_at=start, quiet=run.quiet, timezone=tz, now=run.now
        )
    if (send or nominal) > run.now + run.horizon:
        return None  # not due yet: a later run plans it
    appointment_id, customer_id = int(appointment["id"]), appointment["customer_id"]
    key = build_idempotency_key(run.business.id, appointment_id, rule.kind, rule.channel, nominal)
    recipient, refusal = run.recipient(customer_id, rule.channel)
    reason = _skip_reason(status, key, send, run) or refusal
    if reason is not None or recipient is None or send is None:
        why = reason or SKIP_NO_CUSTOMER
        return Skipped(appointment_id, customer_id, rule.channel, rule.kind, why, key)
    run.taken.add(key)
    return PlannedMessage(
        key, appointment_id, customer_id, rule.channel, recipient, rule.kind, send, rule.name
    )


def _skip_reason(status: str, key: str, send: datetime | None, run: _Run) -> str | None:
    """Why not, by precedence, before the recipient's own reasons; None: go ahead."""
    if status == "cancelled":
        return SKIP_CANCELLED
    if key in run.taken:
        return SKIP_ALREADY_REMINDED
    if send is None:
        return SKIP_QUIET_HOURS
    return SKIP_TOO_LATE if send <= run.now - run.grace else None


def summarise(plan: Plan) -> PlanSummary:
    """Counts for the panel's "before sending" box."""
    by_channel = Counter(message.channel for message in plan.messages)
    by_reason = Counter(skip.reason for skip in plan.skipped)
    return PlanSummary(
        planned=len(plan.messages),
        skipped=len(plan.skipped),
        planned_by_channel=dict(sorted(by_channel.items())),
        skipped_by_reason=dict(by_reason.most_common()),
    )

"""The dispatcher on both engines, with a counting fake sender: exactly-once across a
crash after the claim and across racing workers, retries, permanent errors, opt-out,
pacing, and the console provider's promise that nothing leaves the machine."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.db import write_tx
from data.outbox import claim_due
from data.schema import appointments, customers, notifications
from notifications.console import ConsoleSender
from notifications.dispatcher import (
    SKIP_NO_CONSENT,
    SKIP_STARTED,
    DispatchReport,
    RateLimiter,
    Recheck,
    compute_backoff,
    compute_recheck,
    dispatch_once,
    dispatch_pending,
)
from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from tests.data.test_outbox import LEASE, NOW, claim, enqueue, message, rows, statuses
from tests.factories import make_customer, make_service, make_staff

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


class FakeSender:
    """Counts every call; `script` raises the listed errors on a message's first calls."""

    name = "fake"

    def __init__(self, script: dict[int, list[Exception]] | None = None) -> None:
        self.calls: list[int] = []
        self.script = script or {}
        self.lock = threading.Lock()
        self.hook: Callable[[OutgoingMessage], None] | None = None

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.lock:
            self.calls.append(message.id)
            errors = self.script.get(message.id, [])
            error = errors.pop(0) if errors else None
        if self.hook is not None:
            self.hook(message)
        if error is not None:
            raise error
        return SendResult(f"fake-{message.id}-{message.attempt}")


class MaxJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def dispatch(engine: Engine, sender: Any, now: Any = NOW, **kwargs: Any) -> DispatchReport:
    options = {"now_fn": lambda: now, "rate_per_second": None, "rng": MaxJitter(),
               "lease": LEASE, "backoff_base": timedelta(seconds=30)}  # fmt: skip
    return dispatch_once(engine, senders={"sms": sender}, **(options | kwargs))


def queue(engine: Engine, business: int, n: int, **overrides: Any) -> list[int]:
    enqueue(engine, business, [message(business, i, **overrides) for i in range(n)])
    return list(rows(engine))


def test_dispatch_sends_and_records_each_message(engine: Engine, business: int) -> None:
    ids = queue(engine, business, 3)
    sender, seen = FakeSender(), []
    report = dispatch(engine, sender, progress=lambda done, total: seen.append((done, total)))
    assert report == DispatchReport(sent=3) and sender.calls == ids
    assert seen == [(1, 3), (2, 3), (3, 3)]
    stored = rows(engine)[ids[0]]
    assert (stored["status"], stored["provider"], stored["provider_message_id"], stored["sent_at"],
            stored["attempts"]) == ("sent", "fake", f"fake-{ids[0]}-1", NOW, 1)  # fmt: skip
    assert dispatch(engine, sender, now=NOW + 10 * LEASE) == DispatchReport()


def test_crash_between_claim_and_send_sends_each_once(engine: Engine, business: int) -> None:
    ids = queue(engine, business, 4)
    assert len(claim(engine, limit=3)) == 3  # a worker claims three, then dies
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=1)  # the unclaimed one only
    assert dispatch(engine, sender, now=NOW + LEASE - timedelta(seconds=1)) == DispatchReport()
    assert dispatch(engine, sender, now=NOW + LEASE) == DispatchReport(sent=3)
    assert dispatch(engine, sender, now=NOW + 10 * LEASE) == DispatchReport()
    assert sorted(sender.calls) == ids and set(statuses(engine)) == {"sent"}


def test_dispatchers_racing_send_each_message_exactly_once(engine: Engine, business: int) -> None:
    ids = queue(engine, business, 120)
    sender, workers = FakeSender(), 4
    barrier = threading.Barrier(workers)

    def work(_: int) -> DispatchReport:
        barrier.wait(timeout=30)
        return dispatch_pending(engine, senders={"sms": sender}, now_fn=lambda: NOW,
                                batch_size=7, rate_per_second=None)  # fmt: skip

    with ThreadPoolExecutor(max_workers=workers) as pool:
        reports = list(pool.map(work, range(workers)))
    assert sum(r.sent for r in reports) == 120 and sum(r.claimed for r in reports) == 120
    assert sorted(sender.calls) == ids and Counter(sender.calls).most_common(1)[0][1] == 1
    assert set(statuses(engine)) == {"sent"}


def test_transient_error_retries_with_backoff_then_succeeds(engine: Engine, business: int) -> None:
    [mid] = queue(engine, business, 1)
    sender = FakeSender({mid: [TransientSendError("HTTP 503"), TransientSendError("timeout")]})
    assert dispatch(engine, sender) == DispatchReport(retried=1)
    row = rows(engine)[mid]
    assert (row["status"], row["last_error"]) == ("queued", "HTTP 503")
    assert row["next_attempt_at"] == NOW + timedelta(seconds=30)  # base * 2**0, max jitter
    assert dispatch(engine, sender, now=NOW + timedelta(seconds=29)) == DispatchReport()
    later = NOW + timedelta(seconds=30)
    assert dispatch(engine, sender, now=later) == DispatchReport(retried=1)
    assert rows(engine)[mid]["next_attempt_at"] == later + timedelta(seconds=60)
    assert dispatch(engine, sender, now=later + timedelta(seconds=60)) == DispatchReport(sent=1)
    row = rows(engine)[mid]
    assert (row["status"], row["attempts"], row["provider_message_id"]) == (
        "sent",
        3,
        f"fake-{mid}-3",
    )
    assert sender.calls == [mid] * 3


def test_retry_after_and_unexpected_errors(engine: Engine, business: int) -> None:
    first, second = queue(engine, business, 2)
    sender = FakeSender({first: [TransientSendError("429", retry_after=600)],
                         second: [RuntimeError("socket closed")]})  # fmt: skip
    assert dispatch(engine, sender) == DispatchReport(retried=2)
    stored = rows(engine)
    assert stored[first]["next_attempt_at"] == NOW + timedelta(seconds=600)
    assert stored[second]["last_error"] == "RuntimeError: socket closed"


def test_transient_errors_fail_after_max_attempts(engine: Engine, business: int) -> None:
    [mid] = queue(engine, business, 1)
    sender = FakeSender({mid: [TransientSendError("HTTP 500")] * 5})
    assert dispatch(engine, sender, max_attempts=2) == DispatchReport(retried=1)
    report = dispatch(engine, sender, now=NOW + timedelta(hours=1), max_attempts=2)
    assert report == DispatchReport(failed=1)
    row = rows(engine)[mid]
    assert (row["status"], row["status_reason"], row["last_error"]) == (
        "failed", "gave up after 2 attempts", "HTTP 500")  # fmt: skip
    assert dispatch(engine, sender, now=NOW + timedelta(days=1)) == DispatchReport()


def test_permanent_error_fails_at_once(engine: Engine, business: int) -> None:
    [mid] = queue(engine, business, 1)
    error = PermanentSendError("21211: not a valid phone number", reason="invalid_number")
    assert dispatch(engine, FakeSender({mid: [error]})) == DispatchReport(failed=1)
    row = rows(engine)[mid]
    assert (row["status"], row["status_reason"], row["attempts"]) == ("failed", "invalid_number", 1)
    assert row["last_error"] == "21211: not a valid phone number"


def test_opted_out_recipient_turns_consent_off(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        ada, bob = make_customer(conn, business), make_customer(conn, business)
        conn.execute(customers.update().values(sms_opt_in=True))
    enqueue(engine, business, [message(business, 1, customer_id=ada),
                               message(business, 2, customer_id=bob)])  # fmt: skip
    ada_message = next(i for i, row in rows(engine).items() if row["customer_id"] == ada)
    opted_out = PermanentSendError("21610: unsubscribed", reason="opted_out", opted_out=True)
    report = dispatch(engine, FakeSender({ada_message: [opted_out]}))
    assert report == DispatchReport(sent=1, failed=1)
    with write_tx(engine) as conn:
        consent = dict(conn.execute(sa.select(customers.c.id, customers.c.sms_opt_in)).all())
    assert consent == {ada: False, bob: True}
    assert rows(engine)[ada_message]["status_reason"] == "opted_out"


def test_consent_withdrawn_after_queueing_is_honoured_at_send(
    engine: Engine, business: int
) -> None:
    with write_tx(engine) as conn:
        ada, bob = make_customer(conn, business), make_customer(conn, business)
        conn.execute(customers.update().values(sms_opt_in=True, email_opt_in=True))
    enqueue(engine, business, [message(business, 1, customer_id=ada),
                               message(business, 2, customer_id=bob)])  # fmt: skip
    with write_tx(engine) as conn:  # Ada replies STOP while her reminder waits in the outbox
        conn.execute(customers.update().where(customers.c.id == ada).values(sms_opt_in=False))
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=1, skipped=1)
    by_customer = {row["customer_id"]: row for row in rows(engine).values()}
    assert sender.calls == [by_customer[bob]["id"]]
    assert (by_customer[ada]["status"], by_customer[ada]["status_reason"]) == (
        "skipped", SKIP_NO_CONSENT)  # fmt: skip


def test_consent_of_the_message_channel_is_the_one_rechecked() -> None:
    now = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    check = {"idempotency_key": "b1:c2:u3:email", "appointment_id": None, "starts_at": None,
             "appointment_status": None, "template_kind": "win_back"}  # fmt: skip
    assert compute_recheck({**check, "consent": True}, now=now) is None
    assert compute_recheck({**check, "consent": None}, now=now) is None  # no customer named
    assert compute_recheck({**check, "consent": False}, now=now) == Recheck(
        "skipped", SKIP_NO_CONSENT)  # fmt: skip


def test_sends_are_paced_to_the_rate(engine: Engine, business: int) -> None:
    queue(engine, business, 3)
    clock, sleeps = [100.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    report = dispatch(
        engine, FakeSender(), rate_per_second=2.0, sleep=sleep, clock=lambda: clock[0]
    )
    assert report == DispatchReport(sent=3) and sleeps == [0.5, 0.5]
    limiter, unlimited = RateLimiter(4.0, sleep=sleep, clock=lambda: clock[0]), list[float]()
    limiter.wait()
    clock[0] += 1.0  # a slow send: no need to wait before the next one
    limiter.wait()
    assert sleeps == [0.5, 0.5]
    RateLimiter(None, sleep=unlimited.append).wait()
    assert unlimited == []


def test_backoff_is_exponential_capped_full_jitter() -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=5)
    ceilings = [compute_backoff(n, base=base, cap=cap, rng=MaxJitter()) for n in (1, 2, 3, 5, 9)]
    assert [c.total_seconds() for c in ceilings] == [30, 60, 120, 300, 300]
    rng = random.Random(7)
    draws = [compute_backoff(4, base=base, cap=cap, rng=rng).total_seconds() for _ in range(50)]
    assert all(0 <= d <= 240 for d in draws) and len(set(draws)) == 50


def test_only_channels_with_a_sender_are_claimed(engine: Engine, business: int) -> None:
    email = message(business, 1, channel="email", recipient="a@example.com")
    enqueue(engine, business, [email, message(business, 2), message(business, 3, recipient=" ")])
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=1, skipped=1)
    assert statuses(engine) == ["queued", "sent", "skipped"]
    assert len(sender.calls) == 1


def test_a_reclaimed_row_with_a_provider_id_is_not_sent_again(
    engine: Engine, business: int
) -> None:
    [mid] = queue(engine, business, 1)
    claim(engine)
    with write_tx(engine) as conn:
        conn.execute(notifications.update().values(provider_message_id="SM123"))
    sender = FakeSender()
    assert dispatch(engine, sender, now=NOW + LEASE) == DispatchReport(sent=1)
    assert sender.calls == [] and rows(engine)[mid]["provider_message_id"] == "SM123"


def test_a_worker_that_lost_its_lease_records_nothing(engine: Engine, business: int) -> None:
    [mid] = queue(engine, business, 1)
    sender = FakeSender()

    def slow_send(_: OutgoingMessage) -> None:  # meanwhile another worker reclaims the row
        with write_tx(engine) as conn:
            assert len(claim_due(conn, now=NOW + LEASE, limit=10, lease=LEASE)) == 1

    sender.hook = slow_send
    assert dispatch(engine, sender) == DispatchReport(stale=1)
    row = rows(engine)[mid]
    assert (row["status"], row["attempts"], row["provider_message_id"]) == ("sending", 2, None)


def test_console_sender_logs_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    sender = ConsoleSender()
    outgoing = OutgoingMessage(
        id=7, business_id=1, channel="sms", recipient="+4915112345678", subject=None,
        body="Hi Ada, see you at 10:00", idempotency_key="b1:x",
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="slotboard.notifications.console"):
        result = sender.send(outgoing)
    assert result.provider_message_id.startswith("console-") and sender.sent == 1
    assert "nothing left this machine" in caplog.text and "message 7" in caplog.text
    assert "+4915112345678" not in caplog.text and "Ada" not in caplog.text
    assert "nothing leaves this machine" in ConsoleSender.description
    assert "Nothing leaves the machine" in (ConsoleSender.__doc__ or "")


def test_console_sender_dispatches_offline(engine: Engine, business: int) -> None:
    ids = queue(engine, business, 2)
    sender = ConsoleSender()
    assert dispatch(engine, sender) == DispatchReport(sent=2) and sender.sent == 2
    assert {rows(engine)[i]["provider"] for i in ids} == {"console"}


# --- recheck before sending ------------------------------------------------------------------


def book(engine: Engine, business: int, starts_in: timedelta, status: str = "booked") -> int:
    """An appointment starting `starts_in` after NOW, with `status`."""
    start = NOW + starts_in
    with write_tx(engine) as conn:
        staff, service = make_staff(conn, business), make_service(conn, business)
        return int(conn.execute(appointments.insert().values(
            business_id=business, staff_id=staff, service_id=service, starts_at=start,
            ends_at=start + timedelta(minutes=45), status=status, price_cents=4500,
            created_at=NOW - timedelta(days=7), updated_at=NOW,
        )).inserted_primary_key[0])  # fmt: skip


def reminder(business: int, appointment: int | None, i: int, **overrides: Any) -> dict[str, Any]:
    """A message with planning's automatic-reminder key for `appointment`."""
    key = f"b{business}:a{appointment or 999}:reminder:sms:2025-03-09T{i % 24:02d}:00:00Z"
    return message(business, i, appointment_id=appointment, idempotency_key=key) | overrides


def test_cancelled_or_finished_appointments_are_withdrawn(engine: Engine, business: int) -> None:
    booked, cancelled = book(engine, business, DAY), book(engine, business, DAY, "cancelled")
    done, no_show = book(engine, business, DAY, "completed"), book(engine, business, DAY, "no_show")
    enqueue(engine, business, [
        reminder(business, booked, 1), reminder(business, cancelled, 2),
        reminder(business, done, 3), reminder(business, no_show, 4),
        message(business, 5, appointment_id=cancelled, template_kind="confirmation"),
        message(business, 6, appointment_id=cancelled, template_kind="cancellation"),
    ])  # fmt: skip
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=2, withdrawn=4)
    stored = list(rows(engine).values())  # in enqueue order
    assert [(row["status"], row["status_reason"]) for row in stored] == [
        ("sent", None), ("withdrawn", "appointment cancelled"),
        ("withdrawn", "appointment no longer upcoming"),
        ("withdrawn", "appointment no longer upcoming"),
        ("withdrawn", "appointment cancelled"),  # a confirmation of a cancelled booking
        ("sent", None),  # the cancellation message about it still goes out
    ]  # fmt: skip
    assert sender.calls == [stored[0]["id"], stored[5]["id"]]


def test_a_reminder_is_never_sent_at_or_after_the_start(engine: Engine, business: int) -> None:
    started, upcoming = book(engine, business, timedelta(0)), book(engine, business, HOUR)
    enqueue(engine, business, [
        reminder(business, started, 1), reminder(business, upcoming, 2),
        message(business, 3, appointment_id=started, template_kind="confirmation"),
    ])  # fmt: skip
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=2, skipped=1)
    stored = [rows(engine)[i] for i in sorted(rows(engine))]
    assert [(r["status"], r["status_reason"]) for r in stored] == [
        ("skipped", "appointment already started"), ("sent", None), ("sent", None)]  # fmt: skip
    assert stored[0]["id"] not in sender.calls


def test_the_start_is_rechecked_after_the_rate_limit_wait(engine: Engine, business: int) -> None:
    soon = book(engine, business, timedelta(milliseconds=500))
    enqueue(engine, business, [reminder(business, soon, 1), reminder(business, soon, 2)])
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    now = lambda: NOW + timedelta(seconds=clock[0])  # noqa: E731 - the sleeping clock
    sender = FakeSender()
    report = dispatch(engine, sender, now_fn=now, rate_per_second=1.0, sleep=sleep,
                      clock=lambda: clock[0])  # fmt: skip
    assert report == DispatchReport(sent=1, skipped=1) and clock == [1.0]
    assert statuses(engine) == ["sent", "skipped"] and sender.calls == [min(rows(engine))]


def test_a_reminder_of_a_deleted_appointment_is_withdrawn(engine: Engine, business: int) -> None:
    gone = book(engine, business, DAY)
    enqueue(engine, business, [reminder(business, gone, 1), message(business, 2)])
    with write_tx(engine) as conn:  # the outbox keeps the row: appointment_id -> NULL
        conn.execute(appointments.delete().where(appointments.c.id == gone))
    sender = FakeSender()
    assert dispatch(engine, sender) == DispatchReport(sent=1, withdrawn=1)
    assert [(r["status"], r["status_reason"]) for r in rows(engine).values()] == [
        ("withdrawn", "appointment not found"), ("sent", None)]  # fmt: skip


def test_the_recheck_is_one_query_per_batch(engine: Engine, business: int) -> None:
    ids = [book(engine, business, DAY) for _ in range(3)]
    enqueue(engine, business, [reminder(business, a, i) for i, a in enumerate(ids)])
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "appointments" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert dispatch(engine, FakeSender()) == DispatchReport(sent=3)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1


def test_a_shared_limiter_paces_worker_threads_together() -> None:
    clock, sleeps, lock = [0.0], [], threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            sleeps.append(round(seconds, 6))

    limiter = RateLimiter(10.0, sleep=sleep, clock=lambda: clock[0])
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: limiter.wait(), range(8)))
    assert sorted(sleeps) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]  # one slot each, none shared


def test_a_manual_reminder_after_the_start_is_skipped_but_other_kinds_are_not() -> None:
    now = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    check = {"idempotency_key": "b1:mabc123:a7:sms", "appointment_id": 7,
             "appointment_status": "booked", "starts_at": now - timedelta(minutes=1),
             "template_kind": "reminder"}  # fmt: skip
    assert compute_recheck(check, now=now) == Recheck("skipped", SKIP_STARTED)
    assert compute_recheck({**check, "starts_at": now + timedelta(hours=1)}, now=now) is None
    assert compute_recheck({**check, "template_kind": "confirmation"}, now=now) is None

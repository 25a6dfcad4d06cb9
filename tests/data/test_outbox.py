"""The outbox on both engines: idempotent enqueue, leased claims, guarded transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.roles import Actor, PermissionDenied, Role
from data.db import read_conn, write_tx
from data.outbox import (
    claim_due,
    count_by_status,
    enqueue_messages,
    load_outbox,
    load_recent_sent,
    mark_opted_out,
    record_delivery,
    record_failed,
    record_retry,
    record_sent,
    record_skipped,
    record_withdrawn,
    requeue_failed,
)
from data.schema import audit_log, customers, notifications
from tests.factories import make_business, make_customer

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def message(business_id: int, i: int, **overrides: Any) -> dict[str, Any]:
    values = {
        "channel": "sms", "recipient": f"+49151000{i:05d}", "subject": None,
        "body": f"Reminder {i}", "template_id": None, "template_kind": "reminder",
        "variant": "A", "campaign_id": None, "appointment_id": None, "customer_id": None,
        "idempotency_key": f"b{business_id}:reminder:{i}", "scheduled_at": NOW - timedelta(hours=1),
    }  # fmt: skip
    return values | overrides


def enqueue(engine: Engine, business_id: int, messages: list[dict[str, Any]]) -> Any:
    with write_tx(engine) as conn:
        return enqueue_messages(
            conn, actor=Actor.operator(business_id=business_id), messages=messages
        )


def claim(engine: Engine, now: datetime = NOW, limit: int = 100, **kwargs: Any) -> list[dict]:
    with write_tx(engine) as conn:
        return claim_due(conn, now=now, limit=limit, lease=LEASE, **kwargs)


def rows(engine: Engine) -> dict[int, dict[str, Any]]:
    with read_conn(engine) as conn:
        found = conn.execute(sa.select(notifications).order_by(notifications.c.id)).mappings()
        return {row["id"]: dict(row) for row in found}


def statuses(engine: Engine) -> list[str]:
    return [row["status"] for row in rows(engine).values()]


def test_double_enqueue_is_a_no_op(engine: Engine, business: int) -> None:
    first = enqueue(engine, business, [message(business, i) for i in range(5)])
    again = enqueue(engine, business, [message(business, i) for i in range(6)])
    repeated = enqueue(engine, business, [message(business, 9), message(business, 9)])
    assert (first.inserted, first.duplicates) == (5, 0)
    assert (again.inserted, again.duplicates) == (1, 5)
    assert (repeated.inserted, repeated.duplicates) == (1, 1)
    stored = rows(engine)
    assert len(stored) == 7 and set(statuses(engine)) == {"queued"}
    assert all(row["attempts"] == 0 and row["business_id"] == business for row in stored.values())


def test_bulk_enqueue_spans_chunks(engine: Engine, business: int) -> None:
    """More rows than one insert chunk, with duplicates on both sides of the boundary."""
    enqueue(engine, business, [message(business, i) for i in range(4_990, 5_010)])
    result = enqueue(engine, business, [message(business, i) for i in range(6_000)])
    assert (result.inserted, result.duplicates) == (5_980, 20)
    with read_conn(engine) as conn:
        assert count_by_status(conn, actor=Actor.operator(business_id=business))["queued"] == 6_000


@pytest.mark.parametrize(
    "overrides",
    [{"idempotency_key": "reminder:1"}, {"idempotency_key": "b999999:reminder:1"},
     {"channel": "fax"}, {"body": None}, {"scheduled_at": None}],
)  # fmt: skip
def test_bad_messages_are_refused_and_nothing_is_written(
    engine: Engine, business: int, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        enqueue(engine, business, [message(business, 1), message(business, 2, **overrides)])
    assert rows(engine) == {}


def test_another_business_customer_is_refused(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        foreign = make_customer(conn, make_business(conn))
    with pytest.raises(ValueError, match="customers"):
        enqueue(engine, business, [message(business, 1, customer_id=foreign)])
    assert rows(engine) == {}


def test_analysts_may_not_enqueue_or_read(engine: Engine, business: int) -> None:
    analyst = Actor(None, business, Role.ANALYST, "test")
    with write_tx(engine) as conn, pytest.raises(PermissionDenied):
        enqueue_messages(conn, actor=analyst, messages=[message(business, 1)])
    with read_conn(engine) as conn, pytest.raises(PermissionDenied):
        load_outbox(conn, actor=analyst)


def test_claim_marks_sending_and_holds_the_lease(engine: Engine, business: int) -> None:
    enqueue(engine, business, [message(business, i) for i in range(3)])
    claimed = claim(engine, limit=2)
    assert [row["attempts"] for row in claimed] == [1, 1]
    assert claimed[0]["idempotency_key"] == f"b{business}:reminder:0"
    assert set(claimed[0]) >= {"recipient", "body", "provider_message_id", "customer_id"}
    stored = rows(engine)
    assert [stored[row["id"]]["status"] for row in claimed] == ["sending", "sending"]
    assert stored[claimed[0]["id"]]["next_attempt_at"] == NOW + LEASE
    [third] = claim(engine, now=NOW + timedelta(minutes=1))  # the unclaimed one only
    assert third["id"] not in {row["id"] for row in claimed}
    assert claim(engine, now=NOW + LEASE - timedelta(seconds=1)) == []
    reclaimed = claim(engine, now=NOW + LEASE)  # the first two leases ran out
    assert sorted(row["id"] for row in reclaimed) == sorted(row["id"] for row in claimed)
    assert {row["attempts"] for row in reclaimed} == {2}


def test_claim_waits_for_schedule_and_retry_time(engine: Engine, business: int) -> None:
    later = message(business, 1, scheduled_at=NOW + timedelta(hours=1))
    enqueue(engine, business, [message(business, 0), later])
    [first] = claim(engine)
    with write_tx(engine) as conn:
        due = NOW + timedelta(minutes=10)
        assert record_retry(conn, message_id=first["id"], error="429", next_attempt_at=due)
    assert claim(engine, now=NOW + timedelta(minutes=9)) == []
    assert [row["id"] for row in claim(engine, now=NOW + timedelta(minutes=10))] == [first["id"]]
    assert rows(engine)[first["id"]]["last_error"] == "429"
    assert claim(engine, now=NOW + timedelta(minutes=59), channels=["email"]) == []
    with write_tx(engine) as conn:
        assert record_sent(conn, message_id=first["id"], provider="fake", provider_message_id="p",
                           now=NOW)  # fmt: skip
    assert claim(engine, now=NOW + timedelta(minutes=59)) == []
    [due_later] = claim(engine, now=NOW + timedelta(hours=1))
    assert due_later["idempotency_key"] == later["idempotency_key"]


def test_claim_by_business_and_channel(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
    enqueue(engine, business, [message(business, 1), message(business, 2, channel="email")])
    enqueue(engine, other, [message(other, 3)])
    assert [r["business_id"] for r in claim(engine, business_id=other)] == [other]
    [sms] = claim(engine, channels=["sms"])
    assert (sms["business_id"], sms["channel"]) == (business, "sms")
    assert [r["channel"] for r in claim(engine)] == ["email"]


def test_outcomes_are_guarded_by_status_and_claim(engine: Engine, business: int) -> None:
    enqueue(engine, business, [message(business, 1)])
    [first] = claim(engine)
    [second] = claim(engine, now=NOW + LEASE)  # a second worker took over the row
    sent: dict[str, Any] = {"provider": "fake", "provider_message_id": "p-1", "now": NOW}
    with write_tx(engine) as conn:
        assert not record_sent(conn, message_id=first["id"], attempt=1, **sent)
        assert not record_retry(conn, message_id=first["id"], attempt=1, error="x",
                                next_attempt_at=NOW)  # fmt: skip
        assert record_sent(conn, message_id=second["id"], attempt=2, **sent)
        assert not record_retry(conn, message_id=first["id"], error="x", next_attempt_at=NOW)
        assert not record_failed(conn, message_id=first["id"], error="x", reason="late")
        assert record_withdrawn(conn, message_ids=[first["id"]], reason="late") == 0
    assert claim(engine, now=NOW + 10 * LEASE) == []  # sent is never claimed again
    row = rows(engine)[first["id"]]
    assert (row["status"], row["provider_message_id"], row["sent_at"]) == ("sent", "p-1", NOW)


def test_skip_withdraw_fail_and_requeue(engine: Engine, business: int) -> None:
    enqueue(engine, business, [message(business, i) for i in range(4)])
    ids = list(rows(engine))
    with write_tx(engine) as conn:
        assert record_skipped(conn, message_ids=ids[:1], reason="no consent") == 1
        assert record_withdrawn(conn, message_ids=ids[:2], reason="cancelled") == 1
        assert record_failed(conn, message_id=ids[2], error="boom", reason="invalid_number")
    assert statuses(engine) == ["skipped", "withdrawn", "failed", "queued"]
    assert rows(engine)[ids[1]]["status_reason"] == "cancelled"
    with write_tx(engine) as conn:
        other = Actor.operator(business_id=make_business(conn))
        assert requeue_failed(conn, actor=other, message_ids=ids, now=NOW) == 0
        owner = Actor.operator(business_id=business)
        assert requeue_failed(conn, actor=owner, message_ids=ids, now=NOW) == 1
    assert statuses(engine) == ["skipped", "withdrawn", "queued", "queued"]
    assert len(claim(engine)) == 2


def test_mark_opted_out_turns_consent_off_with_audit(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        ada, bob = make_customer(conn, business), make_customer(conn, business)
        conn.execute(customers.update().values(sms_opt_in=True, email_opt_in=True))
        assert mark_opted_out(conn, customer_id=ada, channel="sms", now=NOW)
        assert not mark_opted_out(conn, customer_id=ada, channel="sms", now=NOW)
    with read_conn(engine) as conn:
        query = sa.select(customers.c.id, customers.c.sms_opt_in, customers.c.email_opt_in)
        consent = {row.id: (row.sms_opt_in, row.email_opt_in) for row in conn.execute(query)}
        audits = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.entity_id, audit_log.c.business_id).where(
                audit_log.c.entity == "customers"
            )
        ).all()
    assert consent == {ada: (False, True), bob: (True, True)}
    assert audits == [("system:dispatcher", str(ada), business)]


def test_load_outbox_and_counts_are_scoped(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
    enqueue(engine, business, [message(business, i) for i in range(5)])
    enqueue(engine, other, [message(other, 9)])
    claim(engine, limit=2, business_id=business)
    owner = Actor.operator(business_id=business)
    with read_conn(engine) as conn:
        page = load_outbox(conn, actor=owner, limit=2, offset=1)
        sending = load_outbox(conn, actor=owner, status="sending")
        counts = count_by_status(conn, actor=owner)
        with pytest.raises(ValueError):
            load_outbox(conn, actor=owner, status="lost")
    assert [row["recipient"] for row in page] == ["+4915100000003", "+4915100000002"]
    assert len(sending) == 2
    assert counts == {"queued": 3, "sending": 2, "sent": 0, "delivered": 0, "failed": 0,
                      "skipped": 0, "withdrawn": 0}  # fmt: skip


def test_record_delivery_only_from_sent(engine: Engine, business: int) -> None:
    enqueue(engine, business, [message(business, i) for i in range(3)])
    first, second, third = claim(engine)
    at = NOW + timedelta(minutes=3)
    with write_tx(engine) as conn:
        for row in (first, second):
            assert record_sent(conn, message_id=row["id"], provider="twilio",
                               provider_message_id=f"SM{row['id']}", now=NOW)  # fmt: skip
        assert record_delivery(conn, message_id=first["id"], status="delivered", error=None, at=at)
        assert not record_delivery(conn, message_id=first["id"], status="failed", error="x", at=at)
        assert record_delivery(conn, message_id=second["id"], status="failed", error="30005",
                               at=at)  # fmt: skip
        assert not record_delivery(conn, message_id=third["id"], status="delivered", error=None,
                                   at=at)  # still sending  # fmt: skip
        with pytest.raises(ValueError, match="delivered"):
            record_delivery(conn, message_id=third["id"], status="sent", error=None, at=at)
    stored = rows(engine)
    assert [stored[r["id"]]["status"] for r in (first, second, third)] == [
        "delivered", "failed", "sending"]  # fmt: skip
    assert (stored[first["id"]]["delivered_at"], stored[second["id"]]["last_error"]) == (
        at,
        "30005",
    )


def test_load_recent_sent_is_scoped_and_filtered(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
    enqueue(engine, business, [message(business, i) for i in range(4)])
    enqueue(engine, other, [message(other, 9)])
    claimed = claim(engine)
    sends = [("twilio", NOW), ("twilio", NOW - timedelta(days=2)), ("console", NOW),
             ("twilio", NOW + timedelta(minutes=1)), ("twilio", NOW)]  # fmt: skip
    with write_tx(engine) as conn:
        for row, (provider, at) in zip(claimed, sends, strict=True):
            record_sent(conn, message_id=row["id"], provider=provider,
                        provider_message_id=f"SM{row['id']}", now=at)  # fmt: skip
    owner = Actor.operator(business_id=business)
    with read_conn(engine) as conn:
        recent = load_recent_sent(conn, actor=owner, provider="twilio",
                                  since=NOW - timedelta(days=1))  # fmt: skip
        one = load_recent_sent(conn, actor=owner, provider="twilio", since=NOW, limit=1)
        with pytest.raises(PermissionDenied):
            load_recent_sent(conn, actor=Actor(None, business, Role.ANALYST, "test"),
                             provider="twilio", since=NOW)  # fmt: skip
    mine = [row["id"] for row in claimed if row["business_id"] == business]
    assert recent == [{"id": mine[3], "provider_message_id": f"SM{mine[3]}"},
                      {"id": mine[0], "provider_message_id": f"SM{mine[0]}"}]  # fmt: skip
    assert [row["id"] for row in one] == [mine[3]]

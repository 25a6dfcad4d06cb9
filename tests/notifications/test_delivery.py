"""Delivery status write-back on both engines, with the official Twilio client talking to
a local HTTP server (as in test_twilio_sms): final statuses recorded once, pending and
unfetchable ones left as sent, other providers, old sends and other businesses untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine

from auth.roles import Actor, PermissionDenied, Role
from data.db import write_tx
from data.outbox import record_sent
from notifications.delivery import DeliveryRefresh, refresh_delivery_statuses
from tests.data.test_outbox import NOW, claim, enqueue, message, rows
from tests.factories import make_business
from tests.notifications.test_twilio_sms import SID, created, sender, twilio_error

BASE = f"/2010-04-01/Accounts/{SID}/Messages"
DONE, BOUNCED, PENDING, MISSING = ("SM" + c * 32 for c in "dupx")
OLD, FOREIGN = "SM" + "o" * 32, "SM" + "f" * 32


def sent_rows(engine: Engine, business: int, sends: list[tuple[str, str, datetime]]) -> list[int]:
    """One sent row per (provider, provider id, sent_at), in order."""
    enqueue(engine, business, [message(business, i) for i in range(len(sends))])
    claimed = claim(engine, business_id=business)
    with write_tx(engine) as conn:
        for row, (provider, sid, at) in zip(claimed, sends, strict=True):
            assert record_sent(conn, message_id=row["id"], provider=provider,
                               provider_message_id=sid, now=at)  # fmt: skip
    return [row["id"] for row in claimed]


def twilio_answers(server: HTTPServer) -> None:
    server.expect_request(f"{BASE}/{DONE}.json").respond_with_json(created(DONE, "delivered"))
    server.expect_request(f"{BASE}/{BOUNCED}.json").respond_with_json(
        created(BOUNCED, "undelivered") | {"error_code": 30005}
    )
    server.expect_request(f"{BASE}/{PENDING}.json").respond_with_json(created(PENDING, "sent"))
    server.expect_request(f"{BASE}/{MISSING}.json").respond_with_response(
        twilio_error(20404, 404, "The requested resource was not found")
    )


def test_refresh_records_final_statuses_once(
    engine: Engine, business: int, httpserver: HTTPServer
) -> None:
    recent = NOW - timedelta(hours=2)
    ids = sent_rows(engine, business, [
        ("twilio", DONE, recent), ("twilio", BOUNCED, recent), ("twilio", PENDING, recent),
        ("twilio", MISSING, recent), ("console", "console-1", recent),
        ("twilio", OLD, NOW - timedelta(days=3)),
    ])  # fmt: skip
    with write_tx(engine) as conn:
        other = make_business(conn)
    sent_rows(engine, other, [("twilio", FOREIGN, recent)])
    twilio_answers(httpserver)
    actor, since = Actor.operator(business_id=business), NOW - timedelta(days=1)
    refresh = refresh_delivery_statuses(
        engine, actor=actor, sender_or_client=sender(httpserver), since=since, now_fn=lambda: NOW
    )
    assert refresh == DeliveryRefresh(checked=4, delivered=1, failed=1, pending=1, unknown=1)
    fetched = sorted(request.path for request, _ in httpserver.log)
    assert fetched == sorted(f"{BASE}/{sid}.json" for sid in (DONE, BOUNCED, PENDING, MISSING))
    stored = rows(engine)
    assert [stored[i]["status"] for i in ids] == ["delivered", "failed", "sent", "sent",
                                                   "sent", "sent"]  # fmt: skip
    assert stored[ids[0]]["delivered_at"] == datetime(2025, 3, 10, 9, tzinfo=UTC)  # Twilio's
    assert (stored[ids[1]]["status_reason"], stored[ids[1]]["last_error"]) == (
        "not delivered (provider report)", "Twilio status undelivered, error 30005")  # fmt: skip
    assert {row["status"] for row in stored.values() if row["business_id"] == other} == {"sent"}
    again = refresh_delivery_statuses(
        engine, actor=actor, sender_or_client=sender(httpserver), since=since
    )
    assert again == DeliveryRefresh(checked=2, pending=1, unknown=1)


def test_refresh_with_nothing_sent_asks_twilio_nothing(
    engine: Engine, business: int, httpserver: HTTPServer
) -> None:
    actor = Actor.operator(business_id=business)
    refresh = refresh_delivery_statuses(
        engine, actor=actor, sender_or_client=sender(httpserver), since=NOW - timedelta(days=1)
    )
    assert refresh == DeliveryRefresh() and httpserver.log == []
    with pytest.raises(PermissionDenied):
        refresh_delivery_statuses(engine, actor=Actor(None, business, Role.ANALYST, "test"),
                                  sender_or_client=sender(httpserver), since=NOW)  # fmt: skip

"""TwilioSender through the official client against a local HTTP server standing in for
api.twilio.com (a `TwilioHttpClient` subclass rewrites the host: the SDK's own extension
point, no patching): the POSTed form, error mapping, redaction, delivery status, and the
real dispatcher on SQLite."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from werkzeug import Request, Response

from data.db import write_tx
from data.schema import customers
from notifications.dispatcher import DispatchReport, dispatch_once
from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)
from notifications.twilio_sms import (
    DeliveryStatus,
    TwilioSender,
    fetch_delivery_status,
    map_twilio_status,
)
from tests.data.test_outbox import NOW, enqueue, message, rows
from tests.factories import make_business, make_customer

SID = "AC" + "0" * 32
TOKEN = "token-that-must-never-leak"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
TO, BODY = "+4915112345678", "Your appointment is tomorrow at 10:00"


class LocalTwilio(TwilioHttpClient):
    """The stock HTTP client, sending to `base_url` instead of https://api.twilio.com."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False  # no proxy from the environment for localhost

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        parts = urlsplit(url)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, *args, **kwargs)


def sender(server: HTTPServer, **kwargs: Any) -> TwilioSender:
    options = {"from_number": "+15005550006"} | kwargs
    client = LocalTwilio(server.url_for("/"), timeout=options.pop("timeout", 5.0))
    return TwilioSender(SID, TOKEN, http_client=client, **options)


def outgoing(recipient: str = TO, body: str = BODY, **kwargs: Any) -> OutgoingMessage:
    values = {"id": 1, "business_id": 1, "channel": "sms", "recipient": recipient,
              "subject": None, "body": body, "idempotency_key": "b1:reminder:1"}  # fmt: skip
    return OutgoingMessage(**(values | kwargs))


def created(sid: str = "SM" + "a" * 32, status: str = "queued") -> dict[str, Any]:
    return {"sid": sid, "account_sid": SID, "status": status, "to": TO, "body": BODY,
            "date_updated": "Mon, 10 Mar 2025 09:00:00 +0000", "error_code": None}  # fmt: skip


def twilio_error(code: int, status: int, message: str = "") -> Response:
    text = message or f"The 'To' number {TO} is not valid for: {BODY}"
    payload = {"code": code, "message": text, "status": status,
               "more_info": f"https://www.twilio.com/docs/errors/{code}"}  # fmt: skip
    return Response(json.dumps(payload), status=status, content_type="application/json")


def assert_no_personal_data(text: str) -> None:
    for secret in (TO, BODY, TOKEN):
        assert secret not in text


def test_needs_exactly_one_sender_identity() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSender(SID, TOKEN)
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSender(SID, TOKEN, from_number="+15005550006", messaging_service_sid="MG1")
    sms = TwilioSender(SID, TOKEN, messaging_service_sid="MG1")
    assert sms.name == "twilio" and "leave this machine" in sms.description
    assert TOKEN not in repr(sms)


def test_send_posts_the_form_with_basic_auth(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(created(), status=201)
    result = sender(httpserver).send(outgoing())
    assert result.provider_message_id == "SM" + "a" * 32
    [(request, _)] = httpserver.log
    assert request.form.to_dict() == {"To": TO, "Body": BODY, "From": "+15005550006"}
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_send_through_a_messaging_service_with_status_callback(httpserver: HTTPServer) -> None:
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(created(), status=201)
    hook = "https://example.test/twilio/status"
    sender(httpserver, from_number=None, messaging_service_sid="MG" + "1" * 32,
           status_callback=hook).send(outgoing())  # fmt: skip
    [(request, _)] = httpserver.log
    assert request.form.to_dict() == {"To": TO, "Body": BODY, "StatusCallback": hook,
                                      "MessagingServiceSid": "MG" + "1" * 32}  # fmt: skip


def test_rate_limited_then_accepted(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_response(
        Response(json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}),
                 status=429, headers={"Retry-After": "7"}, content_type="application/json")
    )  # fmt: skip
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(created(), status=201)
    sms = sender(httpserver)
    with pytest.raises(TransientSendError) as raised:
        sms.send(outgoing())
    assert raised.value.retry_after == 7.0 and "20429" in str(raised.value)
    assert sms.send(outgoing()).provider_message_id == "SM" + "a" * 32
    assert len(httpserver.log) == 2


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [({}, None, None), ({"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, 1e9, 3e9)],
)
def test_retry_after_absent_or_a_date(
    httpserver: HTTPServer, headers: dict[str, str], low: float | None, high: float | None
) -> None:
    httpserver.expect_request(MESSAGES, method="POST").respond_with_response(
        Response(json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}),
                 status=429, headers=headers, content_type="application/json")
    )  # fmt: skip
    with pytest.raises(TransientSendError) as raised:
        sender(httpserver).send(outgoing())
    retry_after = raised.value.retry_after
    if low is None or high is None:
        assert retry_after is None
    else:
        assert retry_after is not None and low < retry_after < high


@pytest.mark.parametrize(
    ("status", "code", "reason", "opted_out"),
    [
        (400, 21211, "invalid phone number", False),
        (400, 21614, "invalid phone number", False),
        (400, 21610, "recipient opted out (STOP)", True),
        (401, 20003, "Twilio credentials rejected", False),
        (400, 21606, "Twilio error 21606", False),
    ],
)
def test_permanent_errors(
    httpserver: HTTPServer, status: int, code: int, reason: str, opted_out: bool
) -> None:
    httpserver.expect_request(MESSAGES, method="POST").respond_with_response(
        twilio_error(code, status)
    )
    with pytest.raises(PermanentSendError) as raised:
        sender(httpserver).send(outgoing())
    assert (raised.value.reason, raised.value.opted_out) == (reason, opted_out)
    assert f"Twilio error {code} (HTTP {status})" in str(raised.value)
    assert_no_personal_data(str(raised.value))


def test_server_error_is_transient_and_redacted(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request(MESSAGES, method="POST").respond_with_response(
        twilio_error(20500, 500, f"Internal error for {TO}, 0151 1234 5678, token {TOKEN}")
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(TransientSendError) as raised:
        sender(httpserver).send(outgoing())
    assert raised.value.retry_after is None
    assert "<number>" in str(raised.value) and "0151" not in str(raised.value)
    assert_no_personal_data(str(raised.value))
    assert caplog.text and "Messages.json" in caplog.text  # the SDK did log the request
    assert_no_personal_data(caplog.text)


def test_timeout_is_transient(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(10)
        return Response(json.dumps(created()), status=201, content_type="application/json")

    httpserver.expect_request(MESSAGES, method="POST").respond_with_handler(stall)
    try:
        with pytest.raises(TransientSendError, match="timeout"):
            sender(httpserver, timeout=0.2).send(outgoing())
    finally:
        release.set()


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = LocalTwilio(f"http://127.0.0.1:{port}", timeout=2.0)
    sms = TwilioSender(SID, TOKEN, from_number="+15005550006", http_client=client)
    with pytest.raises(TransientSendError, match="unreachable"):
        sms.send(outgoing())


def test_fetch_delivery_status(httpserver: HTTPServer) -> None:
    base = f"/2010-04-01/Accounts/{SID}/Messages"
    done, bounced, missing = "SM" + "d" * 32, "SM" + "u" * 32, "SM" + "0" * 32
    httpserver.expect_request(f"{base}/{done}.json").respond_with_json(created(done, "delivered"))
    httpserver.expect_request(f"{base}/{bounced}.json").respond_with_json(
        created(bounced, "undelivered") | {"error_code": 30005,
                                           "date_updated": "Tue, 11 Mar 2025 08:30:00 +0000"}
    )  # fmt: skip
    httpserver.expect_request(f"{base}/{missing}.json").respond_with_response(
        twilio_error(20404, 404, "The requested resource was not found")
    )
    found = fetch_delivery_status(sender(httpserver), [done, bounced, missing])
    assert found[done] == DeliveryStatus("delivered", None, datetime(2025, 3, 10, 9, tzinfo=UTC))
    assert found[bounced] == DeliveryStatus(
        "undelivered", 30005, datetime(2025, 3, 11, 8, 30, tzinfo=UTC)
    )
    assert (found[done].outbox_status, found[bounced].outbox_status) == ("delivered", "failed")
    assert found[missing].status == "unknown" and found[missing].outbox_status is None
    assert "20404" in (found[missing].error or "")


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [("delivered", "delivered"), ("failed", "failed"), ("undelivered", "failed"),
     ("queued", "sent"), ("accepted", "sent"), ("sending", "sent"), ("sent", "sent"),
     ("unknown", None), (None, None)],
)  # fmt: skip
def test_map_twilio_status(twilio: str | None, ours: str | None) -> None:
    assert map_twilio_status(twilio) == ours


def test_dispatcher_sends_through_twilio(sqlite_engine: Engine, httpserver: HTTPServer) -> None:
    """The real dispatcher: one message accepted, one refused with 21610 (STOP), which
    fails the row and turns that customer's SMS consent off."""
    with write_tx(sqlite_engine) as conn:
        business = make_business(conn)
        ada, bob = make_customer(conn, business), make_customer(conn, business)
        conn.execute(customers.update().values(sms_opt_in=True, sms_opt_in_at=NOW))
    enqueue(sqlite_engine, business, [message(business, 1, customer_id=ada),
                                      message(business, 2, customer_id=bob)])  # fmt: skip
    stopped = message(business, 2)["recipient"]

    def answer(request: Request) -> Response:
        if request.form["To"] == stopped:
            return twilio_error(21610, 400, f"Attempt to send to unsubscribed {stopped}")
        return Response(json.dumps(created()), status=201, content_type="application/json")

    httpserver.expect_request(MESSAGES, method="POST").respond_with_handler(answer)
    report = dispatch_once(sqlite_engine, senders={"sms": sender(httpserver)},
                           now_fn=lambda: NOW, rate_per_second=None)  # fmt: skip
    assert report == DispatchReport(sent=1, failed=1) and len(httpserver.log) == 2
    by_customer = {row["customer_id"]: row for row in rows(sqlite_engine).values()}
    assert (by_customer[ada]["status"], by_customer[ada]["provider"]) == ("sent", "twilio")
    assert by_customer[ada]["provider_message_id"] == "SM" + "a" * 32
    assert by_customer[bob]["status"] == "failed"
    assert by_customer[bob]["status_reason"] == "recipient opted out (STOP)"
    assert stopped not in by_customer[bob]["last_error"]
    with write_tx(sqlite_engine) as conn:
        consent = dict(conn.execute(sa.select(customers.c.id, customers.c.sms_opt_in)).all())
    assert consent == {ada: True, bob: False}

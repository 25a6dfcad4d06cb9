"""Twilio SMS: MESSAGES LEAVE THIS MACHINE and reach real phones through Twilio.

`TwilioSender` sends one SMS through the official client (`twilio.rest.Client`) and
maps Twilio's answers onto the provider contract of `notifications.providers`:
- HTTP 429: `TransientSendError`, with `retry_after` from the Retry-After header;
- HTTP 5xx, connection errors, timeouts: `TransientSendError`;
- error 21610 (the recipient texted STOP): `PermanentSendError(opted_out=True)`;
- errors 21211 / 21614 (not a valid / not a mobile number), 20003 (credentials
  rejected), any other 4xx: `PermanentSendError`.
Error texts and log lines never carry the auth token, the recipient or the body: Twilio's
own message is kept only after those (and anything that looks like a phone number) are
blanked out.

`fetch_delivery_status` asks Twilio what became of sent messages (one GET per sid;
a failure is reported per sid, never raised), and `map_twilio_status` turns Twilio's
status into the outbox's.

HTTP goes through a `twilio.http.HttpClient` (the SDK's own extension point): the default
`TwilioHttpClient(timeout=...)`, or the one passed in (tests point one at a local server).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)

log = logging.getLogger("slotboard.notifications.twilio")

REASON_OPTED_OUT = "recipient opted out (STOP)"
REASON_INVALID_NUMBER = "invalid phone number"
REASON_BAD_CREDENTIALS = "Twilio credentials rejected"
OPTED_OUT_CODES = frozenset({21610})
INVALID_NUMBER_CODES = frozenset({21211, 21614})
BAD_CREDENTIALS_CODES = frozenset({20003})

_SENT = frozenset({"queued", "accepted", "scheduled", "sending", "sent"})
_FAILED = frozenset({"failed", "undelivered", "canceled"})
_DELIVERED = frozenset({"delivered", "read"})
_PHONE_LIKE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{5,}\d(?!\w)")
_MAX_DETAIL = 300


class _HeaderRecordingClient(HttpClient):
    """Delegates every request to `inner` and keeps the last response's headers (per
    thread), so a 429's Retry-After can be read after the SDK raised."""

    def __init__(self, inner: HttpClient) -> None:
        super().__init__(inner.logger, False, inner.timeout)
        self.inner = inner
        self._local = threading.local()

    def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Response:
        self._local.headers = None
        response = self.inner.request(method, uri, *args, **kwargs)
        self._local.headers = response.headers
        return response

    @property
    def last_headers(self) -> Any:
        return getattr(self._local, "headers", None)


@dataclass(frozen=True)
class DeliveryStatus:
    """Twilio's view of one message: its raw `status` ("unknown" when it could not be
    fetched; `error` then says why), Twilio's `error_code` and `updated_at` (UTC)."""

    status: str
    error_code: int | None = None
    updated_at: datetime | None = None
    error: str | None = None

    @property
    def outbox_status(self) -> str | None:
        return map_twilio_status(self.status)


def map_twilio_status(status: str | None) -> str | None:
    """Twilio message status -> outbox status: delivered (or read) -> "delivered";
    failed / undelivered / canceled -> "failed"; queued / accepted / scheduled / sending /
    sent -> "sent"; anything else (unknown, None) -> None: leave the row as it is."""
    value = (status or "").lower()
    if value in _DELIVERED:
        return "delivered"
    if value in _FAILED:
        return "failed"
    return "sent" if value in _SENT else None


class TwilioSender:
    """Sends SMS through Twilio from `from_number` or a `messaging_service_sid` (exactly
    one). `http_client` defaults to `TwilioHttpClient(timeout=timeout)`; a given client
    keeps its own timeout. `status_callback`, when set, is the URL Twilio reports to."""

    name = "twilio"
    description = "Twilio: messages leave this machine and are delivered to real phones."

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        http_client: HttpClient | None = None,
        timeout: float = 10.0,
        status_callback: str | None = None,
    ) -> None:
        if bool(from_number) == bool(messaging_service_sid):
            raise ValueError("give exactly one of from_number and messaging_service_sid")
        if not account_sid or not auth_token:
            raise ValueError("a Twilio account SID and auth token are required")
        self._http = _HeaderRecordingClient(http_client or TwilioHttpClient(timeout=timeout))
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self._secrets = (auth_token,)

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST one message; returns Twilio's message sid. Raises per the module doc."""
        if message.channel != "sms":
            raise PermanentSendError(f"Twilio sends SMS, not {message.channel}",
                                     reason="unsupported channel")  # fmt: skip
        options: dict[str, Any] = {"to": message.recipient, "body": message.body}
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        else:
            options["from_"] = self.from_number
        if self.status_callback:
            options["status_callback"] = self.status_callback
        try:
            created = self.client.messages.create(**options)
        except Exception as exc:
            secrets = (*self._secrets, message.recipient, message.body)
            raise _send_error(exc, secrets, self._http.last_headers) from None
        log.info("message %s accepted by Twilio as %s", message.id, created.sid)
        return SendResult(str(created.sid))


def fetch_delivery_status(
    sender_or_client: TwilioSender | Client, sids: Sequence[str]
) -> dict[str, DeliveryStatus]:
    """Twilio's current status of each message sid (one fetch each, in order). A sid
    that cannot be fetched maps to DeliveryStatus("unknown", error=<why, redacted>)."""
    if isinstance(sender_or_client, TwilioSender):
        client, secrets = sender_or_client.client, sender_or_client._secrets
    else:
        client, secrets = sender_or_client, (str(sender_or_client.password or ""),)
    found: dict[str, DeliveryStatus] = {}
    for sid in sids:
        try:
            fetched = client.messages(sid).fetch()
        except Exception as exc:  # noqa: BLE001 - reported per sid, never raised
            found[sid] = DeliveryStatus("unknown", error=str(_send_error(exc, secrets, None)))
            log.warning("delivery status of %s unknown: %s", sid, found[sid].error)
            continue
        updated = fetched.date_updated
        found[sid] = DeliveryStatus(
            status=str(fetched.status or "unknown"), error_code=fetched.error_code,
            updated_at=updated.astimezone(UTC) if isinstance(updated, datetime) else None,
        )  # fmt: skip
    return found


def _send_error(
    exc: Exception, secrets: Sequence[str], headers: Any
) -> TransientSendError | PermanentSendError:
    """Map one exception from the SDK (or from requests below it) onto the contract."""
    if isinstance(exc, requests.Timeout):
        return TransientSendError("Twilio did not answer in time (timeout)")
    if isinstance(exc, requests.RequestException):
        return TransientSendError(f"Twilio unreachable ({type(exc).__name__})")
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        return _api_error(exc, secrets, headers)
    if isinstance(exc, TwilioException):
        return TransientSendError(f"Twilio client error: {_redact(str(exc), secrets)}")
    return TransientSendError(f"unexpected {type(exc).__name__} talking to Twilio")


def _api_error(
    exc: TwilioRestException | TwilioServiceException, secrets: Sequence[str], headers: Any
) -> TransientSendError | PermanentSendError:
    status, code = int(exc.status), exc.code
    raw = exc.msg if isinstance(exc, TwilioRestException) else (exc.detail or exc.title)
    text = f"Twilio error {code} (HTTP {status}): {_redact(str(raw or ''), secrets)}"
    if status == 429:
        return TransientSendError(text, retry_after=_retry_after(headers))
    if status >= 500:
        return TransientSendError(text)
    if code in OPTED_OUT_CODES:
        return PermanentSendError(text, reason=REASON_OPTED_OUT, opted_out=True)
    if code in INVALID_NUMBER_CODES:
        return PermanentSendError(text, reason=REASON_INVALID_NUMBER)
    if code in BAD_CREDENTIALS_CODES or status == 401:
        return PermanentSendError(text, reason=REASON_BAD_CREDENTIALS)
    return PermanentSendError(text, reason=f"Twilio error {code}")


def _retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _redact(text: str, secrets: Sequence[str]) -> str:
    """Blank out the given secrets (token, recipient, body) and anything phone-like."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    text = _PHONE_LIKE.sub("<number>", text)
    return text[:_MAX_DETAIL]

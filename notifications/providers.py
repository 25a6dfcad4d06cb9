"""The provider interface: what the dispatcher hands a sender and what it gets back.

A `Sender` sends one message and returns the provider's message id, or raises:
- `TransientSendError` for what may work later (HTTP 429, 5xx, a timeout, a dropped
  connection): the dispatcher retries with backoff, up to its attempt limit;
- `PermanentSendError` for what never will (an invalid number, bad credentials, a
  recipient who opted out): the message fails at once; `opted_out` also turns the
  customer's consent for that channel off.
Any other exception is treated as transient, so one bad message never aborts a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row, as a sender sees it. `idempotency_key` is stable across retries:
    a provider that supports idempotent requests should pass it along."""

    id: int
    business_id: int
    channel: str  # "sms" or "email"
    recipient: str  # E.164 phone number or e-mail address
    subject: str | None
    body: str
    idempotency_key: str
    attempt: int = 1


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class TransientSendError(Exception):
    """Worth retrying later. `retry_after` (seconds), when the provider said so."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(Exception):
    """Will never succeed as it is. `reason` is short and stable (e.g. "invalid_number",
    "opted_out", "bad_credentials"); the exception's text is the detail."""

    def __init__(self, message: str, *, reason: str, opted_out: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.opted_out = opted_out


class Sender(Protocol):
    """Sends one message on one channel; see the module docstring for the errors."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...

"""The SMTP e-mail adapter: smtplib with STARTTLS and AUTH. Messages LEAVE THIS MACHINE.

`SmtpSender.send` builds a plain-text UTF-8 `EmailMessage` (From, To, Subject, Date,
Message-ID) and hands it to the server: EHLO, STARTTLS when configured (verified against
`ssl_context`, the system's trust store by default), AUTH when a username is set, then
MAIL / RCPT / DATA. The Message-ID is derived from the outbox row's idempotency key
("<sha256(key)[:32]@from-domain>"), so a re-send of the same row carries the same id and
a mail client (or a human) can recognise the duplicate; it is also the provider message id.

Failures map onto the provider interface (notifications.providers):
- recipient refused with 5xx -> PermanentSendError("e-mail address rejected");
- credentials refused (535 and other 5xx on AUTH) -> PermanentSendError("SMTP credentials
  rejected"); no STARTTLS offered while configured -> PermanentSendError("server does not
  offer STARTTLS"); no AUTH offered -> PermanentSendError("server does not offer AUTH");
  a server certificate that does not verify -> PermanentSendError("TLS certificate not
  trusted"); a malformed address -> PermanentSendError("invalid e-mail address"); any
  other 5xx (MAIL FROM, DATA) -> PermanentSendError("rejected by the SMTP server");
- any 4xx reply, a refused or dropped connection, a timeout -> TransientSendError.
Neither logs nor error texts carry the password, the recipient (redacted from server
replies) or the body. A non-ASCII user name or password goes as UTF-8 AUTH PLAIN (smtplib's
own login only speaks ASCII).

By default every send opens and closes its own connection. Used as a context manager
(or with `close()`), the sender keeps one connection open across a batch and checks it
with NOOP before each reuse.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import smtplib
import ssl
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import NoReturn

from notifications.providers import (
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)

log = logging.getLogger("slotboard.notifications.smtp")
FALLBACK_DOMAIN = "slotboard.invalid"


class SmtpSender:
    """Sends e-mail through one SMTP server; see the module docstring for the contract."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        envelope_from = parseaddr(from_address)[1]
        if "@" not in envelope_from or any(ch in from_address for ch in "\r\n"):
            raise ValueError("from_address must be an e-mail address, e.g. 'Salon <a@b.de>'")
        self.host, self.port, self.from_address = host, port, from_address
        self.envelope_from = envelope_from
        self.username, self._password = username, password
        self.starttls, self.timeout, self.ssl_context = starttls, timeout, ssl_context
        self.description = f"SMTP ({host}:{port}): e-mails leave this machine."
        self._conn: smtplib.SMTP | None = None
        self._keep_open = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host!r}, {self.port}, from_address={self.from_address!r})"

    def __enter__(self) -> SmtpSender:
        self._keep_open = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept connection (if any) and stop keeping one open."""
        with self._lock:
            self._keep_open = False
            self._drop()

    def build_email(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message for one outbox row (pure apart from the Date header).
        Raises PermanentSendError for a malformed recipient address."""
        recipient = _checked_address(message.recipient)
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = recipient
        email["Subject"] = " ".join((message.subject or "").split())
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = self.message_id(message.idempotency_key)
        email.set_content(message.body, charset="utf-8")
        return email

    def message_id(self, idempotency_key: str) -> str:
        """The stable Message-ID of a row: the same key always gives the same id."""
        digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
        domain = self.envelope_from.rpartition("@")[2].strip() or FALLBACK_DOMAIN
        return f"<{digest}@{domain}>"

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one e-mail; returns its Message-ID. Raises Transient/PermanentSendError."""
        email = self.build_email(message)
        with self._lock:
            try:
                conn = self._connection()
                conn.send_message(email, self.envelope_from, [_checked_address(message.recipient)])
            except Exception as exc:
                self._drop()
                _raise_mapped(exc, message)
            if not self._keep_open:
                self._drop()
        log.info("message %s accepted by %s:%s (attempt %d)",
                 message.id, self.host, self.port, message.attempt)  # fmt: skip
        return SendResult(str(email["Message-ID"]))

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                if self._conn.noop()[0] == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            self._greet(conn)
        except BaseException:
            conn.close()  # mid-greeting (perhaps mid-TLS): no QUIT, just hang up
            raise
        self._conn = conn
        return conn

    def _greet(self, conn: smtplib.SMTP) -> None:
        conn.ehlo()
        if self.starttls:
            if not conn.has_extn("starttls"):
                raise _NotOffered("STARTTLS")
            conn.starttls(context=self.ssl_context or ssl.create_default_context())
            conn.ehlo()
        if self.username:
            if not conn.has_extn("auth"):
                raise _NotOffered("AUTH")
            _login(conn, self.username, self._password or "")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _quietly_close(conn)


class _NotOffered(Exception):
    """The server's EHLO reply lacks an extension the sender is configured to use."""


def _login(conn: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib's login, which encodes credentials as ASCII; a non-ASCII user name or
    password goes as AUTH PLAIN in UTF-8 (RFC 4616) instead."""
    if (username + password).isascii():
        conn.login(username, password)
        return
    if "PLAIN" not in conn.esmtp_features.get("auth", "").upper().split():
        raise _NotOffered("AUTH PLAIN (needed for a non-ASCII user name or password)")
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = conn.docmd("AUTH", f"PLAIN {token}")
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _checked_address(address: str) -> str:
    found = parseaddr(address)[1]
    if not address or any(ch in address for ch in "\r\n") or "@" not in found:
        raise PermanentSendError("not an e-mail address", reason="invalid e-mail address")
    return found


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _reply(code: int, text: bytes | str, recipient: str) -> str:
    """A server reply for an error text, with the recipient's address redacted."""
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {decoded.replace(recipient, '<recipient>')}"[:300]


def _raise_mapped(exc: Exception, message: OutgoingMessage) -> NoReturn:
    """Re-raise a send failure as the provider interface's error (see the module docstring)."""
    log.warning("message %s: SMTP send failed (%s)", message.id, type(exc).__name__)
    if isinstance(exc, PermanentSendError | TransientSendError):
        raise exc
    if isinstance(exc, _NotOffered):
        text = f"the SMTP server does not offer {exc}"
        raise PermanentSendError(text, reason=f"server does not offer {exc}") from None
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # e.g. SMTPUTF8 for a non-ASCII address
        raise PermanentSendError(
            str(exc)[:300], reason="not supported by the SMTP server"
        ) from None
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS: {exc.verify_message}"
        raise PermanentSendError(text, reason="TLS certificate not trusted") from None
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
        _raise_for_reply(exc, parseaddr(message.recipient)[1] or message.recipient)
    raise TransientSendError(f"SMTP unavailable: {type(exc).__name__}: {exc}"[:300]) from None


def _raise_for_reply(
    exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException, recipient: str
) -> NoReturn:
    """A refusal: 4xx (or no usable code) is transient, 5xx permanent with a stable reason."""
    code: int
    text: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b"refused"))
        step, reason = "recipient refused", "e-mail address rejected"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        code, text = exc.smtp_code, exc.smtp_error
        step, reason = "AUTH refused", "SMTP credentials rejected"
    else:
        code, text = exc.smtp_code, exc.smtp_error
        step = "MAIL FROM refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "refused"
        reason = "rejected by the SMTP server"
    detail = f"{step}: {_reply(code, text, recipient)}"
    if 400 <= code < 500 or code < 0:  # 4xx: try later; -1: no usable reply
        raise TransientSendError(detail) from None
    raise PermanentSendError(detail, reason=reason) from None

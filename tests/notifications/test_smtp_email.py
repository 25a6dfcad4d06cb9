"""SmtpSender against a real aiosmtpd server on 127.0.0.1: the MIME that arrives, AUTH,
STARTTLS with a self-signed certificate, every failure mapping, connection reuse, and
one dispatcher run that delivers exactly the queued e-mails once."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from data.db import write_tx
from notifications.dispatcher import dispatch_once
from notifications.providers import OutgoingMessage, PermanentSendError, TransientSendError
from notifications.smtp_email import SmtpSender
from tests.data.test_outbox import NOW, enqueue, message, rows
from tests.factories import make_business

FROM = "Salon Süd <termine@salon.example>"
USER, PASSWORD = "salon", "s3cret-Pässword"
SUBJECT = "Erinnerung: Ihr Termin morgen – Färben"
BODY = "Hallo Jürgen,\nbis morgen um 10:00 Uhr.\nGrüße aus der Straße\n"


class Recorder:
    """Records every accepted envelope; answers RCPT / DATA with a scripted reply when set."""

    def __init__(self, rcpt_reply: dict[str, str] | None = None, data_reply: str | None = None):
        self.received: list[dict[str, Any]] = []
        self.rcpt_reply = rcpt_reply or {}
        self.data_reply = data_reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, _: Any):
        if address in self.rcpt_reply:
            return self.rcpt_reply[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append({
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "mime": email.message_from_bytes(envelope.content, policy=email.policy.default),
            "peer": session.peer, "tls": session.ssl is not None,
            "login": getattr(session, "auth_data", None),
        })  # fmt: skip
        return "250 Message accepted for delivery"

    @property
    def mimes(self) -> list[EmailMessage]:
        return [item["mime"] for item in self.received]


def login_checker(password: str) -> Any:
    """An aiosmtpd authenticator accepting USER with `password` (PLAIN or LOGIN)."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == password.encode()
        ok = ok and data.login == USER.encode()
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

    return check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: Recorder, **smtp_options: Any) -> Iterator[int]:
    """A real aiosmtpd server on 127.0.0.1 for the duration; yields its port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost): (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"), loopback])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30)).add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pkcs8 = serialization.PrivateFormat.PKCS8
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts exactly the self-signed certificate)."""
    cert, key = make_certificate(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def outgoing(i: int = 1, **overrides: Any) -> OutgoingMessage:
    values = {"id": i, "business_id": 7, "channel": "email", "recipient": f"kunde{i}@example.org",
              "subject": SUBJECT, "body": BODY, "idempotency_key": f"b7:reminder:{i}"}  # fmt: skip
    return OutgoingMessage(**(values | overrides))


def plain_sender(port: int, **options: Any) -> SmtpSender:
    return SmtpSender("127.0.0.1", port, from_address=FROM, starttls=False, **options)


def test_delivers_utf8_plain_text_with_headers() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        result = plain_sender(port).send(outgoing(1))
    [got] = recorder.received
    assert got["mail_from"] == "termine@salon.example"
    assert got["rcpt_tos"] == ["kunde1@example.org"]
    mime = got["mime"]
    assert mime["From"].addresses[0].display_name == "Salon Süd"
    assert mime["From"].addresses[0].addr_spec == "termine@salon.example"
    assert str(mime["To"]) == "kunde1@example.org"
    assert str(mime["Subject"]) == SUBJECT
    assert mime["Message-ID"] == result.provider_message_id
    assert result.provider_message_id.endswith("@salon.example>")
    assert parsedate_to_datetime(str(mime["Date"])).utcoffset() == dt.timedelta(0)
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content_charset() == "utf-8"
    assert mime.get_content().replace("\r\n", "\n") == BODY  # CRLF on the wire


def test_message_id_is_stable_per_key_and_subjects_cannot_inject_headers() -> None:
    sender = plain_sender(1)
    same = sender.message_id("b7:reminder:1")
    assert same == sender.message_id("b7:reminder:1") != sender.message_id("b7:reminder:2")
    assert same.startswith("<") and same.endswith("@salon.example>")
    mime = sender.build_email(outgoing(1, subject="Hallo\r\nBcc: evil@example.com"))
    assert str(mime["Subject"]) == "Hallo Bcc: evil@example.com" and mime["Bcc"] is None


@pytest.mark.parametrize("recipient", ["not-an-address", "a@example.org\r\nBcc: b@example.com", ""])
def test_malformed_recipient_is_permanent_without_connecting(recipient: str) -> None:
    with pytest.raises(PermanentSendError) as caught:  # port 1: connecting would be transient
        plain_sender(1).send(outgoing(1, recipient=recipient))
    assert caught.value.reason == "invalid e-mail address"


@pytest.mark.parametrize("password", [PASSWORD, "plain-ascii-1"])  # UTF-8 PLAIN / smtplib
def test_login_without_tls_and_a_wrong_password(password: str) -> None:
    recorder, auth = Recorder(), {"authenticator": login_checker(password)}
    with smtp_server(recorder, **auth, auth_require_tls=False) as port:
        plain_sender(port, username=USER, password=password).send(outgoing(1))
        with pytest.raises(PermanentSendError) as caught:
            plain_sender(port, username=USER, password="wrong-pw").send(outgoing(2))
    assert caught.value.reason == "SMTP credentials rejected"
    assert "wrong-pw" not in str(caught.value)
    assert [item["login"] for item in recorder.received] == [USER.encode()]  # only the first


def test_starttls_then_login_with_a_trusted_self_signed_certificate(tls: Any) -> None:
    server_ctx, client_ctx = tls
    recorder = Recorder()
    auth = {"authenticator": login_checker(PASSWORD)}
    with smtp_server(recorder, tls_context=server_ctx, require_starttls=True, **auth) as port:
        sender = SmtpSender("127.0.0.1", port, from_address=FROM, username=USER,
                            password=PASSWORD, ssl_context=client_ctx)  # fmt: skip
        sender.send(outgoing(1))
    [got] = recorder.received
    assert got["tls"] is True and got["login"] == USER.encode()
    assert got["mime"].get_content().replace("\r\n", "\n") == BODY  # CRLF on the wire


def test_untrusted_certificate_is_permanent(tls: Any) -> None:
    server_ctx, _ = tls
    recorder = Recorder()
    with smtp_server(recorder, tls_context=server_ctx, require_starttls=True) as port:
        with pytest.raises(PermanentSendError) as caught:  # the system trust store: refused
            SmtpSender("127.0.0.1", port, from_address=FROM).send(outgoing(1))
    assert caught.value.reason == "TLS certificate not trusted" and recorder.received == []


@pytest.mark.parametrize(
    ("options", "what"),
    [({"starttls": True}, "STARTTLS"),  # aiosmtpd without a tls_context offers no STARTTLS
     ({"starttls": False, "username": USER, "password": PASSWORD}, "AUTH")],  # AUTH: TLS only
)  # fmt: skip
def test_an_extension_configured_but_not_offered_is_permanent(options: dict, what: str) -> None:
    recorder = Recorder()
    with smtp_server(recorder, authenticator=login_checker(PASSWORD)) as port:
        with pytest.raises(PermanentSendError) as caught:
            SmtpSender("127.0.0.1", port, from_address=FROM, **options).send(outgoing(1))
    assert caught.value.reason == f"server does not offer {what}" and recorder.received == []


@pytest.mark.parametrize(
    ("rcpt", "data", "error", "reason"),
    [("550 5.1.1 <kunde1@example.org>: user unknown", None, PermanentSendError,
      "e-mail address rejected"),
     ("451 4.7.1 greylisted, try later", None, TransientSendError, None),
     (None, "554 5.7.1 message refused", PermanentSendError, "rejected by the SMTP server"),
     (None, "421 4.3.2 shutting down", TransientSendError, None)],
)  # fmt: skip
def test_refusals_map_by_reply_code(rcpt: Any, data: Any, error: type, reason: Any) -> None:
    recorder = Recorder({"kunde1@example.org": rcpt} if rcpt else None, data_reply=data)
    with smtp_server(recorder) as port:
        with pytest.raises(error) as caught:
            plain_sender(port).send(outgoing(1))
    assert getattr(caught.value, "reason", None) == reason
    assert "kunde1@example.org" not in str(caught.value)  # the address is redacted
    assert recorder.received == []


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientSendError):
        plain_sender(free_port()).send(outgoing(1))


def test_a_server_that_never_greets_times_out_as_transient() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the TCP connection, never says 220
        with pytest.raises(TransientSendError):
            plain_sender(silent.getsockname()[1], timeout=0.2).send(outgoing(1))


def test_logs_hold_no_password_recipient_or_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="slotboard")
    recorder = Recorder({"kunde2@example.org": "550 no such user kunde2@example.org"})
    auth = {"authenticator": login_checker(PASSWORD), "auth_require_tls": False}
    with smtp_server(recorder, **auth) as port:
        sender = plain_sender(port, username=USER, password=PASSWORD)
        sender.send(outgoing(1))
        with pytest.raises(PermanentSendError):
            sender.send(outgoing(2, recipient="kunde2@example.org"))
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("slotboard"))
    assert "message 1 accepted" in ours and "message 2" in ours
    for secret in (PASSWORD, "kunde1@example.org", "kunde2@example.org", "Jürgen"):
        assert secret not in ours and secret not in repr(sender)


def test_one_connection_per_send_unless_kept_open() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        for i in (1, 2):
            plain_sender(port).send(outgoing(i))
        with plain_sender(port) as kept:
            for i in (3, 4, 5):
                kept.send(outgoing(i))
    peers = [item["peer"] for item in recorder.received]
    assert len(peers) == 5 and peers[0] != peers[1]  # one connection each
    assert len(set(peers[2:])) == 1 and peers[2] not in peers[:2]  # one kept for the batch


def test_dispatcher_delivers_each_queued_email_exactly_once(sqlite_engine: sa.Engine) -> None:
    with write_tx(sqlite_engine) as conn:
        business = make_business(conn)

    def mail(i: int, to: str) -> dict[str, Any]:
        return message(business, i, channel="email", recipient=to, subject=f"Termin {i} – Grüße",
                       body=f"Hallo Jürgen {i}")  # fmt: skip

    queued = [mail(i, f"kunde{i}@example.org") for i in range(3)] + [mail(3, "weg@example.org")]
    enqueue(sqlite_engine, business, [*queued, message(business, 4)])  # + one SMS
    recorder = Recorder({"weg@example.org": "550 5.1.1 mailbox unavailable"})
    options: dict[str, Any] = {"now_fn": lambda: NOW, "rate_per_second": None}
    with smtp_server(recorder) as port:
        sender = plain_sender(port)
        first = dispatch_once(sqlite_engine, senders={"email": sender}, **options)
        second = dispatch_once(sqlite_engine, senders={"email": sender}, **options)
    assert (first.sent, first.failed, second.claimed) == (3, 1, 0)
    assert sorted(item["rcpt_tos"][0] for item in recorder.received) == [
        f"kunde{i}@example.org" for i in range(3)]  # fmt: skip
    by_recipient = {row["recipient"]: row for row in rows(sqlite_engine).values()}
    received_ids = {str(m["To"]): m["Message-ID"] for m in recorder.mimes}
    for i in range(3):
        row = by_recipient[f"kunde{i}@example.org"]
        assert (row["status"], row["provider"]) == ("sent", "smtp")
        assert row["provider_message_id"] == received_ids[row["recipient"]]
    assert sorted(m.get_content().strip() for m in recorder.mimes) == [
        f"Hallo Jürgen {i}" for i in range(3)]  # fmt: skip
    assert by_recipient["weg@example.org"]["status"] == "failed"
    assert by_recipient["weg@example.org"]["status_reason"] == "e-mail address rejected"
    assert by_recipient["+4915100000004"]["status"] == "queued"  # SMS: no sender, not claimed

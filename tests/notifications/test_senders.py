"""build_senders: the offline console by default, SMTP and Twilio when configured, the
console for every demo business whatever is configured, and path texts with no secrets."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from notifications.console import ConsoleSender
from notifications.senders import OFFLINE as HELD
from notifications.senders import build_senders
from notifications.smtp_email import SmtpSender
from settings import load_settings
from tests.notifications.test_smtp_email import Recorder, outgoing, smtp_server

SMTP = {"smtp_host": "smtp.example.com", "smtp_port": 2525, "smtp_from": "Salon <a@salon.example>",
        "smtp_username": "salon", "smtp_password": "smtp-pass-123"}  # fmt: skip
TWILIO = {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "twilio-token-456",
          "twilio_from_number": "+4930123456"}  # fmt: skip
SECRETS = ("smtp-pass-123", "twilio-token-456")


def build(*, is_demo: bool = False, **settings: Any) -> Any:
    return build_senders(load_settings(**settings), is_demo=is_demo)


def assert_no_secrets(paths: dict[str, str]) -> None:
    for text in paths.values():
        assert not any(secret in text for secret in SECRETS)


def test_nothing_configured_holds_both_channels_in_the_outbox() -> None:
    senders = build()
    assert senders.by_channel == {}  # the dispatcher claims nothing: messages stay queued
    assert senders.offline_channels == ["sms", "email"]
    assert senders.paths == {
        "sms": f"SMS: {HELD} (Twilio not configured)",
        "email": f"E-mail: {HELD} (SMTP not configured)",
    }


def test_smtp_settings_build_an_smtp_sender() -> None:
    senders = build(**SMTP, smtp_starttls=False)
    email = senders.by_channel["email"]
    assert isinstance(email, SmtpSender)
    assert (email.host, email.port, email.starttls, email.username) == (
        "smtp.example.com", 2525, False, "salon")  # fmt: skip
    assert email.envelope_from == "a@salon.example"
    assert senders.paths["email"] == (
        "E-mail: SMTP (smtp.example.com:2525, no TLS, from Salon <a@salon.example>)"
    )
    assert "sms" not in senders.by_channel
    assert senders.offline_channels == ["sms"]
    assert_no_secrets(senders.paths)


@pytest.mark.parametrize(
    ("settings", "why"),
    [({"smtp_host": "smtp.example.com"}, "SMTP_FROM missing"),
     ({"smtp_from": "a@salon.example"}, "SMTP_HOST missing"),
     ({"smtp_host": "smtp.example.com", "smtp_from": "no address"},
      "SMTP_FROM is not an e-mail address")],
)  # fmt: skip
def test_incomplete_or_invalid_smtp_settings_stay_offline(settings: dict, why: str) -> None:
    senders = build(**settings)
    assert "email" not in senders.by_channel
    assert senders.paths["email"] == f"E-mail: {HELD} ({why})"


def test_a_demo_business_never_gets_a_real_sender() -> None:
    senders = build(is_demo=True, **SMTP, **TWILIO)
    assert all(isinstance(s, ConsoleSender) for s in senders.by_channel.values())
    for channel, label in (("sms", "SMS"), ("email", "E-mail")):
        assert senders.paths[channel].startswith(f"{label}: console only - nothing leaves")
        assert "demo business" in senders.paths[channel]
    assert_no_secrets(senders.paths)


def test_incomplete_twilio_settings_name_what_is_missing() -> None:
    senders = build(twilio_account_sid=TWILIO["twilio_account_sid"])
    assert "sms" not in senders.by_channel
    assert "TWILIO_AUTH_TOKEN missing" in senders.paths["sms"]
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID missing" in senders.paths["sms"]
    assert "TWILIO_ACCOUNT_SID" not in senders.paths["sms"]


def test_complete_twilio_settings_pick_twilio_or_say_why_not() -> None:
    senders = build(**TWILIO)
    assert senders.by_channel["sms"].name == "twilio"
    assert senders.paths["sms"] == "SMS: Twilio (from +4930123456)"
    assert "email" not in senders.by_channel
    assert_no_secrets(senders.paths)


def test_an_unimportable_twilio_adapter_holds_sms_in_the_outbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "notifications.twilio_sms", None)  # import now fails
    senders = build(**TWILIO)
    assert "sms" not in senders.by_channel
    assert senders.paths["sms"].startswith(f"SMS: {HELD} (")
    assert "Twilio adapter unavailable" in senders.paths["sms"]


def test_a_messaging_service_wins_over_a_from_number() -> None:
    senders = build(**TWILIO, twilio_messaging_service_sid="MG" + "1" * 32)
    assert senders.by_channel["sms"].name == "twilio"
    assert senders.paths["sms"] == "SMS: Twilio (Messaging Service MG" + "1" * 32 + ")"


def test_the_built_smtp_sender_delivers() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        settings = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                    "smtp_from": "termine@salon.example"}  # fmt: skip
        build(**settings).by_channel["email"].send(outgoing(1))
    assert [item["rcpt_tos"] for item in recorder.received] == [["kunde1@example.org"]]

"""check_recipient: consent first (never given vs withdrawn), then a usable address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.contacts import (
    SKIP_EMAIL_OPTED_OUT,
    SKIP_NO_EMAIL,
    SKIP_NO_EMAIL_CONSENT,
    SKIP_NO_PHONE,
    SKIP_NO_SMS_CONSENT,
    SKIP_SMS_OPTED_OUT,
    check_recipient,
)

CONSENTED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def customer(**changes: Any) -> dict[str, Any]:
    row = {
        "phone": "+4915112345678",
        "email": "anna@example.com",
        "sms_opt_in": True,
        "sms_opt_in_at": CONSENTED_AT,
        "email_opt_in": True,
        "email_opt_in_at": CONSENTED_AT,
    }
    return row | changes


def test_a_consenting_customer_with_a_mobile_number_gets_sms() -> None:
    assert check_recipient("sms", customer(), country="DE") == ("+4915112345678", None)


def test_a_national_number_is_read_in_the_business_country() -> None:
    found = check_recipient("sms", customer(phone="0151 12345678"), country="DE")
    assert found == ("+4915112345678", None)


def test_a_number_that_may_be_mobile_is_accepted() -> None:
    # US numbers do not tell landlines from mobiles (FIXED_LINE_OR_MOBILE).
    assert check_recipient("sms", customer(phone="+12015550123"), country="US")[0] == (
        "+12015550123"
    )


@pytest.mark.parametrize(
    "phone",
    [None, "", "   ", "not a number", "+4930123", "+493012345678", "0151 12345678"],
    ids=["none", "empty", "blank", "text", "too-short", "landline", "national-no-country"],
)
def test_no_usable_sms_number(phone: str | None) -> None:
    assert check_recipient("sms", customer(phone=phone), country=None) == (None, SKIP_NO_PHONE)


def test_an_email_address_is_normalised() -> None:
    found = check_recipient("email", customer(email=" Anna@Example.COM "), country="DE")
    assert found == ("Anna@example.com", None)


@pytest.mark.parametrize("email", [None, "", "anna", "anna@", "anna@@example.com", "a b@x.de"])
def test_no_valid_email(email: str | None) -> None:
    assert check_recipient("email", customer(email=email), country="DE") == (None, SKIP_NO_EMAIL)


@pytest.mark.parametrize(
    ("channel", "changes", "reason"),
    [
        ("sms", {"sms_opt_in": False, "sms_opt_in_at": None}, SKIP_NO_SMS_CONSENT),
        ("sms", {"sms_opt_in": False}, SKIP_SMS_OPTED_OUT),
        ("email", {"email_opt_in": False, "email_opt_in_at": None}, SKIP_NO_EMAIL_CONSENT),
        ("email", {"email_opt_in": False}, SKIP_EMAIL_OPTED_OUT),
    ],
)
def test_consent_never_given_or_withdrawn(
    channel: str, changes: dict[str, Any], reason: str
) -> None:
    assert check_recipient(channel, customer(**changes), country="DE") == (None, reason)


def test_consent_is_checked_before_the_address() -> None:
    row = customer(phone="rubbish", sms_opt_in=False, sms_opt_in_at=None)
    assert check_recipient("sms", row, country="DE") == (None, SKIP_NO_SMS_CONSENT)


def test_channels_are_independent() -> None:
    row = customer(sms_opt_in=False, email="nope")
    assert check_recipient("sms", row, country="DE") == (None, SKIP_SMS_OPTED_OUT)
    assert check_recipient("email", row, country="DE") == (None, SKIP_NO_EMAIL)


def test_missing_columns_read_as_no_consent() -> None:
    assert check_recipient("email", {}, country="DE") == (None, SKIP_NO_EMAIL_CONSENT)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        check_recipient("fax", customer(), country="DE")

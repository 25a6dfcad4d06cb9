"""Can this customer be reached on this channel, and at which address? Pure.

`check_recipient(channel, customer, *, country)` answers with `(recipient, None)` or
`(None, reason)`, where the reason is one of the `SKIP_*` constants (shown to staff in the
notification panel's "before sending" box, so they are short sentences).

Contract for `customer`: any mapping with the `customers` table's columns (a SQLAlchemy
`row._mapping` works): `phone`, `email`, `sms_opt_in`, `sms_opt_in_at`, `email_opt_in`,
`email_opt_in_at`. Missing keys read as None / False.

Order of checks: consent first (a customer who did not consent is never looked at further),
then the address.
- Consent: `<channel>_opt_in` must be true. When it is false but `<channel>_opt_in_at` is set,
  the customer consented once and withdrew (an opt-out, e.g. an SMS "STOP" or Twilio error
  21610 recorded by the dispatcher): reason `SKIP_*_OPTED_OUT`; otherwise consent was never
  given: `SKIP_NO_*_CONSENT`. Whoever records an opt-out must keep `*_opt_in_at` set (the
  time of the last consent change) for this distinction to hold.
- SMS: the phone must parse (stored numbers are E.164; a national number is read in the
  business's `country`), be a valid number, and be able to receive SMS: its type is MOBILE
  or FIXED_LINE_OR_MOBILE (countries such as the US do not tell the two apart). The recipient
  is the E.164 form.
- E-mail: `email_validator` syntax check without DNS (`check_deliverability=False`); the
  recipient is the normalised address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

SKIP_NO_SMS_CONSENT = "no SMS consent"
SKIP_NO_EMAIL_CONSENT = "no e-mail consent"
SKIP_SMS_OPTED_OUT = "opted out of SMS"
SKIP_EMAIL_OPTED_OUT = "opted out of e-mail"
SKIP_NO_PHONE = "no valid phone number"
SKIP_NO_EMAIL = "no valid e-mail"

CHANNELS = ("sms", "email")
_SMS_CAPABLE = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def check_recipient(
    channel: str, customer: Mapping[str, Any], *, country: str | None
) -> tuple[str | None, str | None]:
    """(recipient, None) when `customer` may be sent to on `channel`, else (None, SKIP_*).

    `country` is the business's ISO country code (used only for national phone numbers).
    Raises ValueError for an unknown channel.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    refusal = _consent_refusal(channel, customer)
    if refusal is not None:
        return None, refusal
    if channel == "sms":
        phone = normalise_sms_number(customer.get("phone"), country=country)
        return (phone, None) if phone else (None, SKIP_NO_PHONE)
    email = normalise_email_address(customer.get("email"))
    return (email, None) if email else (None, SKIP_NO_EMAIL)


def _consent_refusal(channel: str, customer: Mapping[str, Any]) -> str | None:
    if customer.get(f"{channel}_opt_in"):
        return None
    opted_out = customer.get(f"{channel}_opt_in_at") is not None
    if channel == "sms":
        return SKIP_SMS_OPTED_OUT if opted_out else SKIP_NO_SMS_CONSENT
    return SKIP_EMAIL_OPTED_OUT if opted_out else SKIP_NO_EMAIL_CONSENT


def normalise_sms_number(raw: object, *, country: str | None) -> str | None:
    """The E.164 form of an SMS-capable phone number, or None (blank, invalid, landline...)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _SMS_CAPABLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email_address(raw: object) -> str | None:
    """The normalised e-mail address, or None when blank or not a valid address (no DNS)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None

"""Recipients shown to staff without their full address. Pure.

`mask_recipient("+4915112345678")` -> "+49 151 ***78"; `mask_recipient("ada@example.com")`
-> "a***@example.com". Enough to tell two recipients apart and to recognise one's own
test number, not enough to read a customer's number or mailbox off the screen. The
outbox keeps the real address; only what is displayed is masked.
"""

from __future__ import annotations

import phonenumbers

HIDDEN = "***"
KEEP_LAST = 2  # trailing digits of a phone number left visible
KEEP_PREFIX = 3  # leading digits of the national number left visible


def mask_recipient(recipient: str | None) -> str:
    """An e-mail address or phone number with its middle hidden; "" for None or ""."""
    value = (recipient or "").strip()
    if not value:
        return ""
    if "@" in value:
        return mask_email(value)
    return mask_phone(value)


def mask_email(address: str) -> str:
    """An address with only its first character before the "@" shown:
    "ada@example.com" -> "a***@example.com" (the domain stays: it names no one)."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{HIDDEN}@{domain}" if local else f"{HIDDEN}@{domain}"


def mask_phone(number: str) -> str:
    """A phone number as "+49 151 ***78" (from "+4915112345678"): country code, the first
    digits of the national number (the network or area) and the last two. A number that
    does not parse as E.164 keeps only its last two digits; a short one (under 6 digits)
    shows none."""
    digits = "".join(ch for ch in number if ch.isdigit())
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not parsed.country_code:
        return HIDDEN + (digits[-KEEP_LAST:] if len(digits) >= 6 else "")
    national = str(parsed.national_number)
    if len(national) < KEEP_PREFIX + KEEP_LAST + 1:
        return f"+{parsed.country_code} {HIDDEN}"
    return f"+{parsed.country_code} {national[:KEEP_PREFIX]} {HIDDEN}{national[-KEEP_LAST:]}"

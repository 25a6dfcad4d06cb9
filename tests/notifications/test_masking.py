"""Recipients as staff see them in the outbox: enough to tell apart, not to read off."""

from __future__ import annotations

import pytest

from notifications.masking import mask_recipient


@pytest.mark.parametrize(
    ("recipient", "shown"),
    [
        ("+4915112345667", "+49 151 ***67"),
        ("+14155550123", "+1 415 ***23"),
        ("+49 30 1234567", "+49 301 ***67"),
        ("ada@example.com", "a***@example.com"),
        ("first.last+tag@mail.example.org", "f***@mail.example.org"),
        ("@example.com", "***@example.com"),
        ("0151 12345678", "***78"),  # national, not E.164: only the last two digits
        ("+4912", "+49 ***"),
        ("12", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_recipient(recipient: str | None, shown: str) -> None:
    assert mask_recipient(recipient) == shown


def test_the_middle_of_a_number_never_shows() -> None:
    masked = mask_recipient("+4915112345667")
    assert "123456" not in masked.replace(" ", "") and "***" in masked

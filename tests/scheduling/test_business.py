"""Business settings validation and local-day boundaries (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from scheduling.business import (
    BookingPolicySettings,
    BusinessSettings,
    first_error,
    validate_slug,
)
from scheduling.timezones import local_day_bounds, local_today

VALID = {"name": "Salon", "timezone": "Europe/Berlin", "country": "de", "currency": "eur"}


def test_valid_settings_are_normalised() -> None:
    settings = BusinessSettings(**{**VALID, "name": "  Salon Mitte  "})
    assert (settings.name, settings.country, settings.currency) == ("Salon Mitte", "DE", "EUR")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "not an IANA time zone"),
        ("timezone", "", "not an IANA time zone"),
        ("country", "XX", "not a supported ISO 3166 country"),
        ("currency", "ABC", "not an ISO 4217 currency"),
        ("name", "   ", "at least 1 character"),
    ],
)
def test_invalid_settings_are_refused_with_a_message(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BusinessSettings(**{**VALID, field: value})
    text = first_error(caught.value)
    assert text.startswith(f"{field}: ") and message in text


@pytest.mark.parametrize("slug", ["Bad Slug", "-start", "end-", "", "x" * 81, "ümlaut"])
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(ValueError, match="slug"):
        validate_slug(slug)


def test_slug_is_lowercased() -> None:
    assert validate_slug(" Studio-North ") == "studio-north"


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),  # spring forward
        ("Europe/Berlin", date(2026, 10, 25), 25),  # fall back
        ("Australia/Sydney", date(2026, 10, 4), 23),  # southern spring forward
        ("Australia/Sydney", date(2026, 4, 5), 25),  # southern fall back
        ("Europe/Berlin", date(2026, 6, 1), 24),
    ],
)
def test_local_days_follow_dst(tz: str, day: date, hours: int) -> None:
    start, end = local_day_bounds(day, tz)
    assert start.tzinfo is UTC and end - start == timedelta(hours=hours)


def test_local_today_uses_the_business_zone() -> None:
    late_utc = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert local_today("Europe/Berlin", now=late_utc) == date(2026, 11, 26)
    assert local_today("America/New_York", now=late_utc) == date(2026, 11, 25)


def test_booking_policy_defaults_and_limits() -> None:
    policy = BookingPolicySettings()
    assert (policy.min_notice_minutes, policy.max_days_ahead, policy.slot_step_minutes) == (
        60,
        90,
        15,
    )
    assert BookingPolicySettings(slot_step_minutes=120).slot_step_minutes == 120
    for bad in ({"slot_step_minutes": 25}, {"max_days_ahead": 0}, {"min_notice_minutes": -1}):
        with pytest.raises(ValidationError):
            BookingPolicySettings(**bad)

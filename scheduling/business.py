"""Validation of a business's settings. Pure: pydantic models, no I/O."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator

# ISO 4217 active currency codes.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")


@cache
def supported_countries() -> frozenset[str]:
    """Two-letter codes the holidays package knows (and so forecasting can use)."""
    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def validate_timezone(name: str) -> str:
    name = name.strip()
    if not name or name not in available_timezones():
        raise ValueError(f"'{name}' is not an IANA time zone (for example Europe/Berlin)")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:
        raise ValueError(f"'{name}' is not an IANA time zone") from exc
    return name


class BusinessSettings(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=1, max_length=200)
    timezone: str
    country: str
    currency: str

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if value not in supported_countries():
            raise ValueError(f"'{value}' is not a supported ISO 3166 country code (e.g. DE, US)")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if value not in CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code (e.g. EUR, USD)")
        return value


class BookingPolicySettings(BaseModel):
    """How far ahead and how close to the start bookings may be made, and the slot grid."""

    model_config = ConfigDict(frozen=True)

    min_notice_minutes: int = Field(60, ge=0, le=7 * 24 * 60)
    max_days_ahead: int = Field(90, ge=1, le=730)
    slot_step_minutes: int = Field(15, ge=5, le=120)

    @field_validator("slot_step_minutes")
    @classmethod
    def _divides_an_hour_or_day(cls, value: int) -> int:
        if 60 % value and value % 60:
            raise ValueError(
                "the slot step must divide an hour (5, 10, 15, 20, 30) or be whole hours"
            )
        return value


def validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ValueError("a slug is 1-80 lowercase letters, digits and inner hyphens")
    return slug


def first_error(exc: Exception) -> str:
    """A one-line, user-facing message from a pydantic ValidationError or ValueError."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        return f"{field}: {message}" if field else message
    return str(exc)

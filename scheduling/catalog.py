"""The team and the catalogue: validation of staff, services, working hours and time off.

Pure: pydantic models and plain functions, no I/O. Errors are ValueErrors (or pydantic
ValidationErrors) with user-facing messages; `scheduling.business.first_error` makes
them one line.

Time off is entered as local wall-clock time and stored as UTC instants (`to_utc`):
- a time that does not exist (the spring-forward gap) is shifted forward to the first
  wall-clock time after the gap, i.e. the instant the clocks change (02:30 on the night
  Berlin jumps from 02:00 to 03:00 becomes 03:00 CEST): "from 00:00" on a day whose
  midnight is skipped still means "from the start of that day";
- a time that occurs twice (the autumn fall-back) is the first occurrence (fold=0,
  still on summer time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Self
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_COLOR = "#4C78A8"
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "AUD": "A$", "CAD": "C$", "CHF": "CHF "}


# --- contact details -----------------------------------------------------------------


def normalise_phone(raw: str | None, region: str | None) -> str | None:
    """E.164 (+4930123456), or None for a blank entry. `region` is the business country."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        hint = "" if region else " (start with + and the country code)"
        raise ValueError(f"'{raw}' is not a phone number{hint}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{raw}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
    """The normalised address, or None for a blank entry. Deliverability is not checked."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"'{raw}' is not a valid e-mail address: {exc}") from exc


# --- staff and services --------------------------------------------------------------


class ContactInput(BaseModel):
    """An e-mail and a phone, validated. Build subclasses with `from_form(region=...)`, so a
    phone number without +country is read in the business's country."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    email: str | None = None
    phone: str | None = None

    @classmethod
    def from_form(cls, *, region: str | None, **fields: Any) -> Self:
        return cls.model_validate(fields, context={"region": region})

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        return normalise_phone(value, (info.context or {}).get("region"))


class StaffInput(ContactInput):
    """A bookable staff member."""

    display_name: str = Field(min_length=1, max_length=120)
    color: str = DEFAULT_COLOR
    is_active: bool = True
    service_ids: list[int] = Field(default_factory=list)

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not HEX_COLOR.match(value):
            raise ValueError(f"'{value}' is not a colour like #4C78A8")
        return value.upper()

    @field_validator("service_ids")
    @classmethod
    def _service_ids(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


class ServiceInput(BaseModel):
    """A bookable service. `price` is in major units (12.50); it is stored as `price_cents`."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=1, max_length=120)
    category: str = Field("General", min_length=1, max_length=60)
    duration_min: int = Field(ge=5, le=600, multiple_of=5)
    buffer_min: int = Field(0, ge=0, le=120)
    price: Decimal = Field(ge=0, le=100_000, decimal_places=2)
    is_active: bool = True

    @property
    def price_cents(self) -> int:
        return int(self.price * 100)


def format_money(cents: int, currency: str) -> str:
    """12.50 € style is locale work; this is the plain, unambiguous "€12.50" / "12.50 SEK"."""
    amount = f"{Decimal(cents) / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def build_staff_table(
    staff_rows: Iterable[Mapping[str, Any]], service_names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Display rows for the team table."""
    return [
        {
            "Name": row["display_name"],
            "E-mail": row["email"],
            "Phone": row["phone"],
            "Services": ", ".join(service_names[i] for i in row["service_ids"]),
            "Active": row["is_active"],
        }
        for row in staff_rows
    ]


def build_service_table(
    service_rows: Iterable[Mapping[str, Any]], currency: str
) -> list[dict[str, Any]]:
    """Display rows for the catalogue table, prices in the business currency."""
    return [
        {
            "Service": row["name"],
            "Category": row["category"],
            "Duration (min)": row["duration_min"],
            "Buffer (min)": row["buffer_min"],
            "Price": format_money(row["price_cents"], currency),
            "Active": row["is_active"],
        }
        for row in service_rows
    ]


# --- working hours -------------------------------------------------------------------


class Shift(BaseModel):
    """One stretch of work on a weekday (0 = Monday), in local wall-clock time."""

    model_config = ConfigDict(frozen=True)

    weekday: int = Field(ge=0, le=6)
    start: time
    end: time

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"{WEEKDAYS[self.weekday]}: {self.label} must end after it starts")
        return self

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday][:3]} {self.label}"


def validate_week(shifts: Iterable[Shift | Mapping[str, Any]]) -> list[Shift]:
    """Sorted shifts; refuses overlaps on one weekday (split shifts that only touch are fine)."""
    week = sorted(
        (s if isinstance(s, Shift) else Shift.model_validate(s) for s in shifts),
        key=lambda s: (s.weekday, s.start),
    )
    for earlier, later in zip(week, week[1:], strict=False):
        if earlier.weekday == later.weekday and later.start < earlier.end:
            raise ValueError(
                f"{WEEKDAYS[later.weekday]}: {earlier.label} and {later.label} overlap"
            )
    return week


def build_week(rows: Iterable[Mapping[str, Any]]) -> list[Shift]:
    """Shifts from editor rows {"weekday": "Monday", "start": time, "end": time}.

    Blank rows are skipped; half-filled rows are refused with their row number.
    """
    shifts = []
    for number, row in enumerate(rows, start=1):
        values = [_blank_to_none(row.get(key)) for key in ("weekday", "start", "end")]
        if all(value is None for value in values):
            continue
        day, start, end = values[0], _as_time(values[1]), _as_time(values[2])
        if day not in WEEKDAYS or start is None or end is None:
            raise ValueError(f"row {number}: pick a weekday, a start and an end time")
        shifts.append(Shift(weekday=WEEKDAYS.index(day), start=start, end=end))
    return validate_week(shifts)


def week_rows(shifts: Iterable[Shift]) -> list[dict[str, Any]]:
    """The editor rows for a week (the inverse of `build_week`)."""
    return [{"weekday": WEEKDAYS[s.weekday], "start": s.start, "end": s.end} for s in shifts]


def _blank_to_none(value: Any) -> Any:
    if type(value).__name__ in {"NaTType", "NAType"}:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    return value


def _as_time(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        pass
    try:  # some editors send a full timestamp
        return datetime.fromisoformat(str(value)).time()
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a time like 09:30") from exc


# --- time off and local time ---------------------------------------------------------


def to_utc(local: datetime, tz_name: str) -> datetime:
    """The UTC instant of a naive local wall-clock time in `tz_name` (see module docstring)."""
    if local.tzinfo is not None:
        raise ValueError("expected a local wall-clock time without a time zone")
    zone = ZoneInfo(tz_name)
    instant = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    return _end_of_gap(local, zone)


def _end_of_gap(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over the nonexistent `local` (integer-second search)."""
    # In a gap, fold=1 reads the time with the later offset (an instant before the
    # jump) and fold=0 with the earlier one (an instant after it).
    low = math.floor(local.replace(tzinfo=zone, fold=1).timestamp())
    high = math.ceil(local.replace(tzinfo=zone, fold=0).timestamp())
    after = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def to_local(instant: datetime, tz_name: str) -> datetime:
    """The naive local wall-clock time of a tz-aware instant."""
    return instant.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def format_local(instant: datetime, tz_name: str) -> str:
    return f"{to_local(instant, tz_name):%a %Y-%m-%d %H:%M}"


def describe_time_off(row: Mapping[str, Any], tz_name: str) -> str:
    """'Anna: Mon 2026-05-04 00:00 - Tue 2026-05-05 00:00 (course)', in local time."""
    who = row.get("staff_name") or "Whole business"
    span = f"{format_local(row['starts_at'], tz_name)} - {format_local(row['ends_at'], tz_name)}"
    return f"{who}: {span}" + (f" ({row['reason']})" if row.get("reason") else "")


class TimeOffInput(BaseModel):
    """Time off for one staff member, or for the whole business (staff_id None)."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    staff_id: int | None = None
    start_local: datetime
    end_local: datetime
    reason: str = Field("", max_length=200)

    @field_validator("start_local", "end_local")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("enter a local wall-clock time, without a time zone")
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end_local <= self.start_local:
            raise ValueError("the time off must end after it starts")
        return self

    def utc_range(self, tz_name: str) -> tuple[datetime, datetime]:
        """(starts_at, ends_at) in UTC; refuses a range that falls wholly in a DST gap."""
        start, end = to_utc(self.start_local, tz_name), to_utc(self.end_local, tz_name)
        if end - start < timedelta(seconds=1):
            raise ValueError(
                f"{self.start_local:%H:%M}-{self.end_local:%H:%M} does not exist in {tz_name} "
                "(the clocks go forward then); the time off must end after it starts"
            )
        return start, end

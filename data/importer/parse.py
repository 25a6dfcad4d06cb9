"""One CSV row + the mapping -> a validated record, or the row's errors. Pure.

Local times are wall-clock times in the business's time zone and become UTC instants
(`scheduling.catalog.to_utc`). Text is kept as written: a note such as `=cmd|' /C calc'!A0`
is data, stored verbatim and never evaluated (exports neutralise it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import TypeVar

from data.importer.mapping import Columns, ImportMapping
from data.importer.report import RowError
from data.importer.values import (
    TIME_FORMATS,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_price,
    parse_status,
    parse_time,
    split_name,
    split_tags,
)
from scheduling.catalog import normalise_email, normalise_phone, to_utc

T = TypeVar("T")
MAX_LENGTHS = {"customer_id": 64, "id": 64, "first_name": 100, "last_name": 100}
MAX_LENGTHS |= {"customer_name": 201, "staff": 120, "service": 120}

# A file names the same customers, days and times over and over: remember recent answers.
_phone = lru_cache(maxsize=16_384)(normalise_phone)
_email = lru_cache(maxsize=16_384)(normalise_email)
_to_utc = lru_cache(maxsize=16_384)(to_utc)


@lru_cache(maxsize=16)
def _mapped(columns: Columns) -> dict[str, str]:
    return columns.mapped()


@dataclass(frozen=True)
class ParseContext:
    timezone: str  # the business's IANA zone
    region: str | None  # the business's country, for local phone numbers
    now: datetime  # UTC; "auto" status: completed before it, booked after


def make_key(*parts: str) -> str:
    """A natural key: sha256 of the normalised identifying parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    """A customer as a row names them."""

    external_id: str | None
    first_name: str
    last_name: str
    phone: str | None
    email: str | None

    @property
    def has_name(self) -> bool:
        return bool(self.first_name or self.last_name)

    @property
    def is_blank(self) -> bool:
        """Nothing names a customer: the appointment is a walk-in."""
        return not (self.external_id or self.phone or self.email or self.has_name)

    @cached_property
    def reference(self) -> str:
        """How rows point at one customer: source id, else phone, else e-mail, else name."""
        if self.external_id:
            return f"id:{self.external_id}"
        if self.phone:
            return f"phone:{self.phone}"
        if self.email:
            return f"email:{self.email.casefold()}"
        return f"name:{self.first_name.casefold()} {self.last_name.casefold()}"

    @cached_property
    def import_key(self) -> str:
        if self.external_id:
            return make_key("customer", "id", self.external_id)
        email = (self.email or "").casefold()
        first, last = self.first_name.casefold(), self.last_name.casefold()
        return make_key("customer", "person", first, last, self.phone or "", email)


@dataclass(frozen=True)
class CustomerRecord:
    row: int
    person: Person
    notes: str
    tags: tuple[str, ...]
    sms_opt_in: bool
    email_opt_in: bool


@dataclass(frozen=True)
class AppointmentRecord:
    row: int
    import_key: str
    external_id: str | None
    staff: str
    service: str
    customer: Person | None  # None: a walk-in without a customer record
    starts_at: datetime  # UTC; for date-only rows the day's default start time
    local_day: date | None  # date-only rows: placed on this day one after another
    duration: timedelta | None  # None: the service's duration
    status: str
    price_cents: int | None  # None: the service's price
    booked_at: datetime | None
    notes: str


class _Row:
    """One row's cells by field, collecting errors against the mapped column names."""

    def __init__(self, row: int, values: Mapping[str, str], mapping: ImportMapping) -> None:
        self.row, self.mapping = row, mapping
        self.clean = {field: value.strip() for field, value in values.items()}
        self.columns = _mapped(mapping.columns)
        self.errors: list[RowError] = []

    def text(self, field: str) -> str:
        value = self.clean.get(field, "")
        limit = MAX_LENGTHS.get(field)
        if limit and len(value) > limit:
            self.fail(field, f"is {len(value)} characters long; at most {limit} fit")
            return value[:limit]
        return value

    def fail(self, field: str, reason: str) -> None:
        column = self.columns.get(field) or f"(default {field})"
        self.errors.append(RowError(self.row, column, reason))

    def read(self, field: str, reader: Callable[[str], T]) -> T | None:
        raw = self.text(field)
        if not raw:
            return None
        try:
            return reader(raw)
        except ValueError as exc:
            self.fail(field, str(exc))
            return None


def row_values(cells: Sequence[str], indices: Mapping[str, int]) -> dict[str, str]:
    """{field: cell} for the mapped fields; cells missing at the end of a row are blank."""
    return {field: cells[i] if i < len(cells) else "" for field, i in indices.items()}


def _read_phone(raw: str, region: str | None) -> str | None:
    try:
        return _phone(raw, region)
    except ValueError as exc:
        if region and not raw.startswith(("+", "00")):
            hint = f"numbers without a country code are read as {region} numbers; add one, e.g. +44"
            raise ValueError(f"{exc} ({hint})") from None
        raise


def parse_person(cells: _Row, ctx: ParseContext) -> Person:
    if cells.text("customer_name"):
        first, last = split_name(cells.text("customer_name"))
    else:
        first, last = cells.text("first_name"), cells.text("last_name")
    for field, value in (("first_name", first), ("last_name", last)):
        if len(value) > MAX_LENGTHS[field]:
            cells.fail("customer_name", f"the {field.replace('_', ' ')} is too long")
    return Person(
        external_id=cells.text("customer_id") or None,
        first_name=first,
        last_name=last,
        phone=cells.read("phone", lambda raw: _read_phone(raw, ctx.region)),
        email=cells.read("email", _email),
    )


def parse_customer(
    row: int, values: Mapping[str, str], mapping: ImportMapping, ctx: ParseContext
) -> CustomerRecord | list[RowError]:
    cells = _Row(row, values, mapping)
    person = parse_person(cells, ctx)
    if not person.first_name:
        name_field = "customer_name" if "customer_name" in cells.columns else "first_name"
        cells.fail(name_field, "the customer has no name")
    record = CustomerRecord(
        row=row,
        person=person,
        notes=values.get("notes", ""),
        tags=tuple(cells.read("tags", split_tags) or ()),
        sms_opt_in=bool(cells.read("sms_opt_in", parse_bool)),
        email_opt_in=bool(cells.read("email_opt_in", parse_bool)),
    )
    return cells.errors or record


def parse_appointment(
    row: int, values: Mapping[str, str], mapping: ImportMapping, ctx: ParseContext
) -> AppointmentRecord | list[RowError]:
    cells = _Row(row, values, mapping)
    staff = cells.text("staff") or mapping.defaults.staff or ""
    service = cells.text("service") or mapping.defaults.service or ""
    for field, value in (("staff", staff), ("service", service)):
        if not value:
            cells.fail(field, f"no {field}: the cell is blank and there is no defaults.{field}")
    start_local, local_day = _start(cells)
    person = parse_person(cells, ctx)
    status = cells.read("status", lambda raw: parse_status(raw, mapping.status_map))
    price = cells.read("price", lambda raw: parse_price(raw, mapping.formats.decimal_separator))
    booked_at = cells.read("booked_at", lambda raw: _booked_at(raw, mapping, ctx))
    if start_local is None:
        return cells.errors
    starts_at = _to_utc(start_local, ctx.timezone)
    duration = _duration(cells, start_local, starts_at, ctx)
    if cells.errors:
        return cells.errors
    status = status or mapping.defaults.status
    if status == "auto":  # what a past row without a status usually means
        status = "completed" if starts_at < ctx.now else "booked"
    customer = None if person.is_blank else person
    external_id = cells.text("id") or None
    when = local_day.isoformat() if local_day else start_local.isoformat()
    reference = customer.reference if customer else ""
    return AppointmentRecord(
        row=row,
        import_key=make_key("appointment", "id", external_id)
        if external_id
        else make_key("appointment", "row", when, staff.casefold(), service.casefold(), reference),
        external_id=external_id,
        staff=staff,
        service=service,
        customer=customer,
        starts_at=starts_at,
        local_day=local_day,
        duration=duration,
        status=status,
        price_cents=price,
        booked_at=booked_at,
        notes=values.get("notes", ""),
    )


def _start(cells: _Row) -> tuple[datetime | None, date | None]:
    """The local start, and the day for date-only rows (which are placed later)."""
    mapping = cells.mapping
    if not cells.text("date"):
        cells.fail("date", "no date")
        return None, None
    day = cells.read("date", lambda raw: parse_date(raw, mapping.formats.date))
    if day is None:
        return None, None
    if mapping.columns.time:
        if cells.text("time"):
            at = cells.read("time", lambda raw: parse_time(raw, mapping.formats.time))
        elif (at := mapping.defaults.start_time) is None:
            cells.fail("time", "no start time, and there is no defaults.start_time")
        return (None if at is None else datetime.combine(day.date(), at)), None
    if mapping.formats.date_has_time:
        return day, None
    assert mapping.defaults.start_time is not None  # checked by problems_for
    return datetime.combine(day.date(), mapping.defaults.start_time), day.date()


def _duration(
    cells: _Row, start_local: datetime, starts_at: datetime, ctx: ParseContext
) -> timedelta | None:
    if cells.text("duration"):
        return cells.read("duration", parse_duration)
    end_local = cells.read("end", lambda raw: _end(raw, start_local, cells.mapping))
    if end_local is None:
        return None
    duration = _to_utc(end_local, ctx.timezone) - starts_at
    if duration <= timedelta(0):
        cells.fail("end", f"ends at {end_local:%H:%M}, before it starts ({start_local:%H:%M})")
        return None
    return duration


def _end(raw: str, start_local: datetime, mapping: ImportMapping) -> datetime:
    formats = mapping.formats
    if formats.end and not any(d in formats.end for d in ("%d", "%m", "%y", "%Y", "%b")):
        return datetime.combine(start_local.date(), parse_time(raw, formats.end))
    if formats.end:
        return parse_datetime(raw, formats.end)
    try:
        return datetime.combine(start_local.date(), parse_time(raw, formats.time))
    except ValueError:
        return parse_datetime(raw, formats.date)


def _booked_at(raw: str, mapping: ImportMapping, ctx: ParseContext) -> datetime:
    fmt = mapping.formats
    candidates = [fmt.booked_at] if fmt.booked_at else []
    if not fmt.booked_at and not fmt.date_has_time:
        candidates += [f"{fmt.date} {t}" for t in ((fmt.time,) if fmt.time else TIME_FORMATS)]
    if not fmt.booked_at:
        candidates.append(fmt.date)
    for candidate in candidates:
        try:
            return to_utc(parse_datetime(raw, candidate), ctx.timezone)
        except ValueError:
            continue
    if not fmt.booked_at:
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            return stamp.astimezone(UTC) if stamp.tzinfo else to_utc(stamp, ctx.timezone)
    expected = fmt.booked_at or f"{fmt.date} plus a time, or ISO 8601"
    raise ValueError(f"'{raw}' is not a date and time in the format {expected}")

"""The column mapping: how one export's columns become Slotboard's fields.

A mapping is a JSON or TOML file (or a dict built by the Import page):

    kind = "appointments"              # optional; checked against the import
    [csv]       delimiter = "auto"     # or ",", ";", "tab", "|"; encoding = "utf-8-sig"
    [columns]   date = "Date"          # field = header of the column that holds it
    [defaults]  staff = "Unassigned"   # constants for columns the export lacks
    [formats]   date = "%m/%d/%Y"      # strptime formats
    [status_map] Yes = "no_show"       # source value -> Slotboard status (or "auto")
    [create_missing] staff = true      # create unknown staff, services, customers

`problems_for(kind)` lists what is missing or contradictory for one kind of import.
"""

from __future__ import annotations

import codecs
import json
import tomllib
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from data.importer.report import MappingError
from scheduling.business import first_error

Kind = Literal["appointments", "customers"]
STATUSES = ("booked", "confirmed", "completed", "cancelled", "no_show")
TIME_DIRECTIVES = ("%H", "%I", "%M", "%p", "%X", "%c")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CsvOptions(BaseModel):
    model_config = _STRICT

    delimiter: str = "auto"
    encoding: str = "utf-8-sig"
    quotechar: str = '"'

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        value = DELIMITER_NAMES.get(value.lower(), value) if value else "\t"
        if value != "auto" and len(value) != 1:
            raise ValueError("use one character, 'tab' or 'auto'")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"'{value}' is not a known text encoding") from None
        return value

    @field_validator("quotechar")
    @classmethod
    def _quotechar(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("use one character")
        return value


class Columns(BaseModel):
    """Which header holds each field. Unmapped fields are None."""

    model_config = _STRICT

    id: str | None = None  # the source system's appointment id
    customer_id: str | None = None  # the source system's customer id
    customer_name: str | None = None  # full name, "First Last" or "Last, First"
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    tags: str | None = None
    sms_opt_in: str | None = None
    email_opt_in: str | None = None
    staff: str | None = None
    service: str | None = None
    date: str | None = None
    time: str | None = None
    duration: str | None = None
    end: str | None = None
    status: str | None = None
    booked_at: str | None = None
    price: str | None = None

    def mapped(self) -> dict[str, str]:
        """{field: header} for the mapped fields."""
        return {name: column for name, column in self.model_dump().items() if column}


class Defaults(BaseModel):
    model_config = _STRICT

    staff: str | None = Field(default=None, max_length=120)
    service: str | None = Field(default=None, max_length=120)
    duration_min: int | None = Field(default=None, ge=5, le=600, multiple_of=5)
    price: Decimal | None = Field(default=None, ge=0, le=100_000, decimal_places=2)
    start_time: time | None = None
    status: str = "auto"  # "auto": completed if it started before the import, else booked


class Formats(BaseModel):
    model_config = _STRICT

    date: str = "%Y-%m-%d"
    time: str | None = None  # None: 24-hour or 12-hour, detected per value
    end: str | None = None  # None: a time like the start time (or the date format)
    booked_at: str | None = None  # None: date format plus a time, or ISO 8601
    decimal_separator: Literal["auto", ".", ","] = "auto"

    @field_validator("date", "time", "end", "booked_at")
    @classmethod
    def _strptime_format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"'{value}' is not a strptime format like %d.%m.%Y")
        return value

    @property
    def date_has_time(self) -> bool:
        return any(directive in self.date for directive in TIME_DIRECTIVES)


class CreateMissing(BaseModel):
    model_config = _STRICT

    staff: bool = False
    services: bool = False
    customers: bool = False


class ImportMapping(BaseModel):
    model_config = _STRICT

    kind: Kind | None = None
    csv: CsvOptions = CsvOptions()
    columns: Columns = Columns()
    defaults: Defaults = Defaults()
    formats: Formats = Formats()
    status_map: dict[str, str] = Field(default_factory=dict)
    create_missing: CreateMissing = CreateMissing()

    @field_validator("status_map")
    @classmethod
    def _status_map(cls, value: dict[str, str]) -> dict[str, str]:
        for source, status in value.items():
            if status != "auto" and status not in STATUSES:
                allowed = ", ".join(("auto", *STATUSES))
                raise ValueError(f"'{source}' maps to '{status}'; use one of {allowed}")
        return value

    def problems_for(self, kind: Kind) -> list[str]:
        """Everything that keeps this mapping from importing `kind`; empty when fine."""
        if self.kind is not None and self.kind != kind:
            return [f"this mapping imports {self.kind}, not {kind}"]
        mapped = self.columns.mapped()
        wrong = sorted(set(mapped) - set(FIELDS[kind]))
        problems = [f"columns.{name} does not apply to a {kind} import" for name in wrong]
        if kind == "customers":
            if not ({"customer_name", "first_name"} & set(mapped)):
                problems.append("map columns.customer_name (full name) or columns.first_name")
            return problems
        return problems + self._appointment_problems(mapped)

    def _appointment_problems(self, mapped: dict[str, str]) -> list[str]:
        problems = []
        if "date" not in mapped:
            problems.append("map columns.date (the appointment's date)")
        for name, example in (("staff", "Unassigned"), ("service", "Visit")):
            if name not in mapped and not getattr(self.defaults, name):
                problems.append(f"map columns.{name} or give defaults.{name} (e.g. '{example}')")
        if self.is_date_only and self.defaults.start_time is None:
            problems.append("a date-only export needs defaults.start_time (e.g. '09:00')")
        if self.defaults.status != "auto" and self.defaults.status not in STATUSES:
            problems.append(f"defaults.status must be 'auto' or one of {', '.join(STATUSES)}")
        if "first_name" in mapped and "customer_name" in mapped:
            problems.append("map either columns.customer_name or columns.first_name, not both")
        return problems

    @property
    def is_date_only(self) -> bool:
        """No time of day anywhere: rows start at defaults.start_time, one after another."""
        return not self.columns.time and not self.formats.date_has_time


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    help: str = ""


_CUSTOMER_FIELDS = (
    FieldSpec("customer_id", "Customer id", "The source system's id; kept as external id."),
    FieldSpec("customer_name", "Customer name (full)", "'First Last' or 'Last, First'."),
    FieldSpec("first_name", "First name"),
    FieldSpec("last_name", "Last name"),
    FieldSpec("phone", "Phone", "Local numbers are read in the business's country."),
    FieldSpec("email", "E-mail"),
)
#: The fields of each kind of import, in the order the Import page shows them.
FIELD_SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "appointments": (
        FieldSpec("id", "Appointment id", "The source system's id; kept as external id."),
        FieldSpec("date", "Date", "Required. May hold the time too (see the date format)."),
        FieldSpec("time", "Start time", "12-hour (2:30 PM) or 24-hour (14:30)."),
        FieldSpec("duration", "Duration", "Minutes (45), h:mm (1:15) or '1h 15m'."),
        FieldSpec("end", "End time"),
        FieldSpec("staff", "Staff member"),
        FieldSpec("service", "Service"),
        FieldSpec("status", "Status", "Translated with the status map."),
        FieldSpec("price", "Price", "Decimal comma or dot; currency signs are ignored."),
        FieldSpec("booked_at", "Booked at", "When the booking was made (lead times)."),
        *_CUSTOMER_FIELDS,
        FieldSpec("notes", "Notes"),
    ),
    "customers": (
        *_CUSTOMER_FIELDS,
        FieldSpec("notes", "Notes"),
        FieldSpec("tags", "Tags", "Separated by commas or semicolons."),
        FieldSpec("sms_opt_in", "SMS opt-in", "yes/no, true/false, 1/0."),
        FieldSpec("email_opt_in", "E-mail opt-in", "yes/no, true/false, 1/0."),
    ),
}
FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(spec.name for spec in specs) for kind, specs in FIELD_SPECS.items()
}


#: Header names that usually hold a field (compared ignoring case), for the Import page.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("appointment id", "booking id", "appointment", "id"),
    "customer_id": ("customer id", "client id", "customer number", "client number"),
    "customer_name": ("customer", "client", "customer name", "client name", "name", "full name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "phone": ("phone", "mobile", "cell", "telephone", "phone number", "mobile phone"),
    "email": ("email", "e-mail", "email address", "e-mail address"),
    "notes": ("notes", "note", "comments", "comment"),
    "tags": ("tags", "labels"),
    "sms_opt_in": ("sms opt-in", "sms ok", "text ok", "sms consent"),
    "email_opt_in": ("email opt-in", "email ok", "e-mail ok", "email consent"),
    "staff": ("staff", "provider", "stylist", "employee", "staff member", "resource"),
    "service": ("service", "treatment", "service name"),
    "date": ("date", "appointment date", "start date"),
    "time": ("time", "start time", "start"),
    "duration": ("duration", "duration (min)", "length", "minutes"),
    "end": ("end", "end time"),
    "status": ("status", "no-show", "no show", "noshow"),
    "booked_at": ("booked at", "booked on", "created", "created at", "booking date"),
    "price": ("price", "amount", "total", "cost"),
}


def suggest_columns(kind: Kind, header: list[str]) -> dict[str, str]:
    """{field: header} guessed from common header names; the user confirms or changes it."""
    by_name = {name.strip().casefold(): name for name in header}
    extra = {"customer_id": ("id",)} if kind == "customers" else {}
    found: dict[str, str] = {}
    for field in FIELDS[kind]:
        for synonym in SYNONYMS.get(field, ()) + extra.get(field, ()):
            if synonym in by_name and by_name[synonym] not in found.values():
                found[field] = by_name[synonym]
                break
    if "first_name" in found:
        found.pop("customer_name", None)
    return found


def parse_mapping(data: dict[str, Any]) -> ImportMapping:
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(f"invalid mapping: {first_error(exc)}") from None


def load_mapping(source: str | Path | bytes) -> ImportMapping:
    """A mapping from a .json or .toml file, or from the file's bytes (JSON tried first)."""
    if isinstance(source, bytes):
        text, suffix = _decode(source), ""
    else:
        path = Path(source)
        try:
            text, suffix = _decode(path.read_bytes()), path.suffix.lower()
        except OSError as exc:
            raise MappingError(f"cannot read the mapping file {path}: {exc.strerror}") from None
    return parse_mapping(_parse_text(text, suffix))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError("the mapping file is not UTF-8 text") from None


def _parse_text(text: str, suffix: str) -> dict[str, Any]:
    if suffix == ".toml" or (suffix != ".json" and not text.lstrip().startswith("{")):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"the mapping is not valid TOML: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"the mapping is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError("the mapping must be a JSON object")
    return data


def parse_status_map(text: str) -> dict[str, str]:
    """'Yes = no_show' lines (the Import page's text box) as a dict."""
    result = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source, sep, status = line.partition("=")
        if not sep or not source.strip():
            raise MappingError(f"status map line {number}: write it as 'Yes = no_show'")
        result[source.strip()] = status.strip()
    return result

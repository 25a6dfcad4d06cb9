"""Availability, booking checks and slot search. Pure: plain dataclasses in and out.

Conventions:
- Every instant is a tz-aware UTC `datetime`; every interval is half-open [start, end).
- Working hours are weekly wall-clock shifts in the business's time zone
  (`scheduling.catalog.Shift`, weekday 0 = Monday). They are expanded day by day in that
  zone, so a 09:00-17:00 shift is 09:00-17:00 local on DST days too (8 hours of work;
  the UTC offsets differ). A shift in a DST gap or overlap follows `scheduling.catalog.to_utc`
  (gap: shifted forward; overlap: first occurrence).
- An appointment occupies [start, start + duration + buffer): the buffer (cleaning,
  preparation) follows the service. Existing appointments come in as `busy` intervals
  already extended by their service's buffer; cancelled ones are never busy.
- Slots start on the policy's step (e.g. every 15 minutes) counted from local midnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from scheduling.catalog import Shift


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BookingPolicy:
    timezone: str
    min_notice: timedelta = timedelta(minutes=60)
    max_days_ahead: int = 90
    slot_step: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class ServiceSpec:
    service_id: int
    duration: timedelta
    buffer: timedelta = timedelta(0)

    @property
    def occupies(self) -> timedelta:
        return self.duration + self.buffer


@dataclass(frozen=True)
class StaffSchedule:
    """Everything about one staff member that decides where a booking may go."""

    staff_id: int
    shifts: tuple[Shift, ...]
    time_off: tuple[Interval, ...] = ()  # UTC; includes whole-business closures
    busy: tuple[Interval, ...] = ()  # UTC; existing non-cancelled appointments + buffer
    service_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    staff_id: int
    end: datetime  # start + duration (the buffer is not part of the customer's slot)


class Problem(StrEnum):
    PAST = "past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    NOT_OFFERED = "not_offered"
    OUTSIDE_HOURS = "outside_hours"
    TIME_OFF = "time_off"
    OVERLAP = "overlap"


@dataclass(frozen=True)
class BookingProblem:
    code: Problem
    message: str  # one clear sentence for the user, e.g. "Anna doesn't work on Sundays."


def compute_working_intervals(
    shifts: Iterable[Shift], *, timezone: str, start: datetime, end: datetime
) -> list[Interval]:
    """The shifts as UTC intervals overlapping [start, end), sorted, merged when touching."""
    raise NotImplementedError


def compute_free_intervals(
    schedule: StaffSchedule, *, timezone: str, start: datetime, end: datetime
) -> list[Interval]:
    """Working intervals minus time off and busy intervals, within [start, end)."""
    raise NotImplementedError


def check_booking(
    schedule: StaffSchedule,
    service: ServiceSpec,
    *,
    policy: BookingPolicy,
    start: datetime,
    now: datetime,
    staff_name: str = "This staff member",
) -> list[BookingProblem]:
    """Every reason this booking can't be made; empty when it can. Each reason once."""
    raise NotImplementedError


def find_free_slots(
    schedules: Sequence[StaffSchedule],
    service: ServiceSpec,
    *,
    policy: BookingPolicy,
    now: datetime,
    after: datetime | None = None,
    limit: int = 10,
) -> list[Slot]:
    """The earliest `limit` bookable slots over the given staff (only those offering the
    service), sorted by start then staff, none before max(after, now + min_notice) or
    beyond now + max_days_ahead. Each returned slot passes `check_booking`."""
    raise NotImplementedError

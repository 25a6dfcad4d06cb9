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

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import islice
from operator import attrgetter
from zoneinfo import ZoneInfo

from scheduling.catalog import WEEKDAYS, Shift, to_utc

ONE_DAY = timedelta(days=1)


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


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined and empty ones dropped."""
    merged: list[Interval] = []
    for interval in _sorted_by_start(intervals):
        _append_merging(merged, interval)
    return merged


def subtract_intervals(base: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """The parts of `base` outside every `removed` interval: sorted, disjoint."""
    blocked = _Blocked(removed)
    return [part for interval in merge_intervals(base) for part in blocked.cut(interval)]


class _Blocked:
    """Intervals to cut out, sorted once and merged lazily, only as far as asked for.

    `cut` must be called with intervals in increasing, non-overlapping order. A slot
    search that stops after a few days never merges the rest of a long calendar.
    """

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self._pending = _sorted_by_start(intervals)
        self._next = 0  # the first pending interval not merged yet
        self._merged: list[Interval] = []
        self._first = 0  # the first merged interval that may still matter

    def cut(self, interval: Interval) -> Iterator[Interval]:
        """The parts of `interval` outside every blocked interval, in order."""
        pending, merged = self._pending, self._merged
        while self._next < len(pending) and pending[self._next].start < interval.end:
            _append_merging(merged, pending[self._next])
            self._next += 1
        while self._first < len(merged) and merged[self._first].end <= interval.start:
            self._first += 1
        cursor, index = interval.start, self._first
        while index < len(merged) and merged[index].start < interval.end:
            if merged[index].start > cursor:
                yield Interval(cursor, merged[index].start)
            cursor = max(cursor, merged[index].end)
            index += 1
        if cursor < interval.end:
            yield Interval(cursor, interval.end)


def compute_working_intervals(
    shifts: Iterable[Shift], *, timezone: str, start: datetime, end: datetime
) -> list[Interval]:
    """The shifts as UTC intervals overlapping [start, end), sorted, merged when touching."""
    start, end = _utc(start, "start"), _utc(end, "end")
    by_weekday = _by_weekday(shifts)
    zone = ZoneInfo(timezone)
    day, last_day = start.astimezone(zone).date(), end.astimezone(zone).date()
    clipped = []
    while day <= last_day:
        for i in _day_intervals(by_weekday[day.weekday()], day, timezone):
            if i.start < end and start < i.end:
                clipped.append(Interval(max(i.start, start), min(i.end, end)))
        day += ONE_DAY
    return merge_intervals(clipped)


def compute_free_intervals(
    schedule: StaffSchedule, *, timezone: str, start: datetime, end: datetime
) -> list[Interval]:
    """Working intervals minus time off and busy intervals, within [start, end)."""
    working = compute_working_intervals(schedule.shifts, timezone=timezone, start=start, end=end)
    free = subtract_intervals(working, schedule.time_off + schedule.busy)
    return [Interval(i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in free]


def check_booking(
    schedule: StaffSchedule,
    service: ServiceSpec,
    *,
    policy: BookingPolicy,
    start: datetime,
    now: datetime,
    staff_name: str = "This staff member",
    service_name: str | None = None,
) -> list[BookingProblem]:
    """Every reason this booking can't be made; empty when it can. Each reason once.

    The booking occupies [start, start + duration + buffer). That must lie inside one
    working interval (a split shift's break is not bookable) and overlap no time off and
    no busy interval (touching edges is fine). Times in the messages are local. The slot
    step is not checked: a booking may start at any minute.
    """
    start, now = _utc(start, "start"), _utc(now, "now")
    _check_service(service)
    zone = ZoneInfo(policy.timezone)
    occupied = Interval(start, start + service.occupies)
    checks = (
        _timing_problem(policy, start, now),
        _too_far_problem(policy, start, now),
        _offer_problem(schedule, service, staff_name, service_name),
        _hours_problem(schedule, service, occupied, zone, staff_name),
        _time_off_problem(schedule, occupied, zone, staff_name),
        _overlap_problem(schedule, occupied, zone, staff_name),
    )
    return [problem for problem in checks if problem is not None]


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
    beyond now + max_days_ahead. Each returned slot passes `check_booking`.

    A slot start is an instant whose local wall-clock time is a whole number of steps
    after local midnight (on a fall-back night both 02:15s qualify; times in a spring-
    forward gap do not exist). Each staff member's free intervals are walked day by day
    and the per-staff streams merged, so the search stops as soon as it has `limit`.
    """
    now = _utc(now, "now")
    _check_service(service)
    if policy.slot_step <= timedelta(0):
        raise ValueError("the slot step must be positive")
    if limit <= 0:
        return []
    earliest = max(now, now + policy.min_notice)
    if after is not None:
        earliest = max(earliest, _utc(after, "after"))
    horizon = now + timedelta(days=policy.max_days_ahead)
    streams = [
        _staff_slots(schedule, service, policy=policy, earliest=earliest, horizon=horizon)
        for schedule in schedules
        if service.service_id in schedule.service_ids
    ]
    return list(islice(heapq.merge(*streams), limit))


# --- slot search ---------------------------------------------------------------------


def _staff_slots(
    schedule: StaffSchedule,
    service: ServiceSpec,
    *,
    policy: BookingPolicy,
    earliest: datetime,
    horizon: datetime,
) -> Iterator[Slot]:
    """One staff member's bookable slots in [earliest, horizon), in order, lazily."""
    blocked = _Blocked(schedule.time_off + schedule.busy)
    by_weekday = _by_weekday(schedule.shifts)
    zone = ZoneInfo(policy.timezone)
    day, last_day = earliest.astimezone(zone).date(), horizon.astimezone(zone).date()
    while day <= last_day:
        for work in _day_intervals(by_weekday[day.weekday()], day, policy.timezone):
            if work.end <= earliest:
                continue
            work = Interval(max(work.start, earliest), work.end)
            for free in blocked.cut(work):
                for start in _grid_starts(free, service.occupies, policy.slot_step, zone):
                    if start >= horizon:
                        return
                    yield Slot(start, schedule.staff_id, start + service.duration)
        day += ONE_DAY


def _grid_starts(
    free: Interval, occupies: timedelta, step: timedelta, zone: ZoneInfo
) -> Iterator[datetime]:
    """Starts on the local step grid with [start, start + occupies) inside `free`."""
    last = free.end - occupies
    if last < free.start:
        return
    local_start, local_end = free.start.astimezone(zone), free.end.astimezone(zone)
    offset = local_start.utcoffset()
    if offset is None or offset != local_end.utcoffset():  # a DST change inside: rare
        yield from _grid_starts_across_change(free.start, last, step, zone)
        return
    wall = local_start.replace(tzinfo=None)
    midnight = datetime.combine(wall.date(), time.min)
    candidate = midnight - ((midnight - wall) // step) * step  # rounded up to the grid
    while True:
        next_midnight = midnight + ONE_DAY
        while candidate < next_midnight:
            start = (candidate - offset).replace(tzinfo=UTC)
            if start > last:
                return
            yield start
            candidate += step
        midnight = candidate = next_midnight


def _grid_starts_across_change(
    first: datetime, last: datetime, step: timedelta, zone: ZoneInfo
) -> Iterator[datetime]:
    """The slow, exact walk: every wall-clock grid time of the days involved, each
    occurrence of it (none in a gap, two in an overlap), kept within [first, last]."""
    found = set()
    day, last_day = first.astimezone(zone).date(), last.astimezone(zone).date()
    while day <= last_day:
        wall = datetime.combine(day, time.min)
        while wall.date() == day:
            for fold in (0, 1):
                instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                exists = instant.astimezone(zone).replace(tzinfo=None) == wall
                if exists and first <= instant <= last:
                    found.add(instant)
            wall += step
        day += ONE_DAY
    yield from sorted(found)


# --- booking checks ------------------------------------------------------------------


def _timing_problem(policy: BookingPolicy, start: datetime, now: datetime) -> BookingProblem | None:
    if start < now:
        return BookingProblem(Problem.PAST, "That time is in the past.")
    if start < now + policy.min_notice:
        notice = _describe_notice(policy.min_notice)
        return BookingProblem(Problem.TOO_SOON, f"Bookings need at least {notice} notice.")
    return None


def _too_far_problem(
    policy: BookingPolicy, start: datetime, now: datetime
) -> BookingProblem | None:
    if start < now + timedelta(days=policy.max_days_ahead):
        return None
    days = _plural(policy.max_days_ahead, "day")
    return BookingProblem(Problem.TOO_FAR, f"Bookings open at most {days} ahead.")


def _offer_problem(
    schedule: StaffSchedule, service: ServiceSpec, staff_name: str, service_name: str | None
) -> BookingProblem | None:
    if service.service_id in schedule.service_ids:
        return None
    what = f"'{service_name}'" if service_name else "this service"
    return BookingProblem(Problem.NOT_OFFERED, f"{staff_name} doesn't offer {what}.")


def _hours_problem(
    schedule: StaffSchedule,
    service: ServiceSpec,
    occupied: Interval,
    zone: ZoneInfo,
    staff_name: str,
) -> BookingProblem | None:
    day = occupied.start.astimezone(zone).date()
    shifts = [shift for shift in schedule.shifts if shift.weekday == day.weekday()]
    working = _day_intervals(shifts, day, zone.key)
    if any(w.start <= occupied.start and occupied.end <= w.end for w in working):
        return None
    weekdays = f"{WEEKDAYS[day.weekday()]}s"
    if not working:
        return BookingProblem(Problem.OUTSIDE_HOURS, f"{staff_name} doesn't work on {weekdays}.")
    hours = _join([_span(w, zone) for w in working])
    at = _hm(occupied.start, zone)
    container = next((w for w in working if w.start <= occupied.start < w.end), None)
    if container is None:
        why = f"{at} is outside those hours"
    else:
        length = _minutes(service.duration)
        if service.buffer:
            length += f" + {_minutes(service.buffer)} buffer"
        why = f"{at} + {length} runs past {_hm(container.end, zone)}"
    return BookingProblem(
        Problem.OUTSIDE_HOURS, f"{staff_name} works {hours} on {weekdays}; {why}."
    )


def _time_off_problem(
    schedule: StaffSchedule, occupied: Interval, zone: ZoneInfo, staff_name: str
) -> BookingProblem | None:
    hits = [i for i in merge_intervals(schedule.time_off) if _overlaps(i, occupied)]
    if not hits:
        return None
    spans = _join([_span(i, zone, day=occupied.start.astimezone(zone).date()) for i in hits])
    message = f"{staff_name} is off at that time (time off {spans})."
    return BookingProblem(Problem.TIME_OFF, message)


def _overlap_problem(
    schedule: StaffSchedule, occupied: Interval, zone: ZoneInfo, staff_name: str
) -> BookingProblem | None:
    hits = sorted({i for i in schedule.busy if i.end > i.start and _overlaps(i, occupied)})
    if not hits:
        return None
    day = occupied.start.astimezone(zone).date()
    noun = "an appointment" if len(hits) == 1 else "appointments"
    spans = _join([_span(i, zone, day=day) for i in hits])
    return BookingProblem(Problem.OVERLAP, f"{staff_name} already has {noun} {spans}.")


# --- small helpers -------------------------------------------------------------------


def _overlaps(a: Interval, b: Interval) -> bool:
    return a.start < b.end and b.start < a.end


def _sorted_by_start(intervals: Iterable[Interval]) -> list[Interval]:
    return sorted((i for i in intervals if i.end > i.start), key=attrgetter("start"))


def _append_merging(merged: list[Interval], interval: Interval) -> None:
    """Append to a merged list sorted by start, joining overlapping or touching."""
    if merged and interval.start <= merged[-1].end:
        if interval.end > merged[-1].end:
            merged[-1] = Interval(merged[-1].start, interval.end)
    else:
        merged.append(interval)


def _by_weekday(shifts: Iterable[Shift]) -> dict[int, list[Shift]]:
    by_weekday: dict[int, list[Shift]] = {weekday: [] for weekday in range(7)}
    for shift in shifts:
        by_weekday[shift.weekday].append(shift)
    return by_weekday


def _day_intervals(shifts: Iterable[Shift], day: date, timezone: str) -> list[Interval]:
    """The day's shifts in UTC, merged (none for a shift wholly inside a DST gap)."""
    intervals = []
    for shift in shifts:
        start = to_utc(datetime.combine(day, shift.start), timezone)
        end = to_utc(datetime.combine(day, shift.end), timezone)
        if end > start:
            intervals.append(Interval(start, end))
    return merge_intervals(intervals)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a tz-aware instant, got {value!r}")
    return value.astimezone(UTC)


def _check_service(service: ServiceSpec) -> None:
    if service.duration <= timedelta(0) or service.buffer < timedelta(0):
        raise ValueError("a service needs a positive duration and a non-negative buffer")


def _hm(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def _span(interval: Interval, zone: ZoneInfo, *, day: date | None = None) -> str:
    """'10:00–10:45', with dates when it doesn't lie within `day` (local)."""
    start, end = interval.start.astimezone(zone), interval.end.astimezone(zone)
    if day is None or (start.date() == day and end.date() == day):
        return f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%a %d %b %H:%M}–{end:%a %d %b %H:%M}"


def _join(texts: Sequence[str]) -> str:
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _minutes(length: timedelta) -> str:
    return f"{int(length.total_seconds() // 60)} min"


def _describe_notice(notice: timedelta) -> str:
    """The notice as "60 minutes'", "3 hours'" or "1 day's"."""
    if notice >= ONE_DAY and notice % ONE_DAY == timedelta(0):
        count, noun = notice // ONE_DAY, "day"
    elif notice >= timedelta(hours=2) and notice % timedelta(hours=1) == timedelta(0):
        count, noun = notice // timedelta(hours=1), "hour"
    else:
        count, noun = int(notice.total_seconds() // 60), "minute"
    return f"{_plural(count, noun)}'" if count != 1 else f"1 {noun}'s"

"""Slot search speed: `find_free_slots(limit=10)` over a dense calendar, pure (no database).

Builds a salon of N staff (default 10) in Europe/Berlin with realistic weekly shifts
(full days, split shifts, late shifts) and a calendar about 70% booked for the next 90
days, then times the search for the next 10 free slots of a 45-minute service with a
15-minute buffer (offered by 8 staff in 10) many times with `time.perf_counter`. Also
times the same search for one staff member, and for all staff when the first 60 days
are fully booked (the search must walk 60 empty days first).
Prints one JSON object: median and p95 in milliseconds, staff and busy-interval counts.
Usage: .venv/bin/python bench/slot_search_bench.py [--staff 10] [--repetitions 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduling.availability import (  # noqa: E402
    BookingPolicy,
    Interval,
    ServiceSpec,
    StaffSchedule,
    compute_working_intervals,
    find_free_slots,
)
from scheduling.catalog import Shift  # noqa: E402

TIMEZONE = "Europe/Berlin"
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # a Monday, 08:00 local; fixed for stable runs
DAYS = 90
SERVICE = ServiceSpec(1, timedelta(minutes=45), buffer=timedelta(minutes=15))
POLICY = BookingPolicy(timezone=TIMEZONE)
QUARTER = timedelta(minutes=15)
PATTERNS = (  # (weekdays, [(start, end), ...]) in local time
    ((1, 2, 3, 4, 5), [("09:00", "18:00")]),
    ((0, 1, 2, 3, 4), [("09:00", "13:00"), ("14:00", "18:00")]),
    ((2, 3, 4, 5), [("11:00", "20:00")]),
    ((0, 2, 4, 5), [("08:00", "12:30"), ("13:30", "17:00")]),
)


def _shifts(pattern: int) -> tuple[Shift, ...]:
    weekdays, spans = PATTERNS[pattern % len(PATTERNS)]
    return tuple(
        Shift(weekday=day, start=clock.fromisoformat(a), end=clock.fromisoformat(b))
        for day in weekdays
        for a, b in spans
    )


def _book(
    working: list[Interval], rng: random.Random, share: float
) -> tuple[list[Interval], timedelta]:
    """Appointments (with buffers) filling about `share` of the working time."""
    busy, booked = [], timedelta(0)
    for interval in working:
        cursor = interval.start
        while cursor < interval.end:
            if rng.random() < share:
                length = rng.choice((2, 3, 4, 5, 6)) * QUARTER + rng.choice((0, 1)) * QUARTER
                end = min(cursor + length, interval.end)
                busy.append(Interval(cursor, end))
                booked += end - cursor
                cursor = end
            else:
                cursor += rng.choice((1, 2, 3)) * QUARTER
    return busy, booked


def build_salon(
    staff: int, rng: random.Random, *, share: float = 0.53, full_days: int = 0
) -> tuple[list[StaffSchedule], float]:
    """The schedules and the booked share of working time."""
    schedules, booked, working_total = [], timedelta(0), timedelta(0)
    end = NOW + timedelta(days=DAYS + 1)
    for staff_id in range(1, staff + 1):
        shifts = _shifts(staff_id)
        working = compute_working_intervals(shifts, timezone=TIMEZONE, start=NOW, end=end)
        full = [i for i in working if i.start < NOW + timedelta(days=full_days)]
        busy, taken = _book([i for i in working if i not in full], rng, share)
        busy += full
        schedules.append(
            StaffSchedule(
                staff_id=staff_id,
                shifts=shifts,
                busy=tuple(sorted(busy)),
                service_ids=frozenset({1} if staff_id % 5 else {2}),  # 8 in 10 offer it
            )
        )
        booked += taken + sum((i.end - i.start for i in full), timedelta(0))
        working_total += sum((i.end - i.start for i in working), timedelta(0))
    return schedules, booked / working_total


def _time(call: Callable[[], object], repetitions: int) -> tuple[float, float]:
    call()  # warm-up (zoneinfo caches)
    runs = []
    for _ in range(repetitions):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return statistics.median(runs), runs[int(0.95 * (len(runs) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=10)
    parser.add_argument("--repetitions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    salon, share = build_salon(args.staff, rng)
    slots = find_free_slots(salon, SERVICE, policy=POLICY, now=NOW, limit=10)
    assert len(slots) == 10

    def search_all() -> object:
        return find_free_slots(salon, SERVICE, policy=POLICY, now=NOW, limit=10)

    def search_one() -> object:
        return find_free_slots(salon[:1], SERVICE, policy=POLICY, now=NOW, limit=10)

    booked_out, _ = build_salon(args.staff, rng, full_days=60)

    def search_booked_out() -> object:
        return find_free_slots(booked_out, SERVICE, policy=POLICY, now=NOW, limit=10)

    median, p95 = _time(search_all, args.repetitions)
    one_median, one_p95 = _time(search_one, args.repetitions)
    far_median, far_p95 = _time(search_booked_out, args.repetitions)
    print(
        json.dumps(
            {
                "bench": "slot_search",
                "median_ms": round(median, 3),
                "p95_ms": round(p95, 3),
                "staff": args.staff,
                "busy_intervals": sum(len(s.busy) for s in salon),
                "booked_share": round(share, 3),
                "days": DAYS,
                "limit": 10,
                "repetitions": args.repetitions,
                "one_staff_median_ms": round(one_median, 3),
                "one_staff_p95_ms": round(one_p95, 3),
                "first_60_days_full_median_ms": round(far_median, 3),
                "first_60_days_full_p95_ms": round(far_p95, 3),
                "first_slot_utc": f"{slots[0].start:%Y-%m-%d %H:%M}Z",
            }
        )
    )


if __name__ == "__main__":
    main()

"""Calendar, slot search and booking at scale: the demo salon with 1,000,000 appointments.

For each engine: a database seeded with `seed_demo(appointments=N)` (SQLite: a temporary
file; PostgreSQL: a new database on the server named by SLOTBOARD_BENCH_PG_URL or
SLOTBOARD_TEST_PG_URL, dropped afterwards), or the database at --database-url (migrated,
and seeded only if it holds no demo salon yet: reruns reuse it). Then, timed with
time.perf_counter, one JSON line per measurement:

- load_calendar for the last full local week before today, one staff member and all
  staff (target < 50 ms), and its Friday for all staff (the day view);
- find_slots, the next 10 free slots for a service, any staff and one (target < 100 ms);
- book_appointment with its conflict check, into free slots found one at a time by
  find_slots (target: median < 15 ms);
- load_data_version and load_bookings (a week, all staff), no target.

"Now" is 09:00 local on --today (default: today in Europe/Berlin); when reusing a
database, pass the --today it was seeded with.
Usage: .venv/bin/python bench/booking_bench.py [--engines sqlite postgresql]
           [--appointments 1000000] [--database-url URL] [--today 2026-11-25]
           [--repeat 30] [--bookings 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auth.roles import Actor  # noqa: E402
from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.bookings import (  # noqa: E402
    BookingRequest,
    book_appointment,
    find_slots,
    load_bookings,
    load_calendar,
    load_data_version,
)
from data.business import load_business_by_slug  # noqa: E402
from data.db import make_engine, read_conn  # noqa: E402
from data.demo import DEMO_SLUG, seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.schema import appointments, staff_services  # noqa: E402

TZ = "Europe/Berlin"
TARGETS_MS = {"load_calendar": 50, "find_slots": 100, "book_appointment": 15}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    fn()  # warm-up: caches, prepared statements
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def figures(engine: str, name: str, times: list[float], **extra: Any) -> dict[str, Any]:
    ordered = sorted(times)
    median = statistics.median(ordered)
    target = TARGETS_MS.get(name.split(":")[0])
    return {
        "bench": "booking", "engine": engine, "measure": name, "runs": len(times),
        "median_ms": round(median, 2), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "min_ms": round(ordered[0], 2), "max_ms": round(ordered[-1], 2),
        "target_ms": target, "ok": None if target is None else median < target, **extra,
    }  # fmt: skip


@contextmanager
def database(engine_name: str, url: str | None, size: int, today: date) -> Iterator[sa.Engine]:
    fresh = scratch_postgresql if engine_name == "postgresql" else scratch_sqlite
    with nullcontext(url) if url else fresh() as resolved:
        engine = make_engine(resolved)
        try:
            upgrade_to_head(engine)
            with read_conn(engine) as conn:
                seeded = load_business_by_slug(conn, slug=DEMO_SLUG) is not None
            if not seeded:
                started = time.perf_counter()
                summary = seed_demo(engine, appointments=size, today=today)
                seconds = round(time.perf_counter() - started, 1)
                seeded_line = {"bench": "booking", "engine": engine_name, "seconds": seconds,
                               "seeded": summary.appointments, "staff": summary.staff}  # fmt: skip
                print(json.dumps(seeded_line), flush=True)
                if engine.dialect.name == "postgresql":  # as autovacuum would, soon after
                    with engine.begin() as conn:
                        conn.exec_driver_sql("ANALYZE")
            yield engine
        finally:
            engine.dispose()


def bench_engine(engine_name: str, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    with database(engine_name, args.database_url, args.appointments, args.today) as engine:
        with read_conn(engine) as conn:
            business = load_business_by_slug(conn, slug=DEMO_SLUG)
            assert business is not None
            actor = Actor.operator(business_id=business["id"], label="bench")
            staff_id, service_id = _busiest_pair(conn, business["id"])
        now = datetime.combine(args.today, datetime.min.time().replace(hour=9), ZoneInfo(TZ))
        now = now.astimezone(UTC)
        yield from _reads(engine_name, engine, actor, staff_id, service_id, now, args.repeat)
        yield from _bookings(engine_name, engine, actor, service_id, now, args.bookings)


def _busiest_pair(conn: sa.Connection, business_id: int) -> tuple[int, int]:
    """The first staff member, and the service they are booked for most."""
    links = staff_services.c
    staff_id = conn.execute(
        sa.select(sa.func.min(links.staff_id)).where(links.business_id == business_id)
    ).scalar_one()
    appt = appointments.c
    query = (
        sa.select(appt.service_id)
        .where(appt.staff_id == staff_id)
        .group_by(appt.service_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    )
    return int(staff_id), int(conn.execute(query).scalar_one())


def _reads(
    engine_name: str,
    engine: sa.Engine,
    actor: Actor,
    staff_id: int,
    service_id: int,
    now: datetime,
    repeat: int,
) -> Iterator[dict[str, Any]]:
    local_today = now.astimezone(ZoneInfo(TZ)).date()
    monday = local_today - timedelta(days=local_today.weekday() + 7)
    week = {"start": _midnight(monday), "end": _midnight(monday + timedelta(days=7))}
    friday = monday + timedelta(days=4)
    day = {"start": _midnight(friday), "end": _midnight(friday + timedelta(days=1))}
    cases: dict[str, Callable[[sa.Connection], Any]] = {
        "load_calendar:week_one_staff": lambda c: load_calendar(
            c, actor=actor, staff_ids=[staff_id], **week
        ),
        "load_calendar:week_all_staff": lambda c: load_calendar(c, actor=actor, **week),
        "load_calendar:day_all_staff": lambda c: load_calendar(c, actor=actor, **day),
        "find_slots:next_10_one_staff": lambda c: find_slots(
            c, actor=actor, service_id=service_id, staff_id=staff_id, limit=10, now=now
        ),
        "find_slots:next_10_any_staff": lambda c: find_slots(
            c, actor=actor, service_id=service_id, limit=10, now=now
        ),
        "load_data_version": lambda c: load_data_version(c, actor=actor),
        "load_bookings:week_all_staff": lambda c: load_bookings(
            c, actor=actor, limit=100_000, **week
        ),
    }
    with read_conn(engine) as conn:
        for name, case in cases.items():
            times, result = timed(lambda case=case: case(conn), repeat)
            rows = len(result) if isinstance(result, list) else None
            yield figures(engine_name, name, times, rows=rows)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), ZoneInfo(TZ)).astimezone(UTC)


def _bookings(
    engine_name: str, engine: sa.Engine, actor: Actor, service_id: int, now: datetime, count: int
) -> Iterator[dict[str, Any]]:
    times, search = [], []
    for _ in range(count):
        started = time.perf_counter()
        with read_conn(engine) as conn:
            [slot] = find_slots(conn, actor=actor, service_id=service_id, limit=1, now=now)
        search.append((time.perf_counter() - started) * 1000)
        request = BookingRequest(staff_id=slot.staff_id, service_id=service_id, start=slot.start)
        started = time.perf_counter()
        book_appointment(engine, actor=actor, request=request, now=now)
        times.append((time.perf_counter() - started) * 1000)
    yield figures(engine_name, "book_appointment", times)
    yield figures(engine_name, "find_slots:next_1_any_staff_between_bookings", search)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="reuse (or seed once) this database")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=datetime.now(ZoneInfo(TZ)).date()
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--bookings", type=int, default=50)
    args = parser.parse_args()
    if args.database_url:
        backend = sa.make_url(args.database_url).get_backend_name()
        args.engines = [backend]
    for engine_name in args.engines:
        for line in bench_engine(engine_name, args):
            print(json.dumps(line, default=str), flush=True)


if __name__ == "__main__":
    main()

"""No double booking under real concurrency, on SQLite (file, WAL) and PostgreSQL.

Many threads, released together by a barrier, each with its own connection from the
shared engine, go for the same slot: exactly one wins, every other one gets SlotTaken
with alternatives (none of them the taken slot), and the database holds one booking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.bookings import SlotTaken, book_appointment, reschedule_appointment
from data.db import read_conn
from data.schema import appointments
from tests.data.test_bookings import NOW, Salon, at, build_salon

THREADS = 24
SLOT = at(4, 10)  # Friday 10:00 local, free


def race(attempt: Callable[[int], int | None]) -> list[object]:
    """Run attempt(i) in THREADS threads started together; each result or SlotTaken."""
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> object:
        barrier.wait(timeout=30)
        try:
            return attempt(i)
        except SlotTaken as exc:
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))  # any other error fails the test here


def bookings_at(engine: Engine, staff_id: int, start: datetime) -> list[int]:
    query = sa.select(appointments.c.id).where(
        appointments.c.staff_id == staff_id,
        appointments.c.status != "cancelled",
        appointments.c.starts_at < start + timedelta(hours=1),
        appointments.c.ends_at > start,
    )
    with read_conn(engine) as conn:
        return list(conn.execute(query).scalars())


def check_one_winner(salon: Salon, results: list[object], *, won: Callable[[object], bool]) -> None:
    winners = [r for r in results if won(r)]
    losers = [r for r in results if isinstance(r, SlotTaken)]
    assert len(winners) == 1 and len(losers) == THREADS - 1, results
    for loser in losers:
        assert str(loser).startswith("That slot was just taken. Next free: ")
        assert loser.alternatives
        assert all((s.start, s.staff_id) != (SLOT, salon.anna) for s in loser.alternatives)
    assert len(bookings_at(salon.engine, salon.anna, SLOT)) == 1


def test_many_threads_book_the_same_slot(engine: Engine) -> None:
    salon = build_salon(engine, "Race salon")
    request = salon.request(SLOT)
    results = race(
        lambda i: book_appointment(engine, actor=salon.staff_actor, request=request, now=NOW)
    )
    check_one_winner(salon, results, won=lambda r: isinstance(r, int))


def test_many_threads_move_different_appointments_into_the_same_slot(engine: Engine) -> None:
    salon = build_salon(engine, "Reschedule race salon")
    starts = [(staff, at(day, hour)) for staff in (salon.anna, salon.ben)
              for day in (1, 2) for hour in range(9, 17)][:THREADS]  # fmt: skip
    ids = [salon.book(start, staff_id=staff) for staff, start in starts]
    results = race(
        lambda i: reschedule_appointment(
            engine,
            actor=salon.staff_actor,
            appointment_id=ids[i],
            start=SLOT,
            staff_id=salon.anna,
            now=NOW,
        )  # fmt: skip
    )
    check_one_winner(salon, results, won=lambda r: r is None)
    [moved] = bookings_at(engine, salon.anna, SLOT)
    unmoved = [(staff, start) for (staff, start), i in zip(starts, ids, strict=True) if i != moved]
    assert unmoved == [
        (row["staff_id"], row["starts_at"])
        for i in ids
        if i != moved
        for row in [salon.appointment(i)]
    ]


def test_racing_bookings_never_land_in_each_others_buffer(engine: Engine) -> None:
    """10:00 and 10:45 only collide through the 15-minute buffer, which PostgreSQL's
    exclusion constraint does not see: the per-staff lock must keep them apart."""
    salon = build_salon(engine, "Buffer race salon")
    starts = [SLOT, SLOT + timedelta(minutes=45)]
    results = race(
        lambda i: book_appointment(
            engine, actor=salon.staff_actor, request=salon.request(starts[i % 2]), now=NOW
        )
    )
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SlotTaken) for r in results if not isinstance(r, int))
    assert len(bookings_at(engine, salon.anna, SLOT)) == 1

"""Reads behind the slot suggestions on SQLite and PostgreSQL: a customer's visits, the
idle profile by local weekday x hour (across a DST switch) and the free slots ahead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Connection, Engine

from auth.roles import Actor, PermissionDenied, Role
from data import catalog
from data.booking_queries import find_slots
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import appointments
from data.slot_hints import find_slots_ahead, load_customer_visit_pattern, load_idle_profile
from scheduling.catalog import ServiceInput, Shift, StaffInput
from tests.factories import make_business, make_customer

TZ = "Europe/Berlin"
MON, TUE = 0, 1
NOW = datetime(2026, 6, 1, 6, 30, tzinfo=UTC)  # Monday 08:30 local (CEST)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@dataclass(frozen=True)
class Salon:
    engine: Engine
    owner: Actor
    staff_actor: Actor
    analyst: Actor
    anna: int  # Mondays 09:00-17:00
    ben: int  # Tuesdays 09:00-13:00
    cut: int  # 45 min + 15 buffer
    ada: int

    def read(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        with read_conn(self.engine) as conn:
            return fn(conn, **{"actor": self.owner, **kwargs})


def _appointment(
    conn: Connection, salon_ids: tuple[int, int, int], start: datetime, *,
    customer_id: int | None = None, status: str = "completed", minutes: int = 60,
) -> None:  # fmt: skip
    business_id, staff_id, service_id = salon_ids
    conn.execute(
        appointments.insert().values(
            business_id=business_id, staff_id=staff_id, service_id=service_id,
            customer_id=customer_id, starts_at=start, ends_at=start + timedelta(minutes=minutes),
            status=status, price_cents=4500, created_at=start, updated_at=start,
        )
    )  # fmt: skip


def build_salon(engine: Engine, name: str = "Salon A") -> Salon:
    with write_tx(engine) as conn:
        business_id = make_business(conn, name=name, tz=TZ)
        owner = Actor.operator(business_id=business_id)
        staff_actor = Actor(None, business_id, Role.STAFF, "staff")
        analyst = Actor(None, business_id, Role.ANALYST, "analyst")
        cut = catalog.create_service(
            conn, actor=owner,
            data=ServiceInput(name="Cut", duration_min=45, buffer_min=15, price="45"),
        )  # fmt: skip
        anna, ben = (
            catalog.create_staff(
                conn, actor=owner, data=StaffInput(display_name=who, service_ids=[cut])
            )
            for who in ("Anna", "Ben")
        )
        for staff_id, weekday, end in ((anna, MON, 17), (ben, TUE, 13)):
            shifts = [Shift(weekday=weekday, start=time(9), end=time(end))]
            catalog.save_working_hours(conn, actor=owner, staff_id=staff_id, shifts=shifts)
        ada = make_customer(conn, business_id, first_name="Ada")
    return Salon(engine, owner, staff_actor, analyst, anna, ben, cut, ada)


@pytest.fixture
def salon(engine: Engine) -> Salon:
    return build_salon(engine)


# --- the customer's visits -----------------------------------------------------------


def test_visit_pattern_holds_completed_visits_newest_first(salon: Salon) -> None:
    ids = (salon.owner.business_id, salon.anna, salon.cut)
    first = date(2026, 3, 2)
    with write_tx(salon.engine) as conn:
        for week in range(6):
            _appointment(conn, ids, local(first + timedelta(weeks=week), 10), customer_id=salon.ada)
        for hour, status in ((12, "cancelled"), (13, "no_show"), (14, "booked")):
            _appointment(conn, ids, local(date(2026, 5, 4), hour), customer_id=salon.ada,
                         status=status)  # fmt: skip
        _appointment(conn, ids, local(date(2026, 5, 11), 12))  # a walk-in
    pattern = salon.read(
        load_customer_visit_pattern, actor=salon.staff_actor, customer_id=salon.ada, limit=4
    )
    assert pattern.first_name == "Ada" and pattern.customer_id == salon.ada
    assert [v["starts_at"] for v in pattern.visits] == [
        local(first + timedelta(weeks=week), 10) for week in (5, 4, 3, 2)
    ]
    assert {(v["staff_id"], v["service_id"], v["status"]) for v in pattern.visits} == {
        (salon.anna, salon.cut, "completed")
    }
    assert all(v["starts_at"].tzinfo is not None for v in pattern.visits)


def test_visit_pattern_of_a_customer_without_visits(salon: Salon) -> None:
    pattern = salon.read(load_customer_visit_pattern, customer_id=salon.ada)
    assert (pattern.first_name, pattern.visits) == ("Ada", [])


def test_visit_pattern_refuses_analysts_and_other_businesses(salon: Salon) -> None:
    with pytest.raises(PermissionDenied):
        salon.read(load_customer_visit_pattern, actor=salon.analyst, customer_id=salon.ada)
    other = build_salon(salon.engine, "Salon B")
    with pytest.raises(NotFound):
        salon.read(load_customer_visit_pattern, customer_id=other.ada)


# --- the idle profile ----------------------------------------------------------------

TODAY = date(2026, 4, 20)  # Monday; the 8 weeks before it span the switch on 29 March
MONDAYS = [TODAY - timedelta(weeks=week) for week in range(1, 9)]


def test_idle_profile_is_the_free_share_by_local_weekday_and_hour(salon: Salon) -> None:
    ids = (salon.owner.business_id, salon.anna, salon.cut)
    with write_tx(salon.engine) as conn:
        for monday in MONDAYS:  # 10:00 local: 09:00 UTC in winter, 08:00 UTC in summer
            _appointment(conn, ids, local(monday, 10))
            _appointment(conn, ids, local(monday, 11), status="cancelled")
        for monday in MONDAYS[:4]:  # half the Mondays: 30 minutes at 12:00
            _appointment(conn, ids, local(monday, 12), minutes=30, status="booked")
        _appointment(conn, ids, local(TODAY - timedelta(weeks=9), 9))  # before the window
        _appointment(conn, ids, local(TODAY, 9))  # today is not in it
    idle = salon.read(load_idle_profile, actor=salon.staff_actor, today=TODAY, weeks=8)
    assert idle[(MON, 10)] == 0.0  # booked every Monday, winter and summer alike
    assert idle[(MON, 9)] == 1.0 and idle[(MON, 11)] == 1.0  # cancelled ones are free
    assert idle[(MON, 12)] == pytest.approx(1 - 4 * 30 / (8 * 60))
    assert idle[(TUE, 9)] == 1.0 and (TUE, 13) not in idle  # Ben: 09:00-13:00
    assert set(idle) == {(MON, h) for h in range(9, 17)} | {(TUE, h) for h in range(9, 13)}


def test_idle_profile_sees_only_this_business(salon: Salon) -> None:
    other = build_salon(salon.engine, "Salon B")
    with write_tx(salon.engine) as conn:
        for monday in MONDAYS:
            _appointment(conn, (other.owner.business_id, other.anna, other.cut), local(monday, 10))
    assert salon.read(load_idle_profile, today=TODAY)[(MON, 10)] == 1.0
    assert salon.read(load_idle_profile, actor=other.owner, today=TODAY)[(MON, 10)] == 0.0
    with pytest.raises(PermissionDenied):
        salon.read(load_idle_profile, actor=salon.analyst, today=TODAY)


# --- free slots ahead ----------------------------------------------------------------


def test_slots_ahead_are_every_free_slot_of_the_next_days(salon: Salon) -> None:
    ids = (salon.owner.business_id, salon.anna, salon.cut)
    with write_tx(salon.engine) as conn:
        _appointment(conn, ids, local(date(2026, 6, 8), 10), status="booked")
    ahead = salon.read(
        find_slots_ahead, actor=salon.staff_actor, service_id=salon.cut, days=14, now=NOW
    )
    assert ahead == salon.read(find_slots, service_id=salon.cut, limit=len(ahead), now=NOW)
    assert ahead[0].start == local(date(2026, 6, 1), 9, 30)  # an hour's notice from 08:30
    assert max(s.start for s in ahead) < NOW + timedelta(days=14)
    assert local(date(2026, 6, 8), 10) not in {s.start for s in ahead if s.staff_id == salon.anna}
    assert {s.staff_id for s in ahead} == {salon.anna, salon.ben}
    # Starts on the 15-minute grid, 60 minutes taken by each: Anna on Mondays 09:00-17:00
    # (from 09:30 on the first; on the 8th around 10:00-11:15), Ben on Tuesdays 09:00-13:00.
    per_day: dict[date, int] = {}
    for s in ahead:
        day = s.start.astimezone(ZoneInfo(TZ)).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {
        date(2026, 6, 1): 27, date(2026, 6, 2): 13, date(2026, 6, 8): 1 + 20,
        date(2026, 6, 9): 13,
    }  # fmt: skip


def test_slots_ahead_with_one_staff_member_and_limits(salon: Salon) -> None:
    ben = salon.read(find_slots_ahead, service_id=salon.cut, staff_id=salon.ben, now=NOW)
    assert ben and {s.staff_id for s in ben} == {salon.ben}
    three = salon.read(find_slots_ahead, service_id=salon.cut, now=NOW, limit=3)
    first_monday = date(2026, 6, 1)
    assert [s.start for s in three] == [
        local(first_monday, 9, 30),
        local(first_monday, 9, 45),
        local(first_monday, 10),
    ]
    assert salon.read(find_slots_ahead, service_id=salon.cut, now=NOW, days=0) == []
    one_day = salon.read(find_slots_ahead, service_id=salon.cut, now=NOW, days=1)
    assert {s.start.astimezone(ZoneInfo(TZ)).date() for s in one_day} == {date(2026, 6, 1)}


def test_slots_ahead_refuse_other_businesses_and_analysts(salon: Salon) -> None:
    other = build_salon(salon.engine, "Salon B")
    with pytest.raises(NotFound):
        salon.read(find_slots_ahead, service_id=other.cut, now=NOW)
    with pytest.raises(NotFound):
        salon.read(find_slots_ahead, service_id=salon.cut, staff_id=other.anna, now=NOW)
    with pytest.raises(PermissionDenied):
        salon.read(find_slots_ahead, actor=salon.analyst, service_id=salon.cut, now=NOW)

"""Booking, rescheduling, status changes and the booking reads on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Connection, Engine

from auth.roles import Actor, PermissionDenied
from data import bookings as bookings_data
from data import catalog
from data.audit import load_audit_log
from data.bookings import (
    BookingRejected,
    BookingRequest,
    BulkStatusRefused,
    SlotTaken,
    StatusRefused,
    book_appointment,
    bulk_set_status,
    find_slots,
    load_appointment,
    load_bookings,
    load_calendar,
    load_data_version,
    load_schedules,
    reschedule_appointment,
    set_appointment_status,
)
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import customers
from scheduling.availability import Interval, Problem
from scheduling.catalog import ServiceInput, Shift, StaffInput, TimeOffInput
from tests.factories import make_account, make_business

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
MONDAY = datetime(2026, 6, 1)  # local; CEST (UTC+2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """UTC instant of local wall-clock time on MONDAY + day."""
    local = (MONDAY + timedelta(days=day)).replace(hour=hour, minute=minute)
    return local.replace(tzinfo=BERLIN).astimezone(UTC)


NOW = at(0, 8, 30)  # Monday 08:30 local


@dataclass(frozen=True)
class Salon:
    engine: Engine
    owner: Actor
    staff_actor: Actor
    analyst: Actor
    anna: int
    ben: int
    cut: int  # 45 min + 15 buffer, 45.00; Anna and Ben
    colour: int  # 90 min, Anna only
    ada: int  # customer

    def request(self, start: datetime, **fields: Any) -> BookingRequest:
        return BookingRequest(
            **{"staff_id": self.anna, "service_id": self.cut, "start": start, **fields}
        )

    def book(self, start: datetime, actor: Actor | None = None, **fields: Any) -> int:
        request = self.request(start, **fields)
        return book_appointment(self.engine, actor=actor or self.owner, request=request, now=NOW)

    def read(self, fn: Any, **kwargs: Any) -> Any:
        with read_conn(self.engine) as conn:
            return fn(conn, actor=kwargs.pop("actor", self.owner), **kwargs)

    def appointment(self, appointment_id: int) -> dict[str, Any]:
        return self.read(load_appointment, appointment_id=appointment_id)


def build_salon(engine: Engine, name: str) -> Salon:
    week = [Shift(weekday=d, start=time(9), end=time(17)) for d in range(6)]  # Mon-Sat
    with write_tx(engine) as conn:
        business_id = make_business(conn, name=name, tz=TZ)
        actors = [
            Actor.for_account(
                account_id=make_account(conn, business_id, role=role, auth_provider="supabase"),
                business_id=business_id,
                role=role,
            )
            for role in ("owner", "staff", "analyst")
        ]
        owner = actors[0]
        cut = catalog.create_service(
            conn,
            actor=owner,
            data=ServiceInput(name="Cut", duration_min=45, buffer_min=15, price="45.00"),
        )
        colour = catalog.create_service(
            conn, actor=owner, data=ServiceInput(name="Colour", duration_min=90, price="80")
        )
        anna = catalog.create_staff(
            conn, actor=owner, data=StaffInput(display_name="Anna", service_ids=[cut, colour])
        )
        ben = catalog.create_staff(
            conn, actor=owner, data=StaffInput(display_name="Ben", service_ids=[cut])
        )
        for staff_id in (anna, ben):
            catalog.save_working_hours(conn, actor=owner, staff_id=staff_id, shifts=week)
        ada = add_customer(conn, business_id, "Ada", "Lovelace", "+4915123456789", "ada@ex.org")
    return Salon(engine, *actors, anna, ben, cut, colour, ada)


def add_customer(
    conn: Connection, business_id: int, first: str, last: str, phone: str, email: str
) -> int:
    values = {
        "business_id": business_id, "first_name": first, "last_name": last,
        "phone": phone, "email": email, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return int(conn.execute(customers.insert().values(**values)).inserted_primary_key[0])


@pytest.fixture
def salon(engine: Engine) -> Salon:
    return build_salon(engine, "Salon A")


def audit_rows(salon: Salon, action: str) -> list[dict[str, Any]]:
    return salon.read(load_audit_log, action=action)


# --- booking -------------------------------------------------------------------------


def test_book_round_trip(salon: Salon) -> None:
    start = at(1, 10)
    appointment_id = salon.book(start, customer_id=salon.ada, notes=" fringe ", source="phone")
    appt = salon.appointment(appointment_id)
    assert appt["starts_at"] == start and appt["ends_at"] == start + timedelta(minutes=45)
    assert (appt["staff_name"], appt["service_name"], appt["status"]) == ("Anna", "Cut", "booked")
    assert (appt["customer_name"], appt["customer_phone"]) == ("Ada Lovelace", "+4915123456789")
    assert (appt["price_cents"], appt["notes"], appt["source"]) == (4500, "fringe", "phone")
    assert (appt["duration_min"], appt["buffer_min"]) == (45, 15)
    assert appt["created_at"] == appt["updated_at"] > NOW
    [audit] = audit_rows(salon, "create")[:1]
    assert (audit["entity"], audit["entity_id"]) == ("appointments", str(appointment_id))
    assert audit["diff"]["starts_at"] == [None, start.isoformat()]
    assert audit["diff"]["price_cents"] == [None, 4500]
    assert audit["account_id"] == salon.owner.account_id


def test_staff_role_books_and_walk_in_has_no_customer(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 9), actor=salon.staff_actor)
    appt = salon.appointment(appointment_id)
    assert appt["customer_id"] is None and appt["customer_name"] is None


def test_back_to_back_after_the_buffer_is_fine(salon: Salon) -> None:
    salon.book(at(1, 10))  # occupies 10:00-11:00 with its buffer
    salon.book(at(1, 11))
    salon.book(at(1, 10), staff_id=salon.ben)  # another staff member: free


@pytest.mark.parametrize(
    ("start", "fields", "codes"),
    [
        (at(1, 17), {}, {Problem.OUTSIDE_HOURS}),
        (at(1, 16, 30), {}, {Problem.OUTSIDE_HOURS}),  # runs past 17:00
        (at(6, 10), {}, {Problem.OUTSIDE_HOURS}),  # Sunday
        (at(-2, 10), {}, {Problem.PAST}),  # last Saturday
        (at(0, 9), {}, {Problem.TOO_SOON}),  # 30 minutes ahead
        (at(91, 10), {}, {Problem.TOO_FAR}),
        (at(1, 10), {"service": "colour", "staff": "ben"}, {Problem.NOT_OFFERED}),
    ],
    ids=["after-hours", "runs-past-close", "sunday", "past", "too-soon", "too-far", "not-offered"],
)
def test_each_rejection_reason(
    salon: Salon, start: datetime, fields: dict[str, str], codes: set[Problem]
) -> None:
    request = salon.request(
        start,
        service_id=salon.colour if fields.get("service") else salon.cut,
        staff_id=salon.ben if fields.get("staff") else salon.anna,
    )
    with pytest.raises(BookingRejected) as caught:
        book_appointment(salon.engine, actor=salon.owner, request=request, now=NOW)
    assert {problem.code for problem in caught.value.problems} == codes
    assert str(caught.value) == " ".join(p.message for p in caught.value.problems)
    assert salon.read(load_data_version)[1] is None  # nothing written


def test_time_off_of_staff_and_business_rejected(salon: Salon) -> None:
    with write_tx(salon.engine) as conn:
        for staff_id, day in ((salon.anna, 1), (None, 2)):
            off = TimeOffInput(
                staff_id=staff_id,
                start_local=MONDAY + timedelta(days=day, hours=12),
                end_local=MONDAY + timedelta(days=day, hours=14),
                reason="away",
            )
            catalog.create_time_off(conn, actor=salon.owner, data=off, timezone=TZ)
    for start in (at(1, 12, 30), at(2, 11, 30)):  # 11:30 + 1 h runs into the closure
        with pytest.raises(BookingRejected) as caught:
            salon.book(start)
        assert [p.code for p in caught.value.problems] == [Problem.TIME_OFF]
    salon.book(at(1, 12, 30), staff_id=salon.ben)  # only Anna is off on Tuesday


def test_overlap_alone_is_slot_taken_with_alternatives(salon: Salon) -> None:
    salon.book(at(1, 10))
    with pytest.raises(SlotTaken) as caught:
        salon.book(at(1, 10, 30))
    alternatives = caught.value.alternatives
    assert alternatives and all(slot.start >= at(1, 10, 30) for slot in alternatives)
    assert (at(1, 10, 30), salon.ben) in {(s.start, s.staff_id) for s in alternatives}
    assert (at(1, 11), salon.anna) in {(s.start, s.staff_id) for s in alternatives}
    assert str(caught.value).startswith("That slot was just taken. Next free: Tue 10:30 (Ben)")


def test_overlap_with_another_problem_is_rejected_with_both(salon: Salon) -> None:
    salon.book(at(1, 16))
    with pytest.raises(BookingRejected) as caught:
        salon.book(at(1, 16, 30))  # overlaps and runs past 17:00
    codes = [problem.code for problem in caught.value.problems]
    assert codes == [Problem.OUTSIDE_HOURS, Problem.OVERLAP]
    assert "Anna already has an appointment 16:00–17:00" in str(caught.value)


def test_inactive_staff_or_service_rejected(salon: Salon) -> None:
    with write_tx(salon.engine) as conn:
        data = StaffInput(display_name="Ben", service_ids=[salon.cut], is_active=False)
        catalog.update_staff(conn, actor=salon.owner, staff_id=salon.ben, data=data)
        colour = ServiceInput(name="Colour", duration_min=90, price="80", is_active=False)
        catalog.update_service(conn, actor=salon.owner, service_id=salon.colour, data=colour)
    for fields in ({"staff_id": salon.ben}, {"service_id": salon.colour}):
        with pytest.raises(BookingRejected, match="no longer"):
            salon.book(at(1, 10), **fields)


def test_bad_request_values_refused(salon: Salon) -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        salon.book(datetime(2026, 6, 2, 10))
    with pytest.raises(ValueError, match="booking source"):
        salon.book(at(1, 10), source="carrier pigeon")
    with pytest.raises(NotFound):
        salon.book(at(1, 10), customer_id=987_654)
    with pytest.raises(NotFound):
        salon.book(at(1, 10), service_id=987_654)


@pytest.mark.postgres
def test_exclusion_constraint_becomes_slot_taken(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the check is bypassed (two checks racing), PostgreSQL refuses the overlap."""
    salon = build_salon(pg_engine, "Salon PG")
    first = salon.book(at(1, 10))
    monkeypatch.setattr(bookings_data, "check_booking", lambda *args, **kwargs: [])
    with pytest.raises(SlotTaken) as caught:
        salon.book(at(1, 10, 15))
    assert caught.value.alternatives
    second = salon.book(at(1, 12))
    with pytest.raises(SlotTaken):
        reschedule_appointment(
            pg_engine, actor=salon.owner, appointment_id=second, start=at(1, 10, 30), now=NOW
        )
    rows = salon.read(load_calendar, start=at(1, 0), end=at(2, 0))
    assert [(row["id"], row["starts_at"]) for row in rows] == [
        (first, at(1, 10)),
        (second, at(1, 12)),
    ]


# --- reschedule ----------------------------------------------------------------------


def test_reschedule_round_trip(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 10))
    before = salon.appointment(appointment_id)
    reschedule_appointment(
        salon.engine, actor=salon.staff_actor, appointment_id=appointment_id,
        start=at(2, 14), staff_id=salon.ben, now=NOW,
    )  # fmt: skip
    after = salon.appointment(appointment_id)
    assert (after["starts_at"], after["ends_at"]) == (at(2, 14), at(2, 14, 45))
    assert after["staff_id"] == salon.ben and after["updated_at"] > before["updated_at"]
    [audit] = audit_rows(salon, "reschedule")
    assert audit["diff"]["starts_at"] == [at(1, 10).isoformat(), at(2, 14).isoformat()]
    assert audit["diff"]["staff_id"] == [salon.anna, salon.ben]


def test_reschedule_into_its_own_time_and_no_op(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 10))
    version = salon.read(load_data_version)
    reschedule_appointment(
        salon.engine, actor=salon.owner, appointment_id=appointment_id, start=at(1, 10), now=NOW
    )
    assert salon.read(load_data_version) == version and not audit_rows(salon, "reschedule")
    reschedule_appointment(  # overlaps only itself: fine
        salon.engine, actor=salon.owner, appointment_id=appointment_id,
        start=at(1, 10, 15), now=NOW,
    )  # fmt: skip
    assert salon.appointment(appointment_id)["starts_at"] == at(1, 10, 15)


def test_reschedule_rejections(salon: Salon) -> None:
    moving, other = salon.book(at(1, 10)), salon.book(at(1, 12))

    def move(start: datetime, **fields: Any) -> None:
        reschedule_appointment(
            salon.engine, actor=salon.owner, appointment_id=moving, start=start, now=NOW, **fields
        )

    with pytest.raises(SlotTaken):
        move(at(1, 12, 15))
    with pytest.raises(BookingRejected, match="doesn't work on Sundays"):
        move(at(6, 10))
    with pytest.raises(NotFound):
        move(at(1, 14), staff_id=987_654)
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=other, status="cancelled",
        reason="flu", now=NOW,
    )  # fmt: skip
    with pytest.raises(StatusRefused, match="only booked or confirmed"):
        reschedule_appointment(
            salon.engine, actor=salon.owner, appointment_id=other, start=at(2, 10), now=NOW
        )
    move(at(1, 12))  # the cancelled appointment no longer holds its time
    assert salon.appointment(moving)["starts_at"] == at(1, 12)


# --- status --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "when"),
    [
        ("confirmed", "confirm", NOW),
        ("cancelled", "cancel", NOW),
        ("completed", "complete", at(1, 11)),
        ("no_show", "no_show", at(1, 11)),
        ("cancel", "cancel", NOW),  # the verb works too
    ],
)
def test_status_round_trip(salon: Salon, status: str, action: str, when: datetime) -> None:
    appointment_id = salon.book(at(1, 10))
    before = salon.appointment(appointment_id)
    set_appointment_status(
        salon.engine, actor=salon.staff_actor, appointment_id=appointment_id,
        status=status, reason="  Customer   called ", now=when,
    )  # fmt: skip
    after = salon.appointment(appointment_id)
    target = {"cancel": "cancelled"}.get(status, status)
    assert after["status"] == target and after["updated_at"] > before["updated_at"]
    [audit] = audit_rows(salon, action)
    assert audit["diff"]["status"] == ["booked", target]
    if target == "cancelled":
        assert after["cancelled_at"] == after["updated_at"]
        assert after["cancellation_reason"] == "Customer called"
        assert audit["diff"]["cancellation_reason"] == [None, "Customer called"]
    else:
        assert after["cancelled_at"] is None and after["cancellation_reason"] is None


def test_status_refusals(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 10))

    def change(status: str, when: datetime = NOW, reason: str | None = None) -> None:
        set_appointment_status(
            salon.engine, actor=salon.owner, appointment_id=appointment_id,
            status=status, reason=reason, now=when,
        )  # fmt: skip

    with pytest.raises(StatusRefused, match="t complete an appointment that hasn't started"):
        change("completed")
    with pytest.raises(StatusRefused, match="no-show before it has started"):
        change("no_show")
    with pytest.raises(StatusRefused, match="needs a reason"):
        change("cancelled", reason="   ")
    with pytest.raises(StatusRefused, match="not a status"):
        change("archived")
    change("confirmed")
    version = salon.read(load_data_version)
    change("confirmed")  # no-op
    assert salon.read(load_data_version) == version
    with pytest.raises(StatusRefused, match="can't be set back to booked"):
        change("booked")
    change("completed", at(1, 10, 50))
    with pytest.raises(StatusRefused, match="already completed, which is final"):
        change("cancelled", reason="oops")
    assert salon.appointment(appointment_id)["status"] == "completed"


# --- bulk ----------------------------------------------------------------------------


def test_bulk_is_all_or_nothing(salon: Salon) -> None:
    ids = [salon.book(at(1, hour)) for hour in (9, 10, 11, 12)]
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=ids[2], status="cancelled",
        reason="flu", now=NOW,
    )  # fmt: skip
    version = salon.read(load_data_version)
    with pytest.raises(BulkStatusRefused) as caught:
        bulk_set_status(
            salon.engine, actor=salon.owner, appointment_ids=ids, status="confirmed", now=NOW
        )
    assert caught.value.refused == {ids[2]: "it is already cancelled, which is final"}
    assert f"#{ids[2]}" in str(caught.value) and "Nothing was changed" in str(caught.value)
    assert salon.read(load_data_version) == version
    assert [salon.appointment(i)["status"] for i in ids] == ["booked"] * 2 + ["cancelled", "booked"]

    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=ids[0], status="confirmed", now=NOW
    )
    chosen = [ids[0], ids[1], ids[3], ids[1]]  # one already confirmed, one repeated
    changed = bulk_set_status(
        salon.engine, actor=salon.staff_actor, appointment_ids=chosen, status="confirmed", now=NOW
    )
    assert changed == 2
    assert len(audit_rows(salon, "confirm")) == 3
    assert (
        bulk_set_status(salon.engine, actor=salon.owner, appointment_ids=[], status="cancel") == 0
    )


def test_bulk_refuses_every_offender_and_unknown_ids(salon: Salon) -> None:
    ids = [salon.book(at(1, hour)) for hour in (9, 10)]
    with pytest.raises(BulkStatusRefused) as caught:
        bulk_set_status(
            salon.engine, actor=salon.owner, appointment_ids=ids, status="no_show", now=NOW
        )
    assert set(caught.value.refused) == set(ids)
    with pytest.raises(BulkStatusRefused, match="needs a reason"):
        bulk_set_status(salon.engine, actor=salon.owner, appointment_ids=ids, status="cancelled")
    with pytest.raises(NotFound, match="987654"):
        bulk_set_status(
            salon.engine, actor=salon.owner, appointment_ids=[*ids, 987_654], status="confirmed"
        )
    assert (
        bulk_set_status(
            salon.engine,
            actor=salon.owner,
            appointment_ids=ids,
            status="cancelled",
            reason="closed",
        )
        == 2
    )


# --- roles and tenants ---------------------------------------------------------------


def mutations(salon: Salon, actor: Actor, appointment_id: int, staff_id: int) -> list[Any]:
    engine = salon.engine
    return [
        lambda: book_appointment(
            engine, actor=actor, request=salon.request(at(2, 10), staff_id=staff_id), now=NOW
        ),
        lambda: reschedule_appointment(
            engine, actor=actor, appointment_id=appointment_id, start=at(2, 12), now=NOW
        ),
        lambda: set_appointment_status(
            engine,
            actor=actor,
            appointment_id=appointment_id,
            status="cancelled",
            reason="x",
            now=NOW,
        ),  # fmt: skip
        lambda: set_appointment_status(
            engine, actor=actor, appointment_id=appointment_id, status="confirmed", now=NOW
        ),
        lambda: bulk_set_status(
            engine, actor=actor, appointment_ids=[appointment_id], status="confirmed", now=NOW
        ),
    ]


def test_analyst_can_change_nothing(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 10))
    version = salon.read(load_data_version)
    for mutation in mutations(salon, salon.analyst, appointment_id, salon.anna):
        with pytest.raises(PermissionDenied):
            mutation()
    window = {"start": at(0, 0), "end": at(7, 0)}
    for reader in (load_calendar, load_bookings):  # customer details: not for analysts
        with pytest.raises(PermissionDenied):
            salon.read(reader, actor=salon.analyst, **window)
    with pytest.raises(PermissionDenied):
        salon.read(load_appointment, actor=salon.analyst, appointment_id=appointment_id)
    assert salon.read(load_data_version, actor=salon.analyst) == version


def test_tenant_isolation(salon: Salon) -> None:
    other = build_salon(salon.engine, "Salon B")
    theirs = other.book(at(1, 10), customer_id=other.ada)
    mine = salon.book(at(1, 10), customer_id=salon.ada)
    snapshot = other.appointment(theirs)
    for mutation in mutations(salon, salon.owner, theirs, salon.anna)[1:]:
        with pytest.raises(NotFound):  # B's appointment
            mutation()
    for fields in (
        {"staff_id": other.anna},
        {"service_id": other.cut},
        {"customer_id": other.ada},
    ):
        with pytest.raises(NotFound):
            salon.book(at(2, 10), **fields)
    with pytest.raises(NotFound):
        reschedule_appointment(
            salon.engine, actor=salon.owner, appointment_id=mine, start=at(2, 10),
            staff_id=other.anna, now=NOW,
        )  # fmt: skip
    with pytest.raises(NotFound):
        salon.read(load_appointment, appointment_id=theirs)
    with pytest.raises(NotFound):
        salon.read(load_schedules, start=at(1, 0), end=at(2, 0), staff_ids=[other.anna])
    with pytest.raises(NotFound):
        salon.read(find_slots, service_id=other.cut, now=NOW)
    with pytest.raises(NotFound):
        salon.read(find_slots, service_id=salon.cut, staff_id=other.anna, now=NOW)
    window = {"start": at(0, 0), "end": at(7, 0)}
    assert [r["id"] for r in salon.read(load_calendar, **window)] == [mine]
    assert [r["id"] for r in salon.read(load_bookings, **window)] == [mine]
    assert salon.read(load_bookings, customer_query="ada", **window)[0]["id"] == mine
    assert {s.staff_id for s in salon.read(find_slots, service_id=salon.cut, now=NOW)} <= {
        salon.anna,
        salon.ben,
    }
    assert other.appointment(theirs) == snapshot


# --- reads ---------------------------------------------------------------------------


def test_load_calendar_window_filters_and_cancelled(salon: Salon) -> None:
    a = salon.book(at(1, 10))
    b = salon.book(at(1, 10), staff_id=salon.ben)
    c = salon.book(at(1, 12), service_id=salon.colour)
    d = salon.book(at(2, 10))
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=d, status="cancelled", reason="x", now=NOW
    )
    day = {"start": at(1, 0), "end": at(2, 0)}
    rows = salon.read(load_calendar, **day)
    assert [r["id"] for r in rows] == [a, b, c]
    assert set(rows[0]) == {
        "id", "staff_id", "staff_name", "staff_color", "service_id", "service_name",
        "customer_id", "customer_name", "status", "starts_at", "ends_at",
    }  # fmt: skip
    assert rows[0]["staff_color"] == "#4C78A8" and rows[0]["starts_at"].tzinfo is not None
    assert [r["id"] for r in salon.read(load_calendar, staff_ids=[salon.ben], **day)] == [b]
    assert [r["id"] for r in salon.read(load_calendar, service_ids=[salon.colour], **day)] == [c]
    overlapping = {"start": at(1, 10, 30), "end": at(1, 12, 15)}  # a and b end at 10:45
    assert [r["id"] for r in salon.read(load_calendar, **overlapping)] == [a, b, c]
    week = {"start": at(0, 0), "end": at(7, 0)}
    assert d not in [r["id"] for r in salon.read(load_calendar, **week)]
    assert d in [r["id"] for r in salon.read(load_calendar, include_cancelled=True, **week)]


def test_load_bookings_filters_and_customer_search(salon: Salon) -> None:
    with write_tx(salon.engine) as conn:
        business_id = salon.owner.business_id
        pct = add_customer(conn, business_id, "Zoë", "100%Hair", "+4930111111", "z@ex.org")
        under = add_customer(conn, business_id, "Una", "Der_Score", "+4930222222", "u_s@ex.org")
        plain = add_customer(conn, business_id, "Dan", "Hairmann", "+4930333333", "dxs@ex.org")
    ids = {
        name: salon.book(at(1, hour), customer_id=customer)
        for name, hour, customer in (
            ("ada", 9, salon.ada), ("pct", 10, pct), ("under", 11, under), ("plain", 12, plain),
        )
    }  # fmt: skip
    walk_in = salon.book(at(1, 14), staff_id=salon.ben)
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=ids["plain"], status="confirmed", now=NOW
    )
    window = {"start": at(1, 0), "end": at(2, 0)}

    def found(**filters: Any) -> list[int]:
        return [row["id"] for row in salon.read(load_bookings, **window, **filters)]

    assert found() == [*ids.values(), walk_in]
    assert found(customer_query="ADA lovelace") == [ids["ada"]]
    assert found(customer_query="%") == [ids["pct"]]  # literal, not "anything"
    assert found(customer_query="d_n") == []  # `_` is literal: "Dan" does not match
    assert found(customer_query="_s") == [ids["under"]]  # e-mail u_s@, last name Der_Score
    assert found(customer_query="hair") == [ids["pct"], ids["plain"]]
    assert found(customer_query="+49 30 333") == [ids["plain"]]  # spaces ignored for phones
    assert found(customer_query="U_S@EX") == [ids["under"]]
    assert found(customer_query="   ") == found()
    assert found(staff_ids=[salon.ben]) == [walk_in]
    assert found(statuses=["confirmed"]) == [ids["plain"]]
    assert found(statuses=["booked"], service_ids=[salon.cut], limit=2) == [ids["ada"], ids["pct"]]
    [row] = salon.read(load_bookings, customer_query="ada", **window)
    assert (row["customer_email"], row["customer_phone"]) == ("ada@ex.org", "+4915123456789")


def test_data_version_changes_on_writes_only(salon: Salon) -> None:
    empty = salon.read(load_data_version)
    appointment_id = salon.book(at(1, 10))
    booked = salon.read(load_data_version)
    assert booked != empty
    salon.read(load_calendar, start=at(0, 0), end=at(7, 0))
    salon.read(find_slots, service_id=salon.cut, now=NOW)
    assert salon.read(load_data_version) == booked
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=appointment_id, status="confirmed", now=NOW
    )
    confirmed = salon.read(load_data_version)
    assert confirmed != booked
    reschedule_appointment(
        salon.engine, actor=salon.owner, appointment_id=appointment_id, start=at(2, 10), now=NOW
    )
    assert salon.read(load_data_version) != confirmed


def test_load_schedules_busy_buffer_time_off_and_exclude(salon: Salon) -> None:
    appointment_id = salon.book(at(1, 10))
    salon.book(at(1, 12), service_id=salon.colour)  # no buffer
    cancelled = salon.book(at(1, 15))
    set_appointment_status(
        salon.engine, actor=salon.owner, appointment_id=cancelled, status="cancel", reason="x",
        now=NOW,
    )  # fmt: skip
    with write_tx(salon.engine) as conn:
        closure = TimeOffInput(start_local=MONDAY + timedelta(days=1, hours=16),
                               end_local=MONDAY + timedelta(days=1, hours=18))  # fmt: skip
        catalog.create_time_off(conn, actor=salon.owner, data=closure, timezone=TZ)
    window = {"start": at(1, 0), "end": at(2, 0)}
    anna, ben = salon.read(load_schedules, **window)
    assert (anna.staff_id, ben.staff_id) == (salon.anna, salon.ben)
    assert anna.busy == (Interval(at(1, 10), at(1, 11)), Interval(at(1, 12), at(1, 13, 30)))
    assert anna.time_off == ben.time_off == (Interval(at(1, 16), at(1, 18)),)
    assert anna.service_ids == {salon.cut, salon.colour} and ben.service_ids == {salon.cut}
    assert len(anna.shifts) == 6 and ben.busy == ()
    [only] = salon.read(
        load_schedules, exclude_appointment_id=appointment_id, staff_ids=[salon.anna], **window
    )
    assert only.busy == (Interval(at(1, 12), at(1, 13, 30)),)
    late = {"start": at(1, 10, 50), "end": at(1, 11, 30)}  # only the buffer reaches in
    assert salon.read(load_schedules, staff_ids=[salon.anna], **late)[0].busy == (
        Interval(at(1, 10), at(1, 11)),
    )


def test_find_slots(salon: Salon) -> None:
    salon.book(at(0, 9, 30))  # Anna busy 09:30-10:30
    slots = salon.read(find_slots, service_id=salon.cut, now=at(0, 8), limit=4)
    assert [(s.start, s.staff_id) for s in slots] == [
        (at(0, 9), salon.ben), (at(0, 9, 15), salon.ben),
        (at(0, 9, 30), salon.ben), (at(0, 9, 45), salon.ben),
    ]  # fmt: skip
    assert slots[0].end == at(0, 9, 45)
    anna = salon.read(find_slots, service_id=salon.cut, staff_id=salon.anna, now=at(0, 8))
    assert len(anna) == 10 and anna[0].start == at(0, 10, 30)
    later = salon.read(find_slots, service_id=salon.colour, after=at(4, 16), now=NOW, limit=2)
    assert [s.start for s in later] == [at(5, 9), at(5, 9, 15)]  # Fri 15:30 is the last start
    assert salon.read(find_slots, service_id=salon.cut, limit=0, now=NOW) == []


def test_find_slots_searches_far_enough(salon: Salon) -> None:
    with write_tx(salon.engine) as conn:
        for staff_id in (salon.anna, salon.ben):
            off = TimeOffInput(staff_id=staff_id, start_local=MONDAY,
                               end_local=MONDAY + timedelta(days=40))  # fmt: skip
            catalog.create_time_off(conn, actor=salon.owner, data=off, timezone=TZ)
    [slot] = salon.read(find_slots, service_id=salon.cut, now=NOW, limit=1)
    assert (slot.start, slot.staff_id) == (at(40, 9), salon.anna)  # a Saturday

"""Smart slot suggestions on the Calendar's New booking form through AppTest: a regular's
usual day, time and stylist come first, and "Use" pre-fills the form to book it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.catalog import create_service, create_staff, save_working_hours
from data.db import read_conn, write_tx
from data.schema import appointments
from scheduling.catalog import ServiceInput, Shift, StaffInput
from scheduling.timezones import local_today
from tests.app_pages.support import AppDb, open_app
from tests.factories import make_customer

TZ = "Europe/Berlin"  # the test business's zone


@dataclass(frozen=True)
class Salon:
    db: AppDb
    mara: int
    noor: int
    ada: int  # a regular: Noor, 15:00, on the weekday three days from today
    usual_day: date  # that weekday's next date


@pytest.fixture
def salon(app_db: AppDb) -> Salon:
    """Mara and Noor work every day 08:00-20:00 and offer one 45-minute cut."""
    owner = app_db.users[Role.OWNER].actor
    today = local_today(TZ)
    usual_day = today + timedelta(days=3)
    with write_tx(app_db.engine) as conn:
        cut = create_service(
            conn, actor=owner, data=ServiceInput(name="Cut", duration_min=45, price=40)
        )
        mara, noor = (
            create_staff(conn, actor=owner, data=StaffInput(display_name=who, service_ids=[cut]))
            for who in ("Mara", "Noor")
        )
        week = [Shift(weekday=d, start=time(8), end=time(20)) for d in range(7)]
        for staff_id in (mara, noor):
            save_working_hours(conn, actor=owner, staff_id=staff_id, shifts=week)
        ada = make_customer(conn, app_db.business_id, first_name="Ada")
        make_customer(conn, app_db.business_id, first_name="Bea")  # no visits
        for weeks_ago in range(1, 5):
            start = _local(usual_day - timedelta(weeks=weeks_ago), time(15))
            conn.execute(appointments.insert().values(
                business_id=app_db.business_id, staff_id=noor, service_id=cut, customer_id=ada,
                starts_at=start, ends_at=start + timedelta(minutes=45), status="completed",
                price_cents=4000, created_at=start, updated_at=start,
            ))  # fmt: skip
    return Salon(app_db, mara, noor, ada, usual_day)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def _new_booking_for(salon: Salon, first_name: str) -> AppTest:
    at = open_app(salon.db.users[Role.STAFF]).run()
    at.switch_page("app_pages/calendar.py").run()
    at.text_input(key="nb_customer_query").input(first_name).run()
    assert not at.exception, at.exception
    return at


def test_a_regular_sees_their_usual_slot_first_and_books_it(salon: Salon) -> None:
    at = _new_booking_for(salon, "Ada")
    texts = [m.value for m in at.markdown]
    assert "**Suggested for Ada**" in texts
    suggestions = [t for t in texts if " · " in t and ":gray[" in t]
    assert len(suggestions) == 5
    weekday = f"{salon.usual_day:%a %d %b}"
    assert suggestions[0].startswith(f"{weekday}, 15:00 · Noor")
    assert (
        f"Their usual day ({salon.usual_day:%A}) · Around their usual time (15:00) · "
        "With Noor, their usual stylist"
    ) in suggestions[0]
    days = [s.split(",")[0] for s in suggestions]
    assert max(days.count(day) for day in days) <= 2  # spread over days

    at.button(key="nb_suggest_0").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="nb_staff").value == salon.noor
    assert at.date_input(key="nb_after").value == salon.usual_day
    assert at.time_input(key="nb_after_time").value == time(15)
    slots = at.radio(key="nb_slot")
    assert slots.value == 0 and slots.options[0].startswith(f"{weekday} ")
    assert slots.options[0].endswith(", 15:00 · Noor")

    at.button(key="nb_book").click().run()
    assert not at.exception, at.exception
    with read_conn(salon.db.engine) as conn:
        booked = conn.execute(
            sa.select(appointments).where(appointments.c.status == "booked")
        ).one()
    assert (booked.staff_id, booked.customer_id) == (salon.noor, salon.ada)
    assert booked.starts_at == _local(salon.usual_day, time(15))


def test_a_new_customer_gets_the_quietest_hours_with_a_note(salon: Salon) -> None:
    at = _new_booking_for(salon, "Bea")
    texts = [m.value for m in at.markdown]
    assert "**Suggested for Bea**" in texts
    notes = [c.value for c in at.caption]
    assert "No completed visits yet: the quietest hours come first." in notes
    suggestions = [t for t in texts if " · " in t and ":gray[" in t]
    assert len(suggestions) == 5
    assert not any("usual" in s for s in suggestions)
    assert "Ada" not in " ".join(texts)


def test_no_customer_means_no_suggestions(salon: Salon) -> None:
    at = open_app(salon.db.users[Role.OWNER]).run()
    at.switch_page("app_pages/calendar.py").run()
    assert not at.exception, at.exception
    assert not [m for m in at.markdown if m.value.startswith("**Suggested for")]
    assert not [b for b in at.button if b.key and b.key.startswith("nb_suggest_")]

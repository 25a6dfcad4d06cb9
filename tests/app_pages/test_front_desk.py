"""Calendar and Bookings pages through AppTest: booking, actions, bulk changes, role gates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from auth.roles import Role
from data.catalog import create_service, create_staff, save_working_hours
from data.db import read_conn, write_tx
from data.schema import appointments, audit_log
from scheduling.catalog import ServiceInput, Shift, StaffInput
from tests.app_pages.support import AppDb, open_app

FRONT_DESK = ["app_pages/calendar.py", "app_pages/bookings.py"]


@pytest.fixture
def salon(app_db: AppDb) -> AppDb:
    """One stylist working every day 08:00-20:00 who offers one 45-minute service."""
    owner = app_db.users[Role.OWNER].actor
    with write_tx(app_db.engine) as conn:
        service_id = create_service(
            conn,
            actor=owner,
            data=ServiceInput(name="Cut", duration_min=45, buffer_min=15, price=40),
        )
        staff_id = create_staff(
            conn, actor=owner, data=StaffInput(display_name="Mara", service_ids=[service_id])
        )
        week = [Shift(weekday=d, start=time(8), end=time(20)) for d in range(7)]
        save_working_hours(conn, actor=owner, staff_id=staff_id, shifts=week)
    return app_db


def _booked(db: AppDb) -> list[sa.Row]:
    with read_conn(db.engine) as conn:
        return list(conn.execute(sa.select(appointments).order_by(appointments.c.id)))


@pytest.mark.parametrize("path", FRONT_DESK)
def test_analysts_may_not_open_front_desk_pages(salon: AppDb, path: str) -> None:
    at = open_app(salon.users[Role.ANALYST], page=path).run()
    assert not at.exception
    assert "Your role (analyst) may not open this page." in [e.value for e in at.error]
    assert not at.button  # nothing to change anything with


@pytest.mark.parametrize("role", [Role.OWNER, Role.STAFF], ids=lambda r: r.value)
def test_staff_books_the_first_free_slot_from_the_calendar(salon: AppDb, role: Role) -> None:
    at = open_app(salon.users[role]).run()
    at.switch_page("app_pages/calendar.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Calendar"
    slots = at.radio(key="nb_slot")
    assert len(slots.options) == 10
    at.button(key="nb_book").click().run()
    assert not at.exception
    assert any(s.value.startswith("Booked ") for s in at.success)  # shown after the rerun
    [row] = _booked(salon)
    assert (row.status, row.price_cents, row.source) == ("booked", 4000, "staff")
    assert row.starts_at > datetime.now(UTC) + timedelta(minutes=59)  # minimum notice


def test_appointment_actions_on_the_bookings_page(salon: AppDb) -> None:
    at = open_app(salon.users[Role.STAFF]).run()
    at.switch_page("app_pages/calendar.py").run()
    at.button(key="nb_book").click().run()
    [row] = _booked(salon)

    at.switch_page("app_pages/bookings.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["Service"].tolist() == ["Cut"] and table["Status"].tolist() == ["Booked"]

    # Cancel through the bulk form: it needs the confirmation tick and a reason.
    at.session_state["bk_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.selectbox(key="bk_new_status").select("cancelled")
    at.button(key="FormSubmitter:bk_bulk-Apply").click().run()
    assert "Tick the confirmation box first." in [e.value for e in at.error]
    at.checkbox(key="bk_confirm").check()
    at.text_input(key="bk_reason").input("Customer called")
    at.button(key="FormSubmitter:bk_bulk-Apply").click().run()
    assert not at.exception
    [after] = _booked(salon)
    assert (after.id, after.status, after.cancellation_reason) == (
        row.id,
        "cancelled",
        "Customer called",
    )
    with read_conn(salon.engine) as conn:
        actions = (
            conn.execute(sa.select(audit_log.c.action).where(audit_log.c.entity == "appointments"))
            .scalars()
            .all()
        )
    assert len(actions) == 2  # booked, then cancelled

"""A staff member finds a free slot, books it, reschedules it and cancels it in Chromium,
and the calendar shows each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from auth.roles import Actor, Role
from bench.streamlit_server import chromium_page, run_streamlit
from data.bookings import find_slots
from data.customers import create_customer
from data.db import make_engine, read_conn, write_tx
from data.demo import DEMO_ACCOUNTS, DEMO_SLUG
from data.schema import appointments, businesses
from scheduling.catalog import to_local
from scheduling.customers import CustomerInput
from tests.browser.support import BROWSER, seed_demo_database, sign_in

pytestmark = BROWSER
CALENDAR = 'iframe[title="streamlit_calendar.calendar"]:visible'  # a stale one may linger
TZ = "Europe/Berlin"


@pytest.fixture(scope="module")
def salon(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, sa.Engine, Actor]:
    url = seed_demo_database(tmp_path_factory.mktemp("flow"))
    engine = make_engine(url)
    with write_tx(engine) as conn:
        business_id = conn.execute(
            sa.select(businesses.c.id).where(businesses.c.slug == DEMO_SLUG)
        ).scalar_one()
        actor = Actor.operator(business_id=business_id)
        create_customer(
            conn, actor=actor, data=CustomerInput(first_name="Quentin", last_name="Flowtest")
        )
    return url, engine, actor


def _latest(engine: sa.Engine) -> sa.Row:
    with read_conn(engine) as conn:
        return conn.execute(
            sa.select(appointments).order_by(appointments.c.updated_at.desc())
        ).first()


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished rerunning (a rerun may replace the calendar)."""
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=30_000)
    page.wait_for_timeout(1000)


def _set_date(page, label: str, day) -> None:  # type: ignore[no-untyped-def]
    """Type a date into a Streamlit date input (react-aria segments: year, month, day)."""
    box = page.locator('[data-testid="stDateInput"]').filter(
        has=page.get_by_text(label, exact=True)
    )
    value = box.locator('input[type="date"]')
    if value.input_value() == day.isoformat():
        return
    box.get_by_role("spinbutton", name=f"year, {label}").click()
    page.keyboard.type(f"{day:%Y%m%d}", delay=50)
    page.keyboard.press("Tab")
    _settle(page)
    assert value.input_value() == day.isoformat()


def _wait_for_event(page, text: str, *, present: bool = True) -> None:  # type: ignore[no-untyped-def]
    event = page.frame_locator(CALENDAR).locator(".fc-event", has_text=text)
    if present:
        event.first.wait_for(timeout=30_000)
    else:
        page.wait_for_function("1", timeout=1000)
        for _ in range(60):
            if event.count() == 0:
                return
            page.wait_for_timeout(500)
        raise AssertionError(f"calendar still shows {text!r}")


def test_staff_books_reschedules_and_cancels(salon: tuple[str, sa.Engine, Actor]) -> None:
    url, engine, operator = salon
    staff = next(a for a in DEMO_ACCOUNTS if a.role == Role.STAFF)
    with run_streamlit(url) as base, chromium_page() as page:
        sign_in(page, base, staff)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Calendar", exact=True).click()
        page.locator("h1", has_text="Calendar").wait_for(timeout=30_000)

        # 1. Find a free slot and book it for a customer.
        _settle(page)
        page.get_by_text("New booking").click()
        page.get_by_label("Customer (name, phone or e-mail)").wait_for(timeout=30_000)
        page.get_by_label("Customer (name, phone or e-mail)").fill("Flowtest")
        page.keyboard.press("Enter")
        page.get_by_text("Matches", exact=True).wait_for(timeout=30_000)
        page.get_by_role("button", name="Book", exact=True).click()
        page.get_by_text("Booked ").first.wait_for(timeout=30_000)
        _settle(page)
        booked = _latest(engine)
        assert booked.status == "booked" and booked.starts_at > datetime.now(UTC)
        assert booked.customer_id is not None, "booked as a walk-in"
        start = to_local(booked.starts_at, TZ)
        _set_date(page, "Date", start.date())
        _wait_for_event(page, f"{start:%H:%M}")
        _wait_for_event(page, "Quentin Flowtest")

        # 2. Open it from the calendar and move it to a later free slot of the same stylist.
        page.frame_locator(CALENDAR).locator(".fc-event", has_text="Quentin Flowtest").first.click()
        page.get_by_role("button", name="Reschedule").wait_for(timeout=30_000)
        with read_conn(engine) as conn:
            later = find_slots(
                conn, actor=operator, service_id=booked.service_id, staff_id=booked.staff_id,
                after=booked.ends_at + timedelta(hours=2), limit=1,
            )[0]  # fmt: skip
        new_local = to_local(later.start, TZ)
        _set_date(page, "New date", new_local.date())
        page.get_by_role("spinbutton", name="hour, New time").click()
        page.keyboard.type(f"{new_local:%H%M}", delay=50)
        page.keyboard.press("Tab")
        page.get_by_role("button", name="Reschedule").click()
        page.get_by_text("Moved to").first.wait_for(timeout=30_000)
        _settle(page)
        moved = _latest(engine)
        assert (moved.id, moved.starts_at) == (booked.id, later.start)
        _set_date(page, "Date", new_local.date())
        _wait_for_event(page, f"{new_local:%H:%M}")

        # 3. Cancel it with a reason: it leaves the calendar.
        page.get_by_label("Reason for cancelling").fill("Customer is ill")
        page.get_by_role("button", name="Cancel appointment").click()
        page.get_by_text("Appointment cancelled.").first.wait_for(timeout=30_000)
        cancelled = _latest(engine)
        assert (cancelled.id, cancelled.status) == (booked.id, "cancelled")
        assert cancelled.cancellation_reason == "Customer is ill"
        _wait_for_event(page, "Quentin Flowtest", present=False)
        page.screenshot(path=str(Path(url.removeprefix("sqlite:///")).with_suffix(".png")))

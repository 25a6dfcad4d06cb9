"""The demo staff member previews and sends reminders from Notifications, in real Chromium,
and the outbox (on the page and in the database) shows them sent by the console."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from auth.roles import Actor
from bench.streamlit_server import chromium_page, run_streamlit
from data.db import make_engine, read_conn
from data.demo import DEMO_ACCOUNTS, DEMO_SLUG
from data.reminders import load_reminder_inputs
from data.schema import businesses, notifications
from notifications.planning import UPCOMING_STATUSES
from scheduling.timezones import local_day_bounds, local_today
from tests.browser.support import BROWSER, seed_demo_database, sign_in

pytestmark = BROWSER
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
TZ = "Europe/Berlin"  # the demo salon's zone
N = notifications.c


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_demo_database(tmp_path_factory.mktemp("notify"))


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait for the rerun to finish; no error box or traceback on the page."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    page.get_by_text("Running...").wait_for(state="hidden", timeout=30_000)
    assert page.locator(ERRORS).count() == 0
    assert "Traceback" not in page.inner_text("body")


def _first_upcoming(url: str) -> tuple[date, str, str]:
    """From tomorrow on, the first local day with upcoming appointments, and the first
    one's customer first name and local "HH:MM" (what the preview shows)."""
    engine = make_engine(url)
    try:
        with read_conn(engine) as conn:
            business_id = conn.execute(
                sa.select(businesses.c.id).where(businesses.c.slug == DEMO_SLUG)
            ).scalar_one()
            actor = Actor.operator(business_id=business_id)
            for ahead in range(1, 8):
                day = local_today(TZ) + timedelta(days=ahead)
                start, end = local_day_bounds(day, TZ)
                inputs = load_reminder_inputs(conn, actor=actor, start=start, end=end)
                upcoming = [a for a in inputs.appointments if a["status"] in UPCOMING_STATUSES]
                if upcoming:
                    first = upcoming[0]
                    name = inputs.customers[first["customer_id"]]["first_name"]
                    local = first["starts_at"].astimezone(ZoneInfo(TZ)).strftime("%H:%M")
                    return day, name, local
    finally:
        engine.dispose()
    raise AssertionError("the demo has no upcoming appointment in the next week")


def _set_range(page, day: date) -> None:  # type: ignore[no-untyped-def]
    """Type `day` into both ends of the "Appointments on" range input (react-aria
    segments: year, month, day); the end first, so the range stays valid (day > tomorrow)."""
    box = page.locator('[data-testid="stDateInput"]').filter(
        has=page.get_by_text("Appointments on", exact=True)
    )
    for end in ("end", "start"):
        box.get_by_role("spinbutton", name=f"year, Appointments on {end} date").click()
        page.keyboard.type(f"{day:%Y%m%d}", delay=50)
    page.locator("h1").filter(has_text="Notifications").first.click()  # blur: commit
    _settle(page)
    values = box.locator('input[type="date"]')
    assert [values.nth(i).input_value() for i in range(2)] == [day.isoformat()] * 2


def _metric(page, label: str) -> int:  # type: ignore[no-untyped-def]
    label_box = page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    metric = page.locator('[data-testid="stMetric"]').filter(has=label_box).first
    value = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(value.replace(",", ""))


def _manual_rows(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        with read_conn(engine) as conn:
            query = sa.select(N.status, N.provider).where(N.idempotency_key.like("b1:m%"))
            return [(row.status, row.provider) for row in conn.execute(query)]
    finally:
        engine.dispose()


def test_staff_previews_and_sends_reminders(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "1000")  # run_streamlit passes os.environ on
    monkeypatch.setenv("QUIET_HOURS_START", "00:00")  # start == end: no quiet hours, so
    monkeypatch.setenv("QUIET_HOURS_END", "00:00")  # the flow does not depend on the clock
    day, name, local_time = _first_upcoming(demo_url)
    staff = next(a for a in DEMO_ACCOUNTS if a.role == "staff")
    with run_streamlit(demo_url) as base, chromium_page() as page:
        sign_in(page, base, staff)
        page.locator('[data-testid="stSidebarNav"]').get_by_text(
            "Notifications", exact=True
        ).click()
        page.locator("h1").filter(has_text="Notifications").first.wait_for(timeout=30_000)
        page.get_by_text("will be sent").first.wait_for(timeout=90_000)
        _settle(page)
        if day != local_today(TZ) + timedelta(days=1):  # tomorrow is closed: the next open day
            _set_range(page, day)
        preview = page.locator('[data-testid="stText"]').first
        expect(preview).to_contain_text(f"Hi {name},", timeout=30_000)  # after a rerun
        expect(preview).to_contain_text(f"at {local_time}.")
        counts = page.get_by_text(re.compile(r"\d+ will be sent")).first.inner_text()
        planned = int(counts.split()[0])
        assert planned > 0
        sent_before = _metric(page, "Sent")

        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_text(re.compile(rf"^{planned} messages queued")).wait_for(timeout=60_000)
        _settle(page)
        assert _metric(page, "Sent") == sent_before + planned
        assert page.get_by_text(re.compile(r"^0 will be sent")).count() == 1  # keys taken
        assert page.get_by_role("button", name="Send", exact=True).is_disabled()
    assert _manual_rows(demo_url) == [("sent", "console")] * planned

"""The demo owner signs in and opens every page in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.streamlit_server import chromium_page, run_streamlit
from data.demo import DEMO_ACCOUNTS
from tests.browser.support import BROWSER, seed_demo_database, sign_in

pytestmark = BROWSER

OWNER_PAGES = ["Home", "My account", "Overview", "Exports", "Calendar", "Bookings", "Customers",
               "Business settings", "Team & services", "Import", "Accounts & roles", "Audit log",
               "Team usage", "Health"]  # fmt: skip
ERROR_SELECTORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_demo_database(tmp_path_factory.mktemp("browser"))


def _assert_no_errors(page, where: str) -> None:  # type: ignore[no-untyped-def]
    assert page.locator(ERROR_SELECTORS).count() == 0, f"error shown on {where}"
    assert "Traceback" not in page.inner_text("body"), f"traceback on {where}"


def test_demo_owner_signs_in_and_opens_every_page(demo_url: str) -> None:
    owner = next(a for a in DEMO_ACCOUNTS if a.role == "owner")
    with run_streamlit(demo_url) as base, chromium_page() as page:
        page.goto(base, wait_until="networkidle")
        page.get_by_text(owner.email).first.wait_for(timeout=30_000)  # demo sign-ins listed
        sign_in(page, base, owner)
        for title in OWNER_PAGES:
            page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            heading = "Salon" if title == "Home" else title  # Home is titled with the business
            page.locator("h1").filter(has_text=heading).first.wait_for(timeout=30_000)
            page.wait_for_load_state("networkidle")
            page.get_by_text("Running...").wait_for(state="hidden", timeout=30_000)
            _assert_no_errors(page, title)
        page.screenshot(path=str(Path(demo_url.removeprefix("sqlite:///")).with_suffix(".png")))

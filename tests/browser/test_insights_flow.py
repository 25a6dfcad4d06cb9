"""The demo analyst reads the Overview and downloads an Excel export, in real Chromium."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from bench.streamlit_server import chromium_page, run_streamlit
from data.demo import DEMO_ACCOUNTS
from tests.browser.support import BROWSER, seed_demo_database, sign_in

pytestmark = BROWSER
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_demo_database(tmp_path_factory.mktemp("insights"))


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    page.get_by_text("Running...").wait_for(state="hidden", timeout=30_000)
    assert page.locator(ERRORS).count() == 0
    assert "Traceback" not in page.inner_text("body")


def test_analyst_reads_the_overview_and_exports_excel(demo_url: str, tmp_path: Path) -> None:
    analyst = next(a for a in DEMO_ACCOUNTS if a.role == "analyst")
    with run_streamlit(demo_url) as base, chromium_page() as page:
        sign_in(page, base, analyst)
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.get_by_text("Calendar", exact=True).count() == 0  # not the front desk
        nav.get_by_text("Overview", exact=True).click()
        page.locator("h1").filter(has_text="Overview").first.wait_for(timeout=30_000)
        _settle(page)
        metrics = page.locator('[data-testid="stMetric"]')
        metrics.first.wait_for(timeout=30_000)
        assert metrics.count() == 12
        assert "Utilization" in page.inner_text("body")
        charts = page.locator('[data-testid="stPlotlyChart"]')
        charts.first.wait_for(timeout=30_000)
        assert charts.count() >= 4  # trend, heatmap, leaderboards, cohorts...

        nav.get_by_text("Exports", exact=True).click()
        page.locator("h1").filter(has_text="Exports").first.wait_for(timeout=30_000)
        _settle(page)
        page.get_by_text("Excel", exact=True).click()
        _settle(page)
        page.get_by_role("button", name="Prepare export").click()
        download_button = page.get_by_role("button", name="Download")
        download_button.wait_for(timeout=60_000)
        with page.expect_download(timeout=60_000) as info:
            download_button.click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
    book = openpyxl.load_workbook(target, read_only=True)
    sheet = book[book.sheetnames[0]]
    header, *rows = sheet.iter_rows(values_only=True)
    assert "status" in header and "customer_id" in header
    assert "email" not in header and "phone" not in header  # no contact details by default
    assert rows and all(row[header.index("status")] for row in rows)

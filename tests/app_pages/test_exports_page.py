"""The Exports page through AppTest: roles, each format, contact details, empty states."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.db import read_conn, write_tx
from data.schema import analytics_events, audit_log
from tests.app_pages.support import AppDb, open_app
from tests.data.test_exports import Salon, seed_salon

PAGE = "app_pages/exports.py"
DST_WEEKEND = (date(2026, 3, 28), date(2026, 3, 29))


@pytest.fixture
def salon(app_db: AppDb) -> Salon:
    with write_tx(app_db.engine) as conn:
        return seed_salon(conn, app_db.business_id)


def _open(db: AppDb, role: Role) -> AppTest:
    at = open_app(db.users[role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


def _prepare(
    at: AppTest,
    *,
    fmt: str,
    tables: list[str] | None = None,
    contacts: bool = False,
    period: tuple[date, date] = DST_WEEKEND,
) -> AppTest:
    at.date_input(key="ex_dates").set_value(period)
    at.radio(key="ex_format").set_value(fmt)
    at.run()
    if tables is not None:
        at.multiselect(key="ex_tables").set_value(tables)
        at.run()
    if contacts:
        at.checkbox(key="ex_contacts").check()
        at.run()
    at.button(key="ex_prepare").click()
    at.run()
    assert not at.exception, at.exception
    return at


def _file(at: AppTest) -> tuple[bytes, object]:
    _request, data, result = at.session_state["ex_prepared"]
    assert len(at.get("download_button")) == 1
    return data, result


def _count(db: AppDb, table: sa.Table, *where: object) -> int:
    with read_conn(db.engine) as conn:
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


def test_staff_is_refused(app_db: AppDb) -> None:
    at = _open(app_db, Role.STAFF)
    assert "may not open this page" in at.error[0].value
    assert not at.button and not at.title


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST], ids=lambda r: r.value)
def test_defaults_and_empty_state(app_db: AppDb, salon: Salon, role: Role) -> None:
    at = _open(app_db, role)
    assert [t.value for t in at.title] == ["Exports"]
    assert at.multiselect(key="ex_tables").value == ["bookings"]
    start, end = at.date_input(key="ex_dates").value
    assert (end - start).days == 29  # the last 30 days, like the Overview
    at.button(key="ex_prepare").click()
    at.run()
    assert not at.exception
    assert any("no rows to export" in info.value for info in at.info)
    assert not at.get("download_button") and "ex_prepared" not in at.session_state


def test_analyst_exports_csv_zip_with_contacts_audited(app_db: AppDb, salon: Salon) -> None:
    at = _open(app_db, Role.ANALYST)
    at = _prepare(at, fmt="csv", tables=["bookings", "customers"], contacts=True)
    assert any("audit log" in w.value for w in at.warning)
    data, result = _file(at)
    assert result.rows == {"bookings": 4, "customers": 2}  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        bookings = pd.read_csv(archive.open("bookings.csv"))
        people = pd.read_csv(archive.open("customers.csv"))
    assert bookings["starts_at_local"].tolist()[0] == "2026-03-28 23:30:00"
    assert bookings["service"].tolist()[-1] == '\'=HYPERLINK("http://x")'
    assert people["first_name"].tolist() == ["Regina", "Otto"]
    analyst_id = app_db.users[Role.ANALYST].account_id
    assert _count(app_db, audit_log, audit_log.c.action == "export",
                  audit_log.c.account_id == analyst_id) == 1  # fmt: skip
    assert _count(app_db, analytics_events, analytics_events.c.event_type == "export") == 1


def test_owner_exports_excel_with_formulas_neutralised(app_db: AppDb, salon: Salon) -> None:
    at = _prepare(_open(app_db, Role.OWNER), fmt="xlsx", tables=["bookings", "customers"])
    data, result = _file(at)
    assert result.filename.endswith(".xlsx")  # type: ignore[attr-defined]
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["bookings", "customers"]
    rows = list(book["bookings"].iter_rows(values_only=True))
    header = rows[0]
    assert rows[4][header.index("service")] == '\'=HYPERLINK("http://x")'
    assert rows[1][header.index("starts_at_local")].isoformat() == "2026-03-28T23:30:00"
    assert "email" not in list(book["customers"].iter_rows(values_only=True))[0]
    assert _count(app_db, audit_log, audit_log.c.action == "export") == 0  # no contacts


def test_parquet_and_html_report(app_db: AppDb, salon: Salon) -> None:
    at = _prepare(_open(app_db, Role.ANALYST), fmt="parquet", tables=["bookings"])
    data, _ = _file(at)
    assert pd.read_parquet(io.BytesIO(data))["price"].tolist() == [45.0, 45.0, 45.0, 60.0]
    at = _prepare(at, fmt="html")
    data, result = _file(at)
    assert result.filename.endswith(".html")  # type: ignore[attr-defined]
    page = data.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Test Salon Mitte" in page


def test_filters_limit_the_rows(app_db: AppDb, salon: Salon) -> None:
    at = _open(app_db, Role.ANALYST)
    at.multiselect(key="ex_staff").set_value([salon.ben])
    at = _prepare(at, fmt="csv")
    data, result = _file(at)
    assert result.rows == {"bookings": 1}  # type: ignore[attr-defined]
    assert pd.read_csv(io.BytesIO(data))["staff"].tolist() == ["Ben"]


def test_bad_ranges_say_why(app_db: AppDb) -> None:
    at = _open(app_db, Role.ANALYST)
    at.date_input(key="ex_dates").set_value((date(2026, 3, 29), date(2026, 3, 1)))
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The range ends (01 Mar 2026) before it starts (29 Mar 2026)."
    ]
    assert not at.button  # nothing to prepare

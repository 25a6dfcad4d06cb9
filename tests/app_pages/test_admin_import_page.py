"""The Import page through AppTest: upload, map, dry run, import; owners only.

Files go in through AppTest's own file_uploader support (`set_value`), so the page needs
no test seam. The business is the fixture's Berlin salon, which fits the European sample.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.db import read_conn
from data.schema import appointments, customers, staff
from tests.app_pages.support import AppDb, open_app

PAGE = "app_pages/admin_import.py"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"
VISITS = (EXAMPLES / "eu_visits.csv").read_bytes()
MAPPING = (EXAMPLES / "eu_visits.toml").read_bytes()


def _count(db: AppDb, table: sa.Table) -> int:
    with read_conn(db.engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _page(db: AppDb) -> AppTest:
    at = open_app(db.users[Role.OWNER], page=PAGE).run()
    assert not at.exception and at.title[0].value == "Import"
    return at


def _upload(at: AppTest, csv: bytes, mapping: bytes | None = None) -> AppTest:
    at.file_uploader(key="import_file").set_value(("visits.csv", csv, "text/csv"))
    if mapping is not None:
        at.file_uploader(key="import_mapping_file").set_value(
            ("visits.toml", mapping, "text/plain")
        )
    return at.run()


def test_dry_run_lists_the_bad_rows_and_writes_nothing(app_db: AppDb) -> None:
    bad = VISITS.replace(b"05.11.2026;S", b"35.11.2026;S").replace(b";145,00;", b";-145,00;")
    at = _upload(_page(app_db), bad, MAPPING)
    assert not at.exception and not at.error
    preview = at.dataframe[0].value
    assert list(preview.columns)[:2] == ["1. Datum", "2. Kunde"] and len(preview) == 7
    at.button(key="import_dry_run").click().run()
    assert not at.exception
    errors = at.dataframe[1].value  # after the preview
    assert errors.to_dict("records") == [
        {"Row": 7, "Column": "Datum",
         "Reason": "'35.11.2026' does not match the date format %d.%m.%Y (e.g. 31.05.2026)"},
        {"Row": 7, "Column": "Betrag",
         "Reason": "'-145,00' is negative; a price must be 0 or more"},
    ]  # fmt: skip
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Would create: appointments"] == "6" and metrics["Rejected rows"] == "1"
    assert "dry run: nothing written" in at.warning[0].value
    assert _count(app_db, appointments) == 0


def test_owner_maps_the_columns_on_the_page_and_imports(app_db: AppDb) -> None:
    at = _upload(_page(app_db), VISITS)
    assert "not utf-8-sig text" in at.error[0].value  # until the encoding is chosen
    at.selectbox(key="import_encoding").select("cp1252").run()
    assert not at.error
    for field, column in {"date": "Datum", "customer_name": "Kunde", "phone": "Telefon",
                          "price": "Betrag", "notes": "Bemerkung"}.items():  # fmt: skip
        at.selectbox(key=f"import_col_appointments_{field}").select(column)
    assert at.selectbox(key="import_col_appointments_email").value == "E-Mail"  # suggested
    at.selectbox(key="import_date_format").select("%d.%m.%Y")
    at.button(key="import_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "visits.csv: imported." in at.success[0].value
    assert _count(app_db, appointments) == 7 and _count(app_db, customers) == 5
    with read_conn(app_db.engine) as conn:
        assert conn.execute(sa.select(staff.c.display_name)).scalars().all() == ["Unassigned"]
    at.button(key="import_run").click().run()  # the same file again
    assert {m.label: m.value for m in at.metric}["Skipped: already imported"] == "7"
    assert _count(app_db, appointments) == 7


def test_a_mapping_for_the_wrong_kind_is_explained(app_db: AppDb) -> None:
    at = _upload(_page(app_db), VISITS, MAPPING)
    at.radio(key="import_kind").set_value("customers").run()
    at.button(key="import_dry_run").click().run()
    assert not at.exception
    assert "this mapping imports appointments, not customers" in at.error[0].value


@pytest.mark.parametrize("role", [Role.STAFF, Role.ANALYST], ids=lambda r: r.value)
def test_only_owners_open_the_page(app_db: AppDb, role: Role) -> None:
    at = open_app(app_db.users[role], page=PAGE).run()
    assert not at.exception
    assert f"Your role ({role.value}) may not open this page." in [e.value for e in at.error]
    assert len(at.title) == 0 and len(at.file_uploader) == 0

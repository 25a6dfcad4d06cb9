"""`python cli.py export` and `python cli.py kpis`, in-process through Typer's runner."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from data.business import load_business_by_slug
from data.db import make_engine, read_conn, write_tx
from data.schema import analytics_events, audit_log
from tests.data.test_exports import Salon, seed_salon

runner = CliRunner()
WEEKEND = ["--start", "2026-03-28", "--end", "2026-03-29", "--business", "mitte"]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Salon]:
    """A migrated database with the DST-weekend salon (slug `mitte`) and another business."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for args in (
        ["migrate"],
        ["business", "create", "--name", "Salon Mitte", "--slug", "mitte",
         "--timezone", "Europe/Berlin", "--country", "DE", "--currency", "EUR"],
    ):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with write_tx(engine) as conn:
        business = load_business_by_slug(conn, slug="mitte")
        assert business is not None
        salon = seed_salon(conn, business["id"])
    engine.dispose()
    return url, salon


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _rows(url: str, table: sa.Table, *where: object) -> list[dict]:
    engine = make_engine(url)
    with read_conn(engine) as conn:
        rows = [dict(r) for r in conn.execute(sa.select(table).where(*where)).mappings()]
    engine.dispose()
    return rows


def test_export_csv_tables_as_a_zip(db: tuple[str, Salon], tmp_path: Path) -> None:
    url, _ = db
    target = tmp_path / "weekend.zip"
    out = _ok("export", *WEEKEND, "--tables", "bookings,customers", "--output", str(target))
    assert "bookings 4 rows" in out and "customers 2 rows" in out
    with zipfile.ZipFile(target) as archive:
        bookings = pd.read_csv(archive.open("bookings.csv"))
        people = pd.read_csv(archive.open("customers.csv"))
    assert bookings["starts_at_local"].tolist()[:2] == [
        "2026-03-28 23:30:00",
        "2026-03-29 01:30:00",
    ]
    assert bookings["service"].tolist()[-1] == '\'=HYPERLINK("http://x")'
    assert "email" not in people.columns
    assert not list(tmp_path.glob(".*.part"))  # no partial file left behind
    (event,) = _rows(url, analytics_events)
    assert event["event_data"]["source"] == "cli" and event["event_data"]["rows"] == 6
    assert _rows(url, audit_log, audit_log.c.action == "export") == []


def test_export_xlsx_with_contacts_is_audited(db: tuple[str, Salon], tmp_path: Path) -> None:
    url, _ = db
    target = tmp_path / "people.xlsx"
    _ok("export", *WEEKEND, "--tables", "customers,kpis", "--format", "xlsx",
        "--include-contacts", "--output", str(target))  # fmt: skip
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["customers", "kpis"]
    header, first = list(book["customers"].iter_rows(values_only=True))[:2]
    assert first[header.index("email")] == "regina@example.com"
    kpis = {row[0]: row for row in book["kpis"].iter_rows(min_row=2, values_only=True)}
    assert kpis["bookings"][2] == 4 and kpis["revenue"][2] == 90.0  # major units
    (entry,) = _rows(url, audit_log, audit_log.c.action == "export")
    assert entry["actor"] == "cli" and entry["diff"]["rows"] == [None, 2]


def test_export_parquet_with_a_staff_filter_and_html(db: tuple[str, Salon], tmp_path: Path) -> None:
    _, salon = db
    target = tmp_path / "ben.parquet"
    _ok("export", *WEEKEND, "--format", "parquet", "--staff", str(salon.ben), "-o", str(target))
    frame = pd.read_parquet(target)
    assert frame["staff"].tolist() == ["Ben"] and frame["status"].tolist() == ["no_show"]
    report = tmp_path / "report.html"
    _ok("export", *WEEKEND, "--format", "html", "-o", str(report))
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_kpis_json_and_table(db: tuple[str, Salon]) -> None:
    document = json.loads(_ok("kpis", *WEEKEND, "--json"))
    assert (document["start"], document["end"], document["currency"]) == (
        "2026-03-28", "2026-03-29", "EUR",
    )  # fmt: skip
    kpis = {row["key"]: row for row in document["kpis"]}
    assert list(kpis)[:3] == ["bookings", "completed", "revenue"]
    assert set(kpis["bookings"]) == {"key", "label", "value", "previous", "change", "unit"}
    assert kpis["bookings"]["value"] == 4 and kpis["completed"]["value"] == 2
    assert kpis["revenue"]["value"] == 90.0 and kpis["revenue"]["unit"] == "money"
    assert kpis["bookings"]["previous"] == 1  # Friday 27 March, 23:59 local
    table = _ok("kpis", *WEEKEND)
    assert "Bookings" in table and "€90.00" in table and "Previous period" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--start", "28.03.2026", "--end", "2026-03-29", "-o", "x.csv"],
         "--start must be a date like"),
        (["export", "--start", "2026-03-29", "--end", "2026-03-01", "-o", "x.csv"],
         "before it starts"),
        (["export", *WEEKEND, "--tables", "bookings,secrets", "-o", "x.zip"],
         "Unknown table 'secrets'"),
        (["export", *WEEKEND, "--format", "pdf", "-o", "x.pdf"], "Unknown format 'pdf'"),
        (["export", *WEEKEND, "--tables", "bookings,customers", "-o", "x.csv"], ".zip file"),
        (["export", *WEEKEND, "--staff", "999", "-o", "x.csv"], "no staff member with id 999"),
        (["export", "--start", "2025-01-01", "--end", "2025-01-31", "--business", "mitte",
          "-o", "x.csv"], "no rows to export"),
        (["kpis", "--start", "2026-03-28", "--end", "nope"], "--end must be a date like"),
        (["kpis", *WEEKEND, "--service", "999"], "no service with id 999"),
        (["kpis", "--start", "2025-01-01", "--end", "2025-01-31", "--business", "mitte"],
         "No bookings in"),
        (["kpis", "--start", "2026-03-28", "--end", "2026-03-29"], "--business"),
    ],
)  # fmt: skip
def test_errors_exit_1_with_one_line(
    db: tuple[str, Salon], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: list[str], message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert message.lower() in result.output.lower()
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not list(tmp_path.glob("x.*"))  # nothing written

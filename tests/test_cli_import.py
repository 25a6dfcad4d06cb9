"""`python cli.py import appointments|customers`, in-process through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from data.db import make_engine, read_conn
from data.schema import appointments, customers

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "import"
US = ["--mapping", str(EXAMPLES / "us_appointments.toml")]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database with a US salon and a Berlin one."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for args in (
        ["migrate"],
        ["business", "create", "--name", "Uptown Hair", "--slug", "uptown",
         "--timezone", "America/New_York", "--country", "US", "--currency", "USD"],
        ["business", "create", "--name", "Salon Mitte", "--slug", "mitte",
         "--timezone", "Europe/Berlin", "--country", "DE", "--currency", "EUR"],
    ):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return url


def _count(url: str, table: sa.Table) -> int:
    engine = make_engine(url)
    with read_conn(engine) as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return int(count)


def _import(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["import", *args])
    return result.exit_code, result.stdout


def test_customers_then_appointments_with_a_summary(db_url: str) -> None:
    code, out = _import(
        "customers", str(EXAMPLES / "us_customers.csv"),
        "--mapping", str(EXAMPLES / "us_customers.json"), "--business", "uptown",
    )  # fmt: skip
    assert code == 0, out
    assert "us_customers.csv: 6 rows read" in out
    assert "created: 0 appointments, 6 customers, 0 staff, 0 services" in out
    code, out = _import("appointments", str(EXAMPLES / "us_appointments.csv"), *US,
                        "--business", "uptown", "--dry-run")  # fmt: skip
    assert code == 0, out
    assert "would create: 12 appointments, 2 customers, 3 staff, 5 services" in out
    assert "dry run: nothing written" in out
    assert _count(db_url, appointments) == 0
    code, out = _import("appointments", str(EXAMPLES / "us_appointments.csv"), *US,
                        "--business", "uptown")  # fmt: skip
    assert code == 0 and "created: 12 appointments" in out
    code, out = _import("appointments", str(EXAMPLES / "us_appointments.csv"), *US,
                        "--business", "uptown")  # fmt: skip
    assert code == 0 and "skipped duplicates (already imported): 12" in out
    assert _count(db_url, appointments) == 12 and _count(db_url, customers) == 8


def test_json_report_and_exit_codes(db_url: str, tmp_path: Path) -> None:
    lines = (EXAMPLES / "us_appointments.csv").read_text().splitlines()
    lines[3] = lines[3].replace("10/05/2026", "13/45/2026")  # row 4: no such date
    lines[5] = lines[5].replace(",No,", ",Maybe,")  # row 6: unknown status
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    code, out = _import("appointments", str(bad), *US, "--business", "uptown", "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["committed"], report["rejected_rows"]) == (False, False, 2)
    assert report["would_create"]["appointments"] == 10
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "Date"), (6, "No-Show")]
    assert "allowed: Yes, No, booked" in report["errors"][1]["reason"]
    assert _count(db_url, appointments) == 0  # all or nothing

    code, out = _import("appointments", str(bad), *US, "--business", "uptown", "--skip-bad-rows")
    assert code == 1  # rows were rejected, even though the good ones went in
    assert "row 4, Date: '13/45/2026' does not match the date format %m/%d/%Y" in out
    assert "imported" in out and _count(db_url, appointments) == 10


def test_file_errors_exit_1_with_a_message(db_url: str) -> None:
    eu = ["appointments", str(EXAMPLES / "eu_visits.csv"), "--business", "mitte"]
    code, out = _import(*eu, *US, "--json")
    assert code == 1
    assert json.loads(out) == {"ok": False, "error": json.loads(out)["error"]}
    assert "not utf-8-sig text: row 2" in json.loads(out)["error"]
    result = runner.invoke(app, ["import", *eu, *US])
    assert result.exit_code == 1 and "Set csv.encoding in the mapping" in result.output
    result = runner.invoke(app, ["import", *eu, "--mapping", str(EXAMPLES / "us_customers.json")])
    assert (
        result.exit_code == 1
        and "this mapping imports customers, not appointments" in result.output
    )
    result = runner.invoke(app, ["import", *eu, "--mapping", "nowhere.toml"])
    assert result.exit_code == 1 and "cannot read the mapping file" in result.output
    code, out = _import(*eu, "--mapping", str(EXAMPLES / "eu_visits.toml"))
    assert code == 0 and "created: 7 appointments, 5 customers, 1 staff, 1 services" in out


def test_the_business_must_be_named_when_there_are_several(db_url: str) -> None:
    result = runner.invoke(app, ["import", "customers", str(EXAMPLES / "us_customers.csv"),
                                 "--mapping", str(EXAMPLES / "us_customers.json")])  # fmt: skip
    assert result.exit_code == 1
    assert "name the business with --business (businesses: uptown, mitte)" in result.output

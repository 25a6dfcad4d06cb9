"""Forecast orchestration: a stored run is reused while the data fingerprint holds, and a
changed booking means a new fit; the CLI prints the metrics per series."""

from __future__ import annotations

import io
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from analytics.report import ReportFilter
from auth.roles import Actor
from cli import app
from data.db import write_tx
from data.schema import appointments, working_hours
from reports.exports import EXPORTS, ExportRequest, NothingToExport, write_export
from reports.forecasts import ForecastRequest, run_forecasts
from tests.factories import make_business, make_service, make_staff

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = datetime.now(BERLIN).date()  # the CLI forecasts from today


def _book(conn, business: int, staff: int, service: int, start: datetime) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        appointments.insert().values(
            business_id=business,
            staff_id=staff,
            service_id=service,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            status="completed",
            price_cents=4000,
            created_at=start - timedelta(days=3),
            updated_at=start - timedelta(days=3),
        )  # fmt: skip
    )


@pytest.fixture
def salon(engine: sa.Engine) -> dict:
    return _seed_salon(engine)


def _seed_salon(engine: sa.Engine) -> dict:
    """Three weeks of Monday-Friday bookings: under the eight weeks a backtest needs."""
    with write_tx(engine) as conn:
        business = make_business(conn)
        staff, service = make_staff(conn, business), make_service(conn, business)
        for weekday in range(5):
            conn.execute(working_hours.insert().values(
                business_id=business, staff_id=staff, weekday=weekday,
                start_time=time(9), end_time=time(17),
            ))  # fmt: skip
        for day in range(21):
            when = TODAY - timedelta(days=21 - day)
            if when.weekday() < 5:
                _book(conn, business, staff, service, datetime.combine(when, time(10), BERLIN))
    return {"business": business, "staff": staff, "service": service}


def _run(engine: sa.Engine, salon: dict):  # type: ignore[no-untyped-def]
    actor = Actor.operator(business_id=salon["business"])
    return run_forecasts(engine, actor=actor, requests=[ForecastRequest()], today=TODAY, n_jobs=1)[
        0
    ]


def test_a_stored_run_is_reused_until_the_data_changes(engine: sa.Engine, salon: dict) -> None:
    first = _run(engine, salon)
    assert not first.reused and first.run_id is not None
    assert first.result.winner == "hour_of_week_mean"  # too little history: the profile
    assert any("too little history" in note for note in first.result.notes)
    forecast = first.result.forecast
    assert (forecast["yhat"] >= 0).all() and forecast["yhat"].gt(0).any()
    again = _run(engine, salon)
    assert again.reused and again.run_id == first.run_id
    with write_tx(engine) as conn:
        when = datetime.combine(TODAY - timedelta(days=2), time(14), BERLIN)
        _book(conn, salon["business"], salon["staff"], salon["service"], when)
    changed = _run(engine, salon)
    assert not changed.reused and changed.run_id != first.run_id


def test_staffing_reads_the_forecast_against_the_rota(engine: sa.Engine, salon: dict) -> None:
    outcome = _run(engine, salon)
    staffing, suggestions = outcome.staffing()
    open_hours = staffing[staffing["capacity_minutes"] > 0]
    assert set(open_hours["weekday"]) == {0, 1, 2, 3, 4}  # the rota: Monday to Friday
    assert (staffing.loc[staffing["capacity_minutes"] == 0, "demand_minutes"] == 0).all()
    assert all(s.staff_delta != 0 for s in suggestions)


def test_cli_forecast_prints_metrics_per_series(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    salon = _seed_salon(sqlite_engine)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    result = CliRunner().invoke(app, ["forecast", "--json", "--scope", "all"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    scopes = {(s["scope"], s["scope_id"]) for s in report["series"]}
    assert ("business", None) in scopes and ("staff", salon["staff"]) in scopes
    assert all(s["winner"] for s in report["series"])
    again = json.loads(CliRunner().invoke(app, ["forecast", "--json"]).stdout)
    assert again["series"][0]["reused"] is True


def test_the_forecasts_export_holds_each_series_newest_run(engine: sa.Engine, salon: dict) -> None:
    actor = Actor.operator(business_id=salon["business"])
    past = ReportFilter(TODAY - timedelta(days=60), TODAY - timedelta(days=30))
    request = ExportRequest(("forecasts",), "csv", past)  # the date range doesn't apply
    with pytest.raises(NothingToExport):
        write_export(engine, actor=actor, request=request, out=io.BytesIO())
    outcome = _run(engine, salon)
    out = io.BytesIO()
    result = write_export(engine, actor=actor, request=request, out=out)
    table = pd.read_csv(io.BytesIO(out.getvalue()))
    forecast = outcome.result.forecast
    assert result.rows == {"forecasts": len(forecast)} and len(table) == len(forecast)
    assert set(table["scope"]) == {"business"} and set(table["model"]) == {"Hour-of-week average"}
    assert table["expected_bookings"].sum() == pytest.approx(
        forecast["yhat"].sum(), abs=0.01 * len(forecast)
    )
    assert (table["low"] <= table["expected_bookings"]).all()
    assert pd.to_datetime(table["local_hour"]).min() == forecast["ds"].min()
    assert "forecasts" in EXPORTS

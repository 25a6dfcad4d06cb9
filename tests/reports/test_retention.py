"""Churn and no-show services on a real database: a salon whose history ended in 2021,
imported (created_at = the import), scored as of its own dates; stored models reused,
refused when stale or broken; scores stored and read back; the CLI commands."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import joblib
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from auth.roles import Actor
from cli import app
from data.db import read_conn, write_tx
from data.demo import seed_demo
from data.retention import load_latest_churn_scores
from data.schema import appointments
from reports.churn import build_churn_table, score_churn, train_churn
from reports.model_files import load_model, model_path
from reports.noshow import score_noshow_as_of, score_noshow_risk, train_noshow

HISTORY_END = date(2021, 6, 1)  # the old system closed then
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def salon(engine: sa.Engine) -> Actor:
    """Two years of demo visits up to HISTORY_END, imported today: every created_at is
    the import's time, as a CSV import without booking times leaves it."""
    summary = seed_demo(engine, appointments=8000, today=HISTORY_END)
    with write_tx(engine) as conn:
        conn.execute(appointments.update().values(created_at=NOW))
    return Actor.operator(business_id=summary.business_id)


def test_an_old_imported_history_is_scored_as_of_its_own_dates(
    engine: sa.Engine, salon: Actor, tmp_path: Path
) -> None:
    stored = train_churn(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 1, 15), now=NOW)
    evaluation = stored.evaluation or {}
    assert evaluation["cutoff"].startswith("2021-01-14T23:00")  # Berlin midnight
    metrics = evaluation["metrics"]
    assert set(metrics) == {"model", "recency", "heuristic"}
    assert metrics["model"]["roc_auc"] > 0.6 and evaluation["counts"]["test_rows"] > 100
    assert pd.Timestamp(stored.end) == pd.Timestamp("2021-04-14T23:00", tz="UTC")  # + 90 x 24 h
    scoring = score_churn(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 5, 1), now=NOW)
    assert scoring.method == "model" and scoring.model_version == stored.version
    assert scoring.rows_saved == len(scoring.scores) > 100
    assert scoring.scores["score"].between(0, 1).all()
    assert set(scoring.scores["band"]) <= {"high", "medium", "low", "too_new"}
    with read_conn(engine) as conn:
        saved = load_latest_churn_scores(conn, actor=salon)
    assert len(saved) == scoring.rows_saved
    assert set(saved["model_version"]) == {stored.version}
    assert pd.Timestamp(saved["as_of"].iloc[0]) == pd.Timestamp("2021-04-30T22:00", tz="UTC")


def test_a_model_that_knows_the_future_of_the_cutoff_is_not_used(
    engine: sa.Engine, salon: Actor, tmp_path: Path
) -> None:
    train_churn(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 1, 15), now=NOW)
    early = score_churn(
        engine, actor=salon, models_dir=tmp_path, as_of=date(2020, 12, 1), now=NOW, save=False
    )
    assert early.method == "fitted" and "knows data after 2020-12-01" in early.note
    too_early = score_churn(
        engine, actor=salon, models_dir=tmp_path, as_of=date(2019, 12, 1), now=NOW, save=False
    )
    assert too_early.method == "heuristic" and "days of visit history" in too_early.note
    assert too_early.scores["score"].between(0, 1).all() and len(too_early.scores) > 0


def test_a_broken_or_foreign_model_file_is_retrained_not_fatal(
    engine: sa.Engine, salon: Actor, tmp_path: Path
) -> None:
    path = model_path(tmp_path, business_id=salon.business_id, kind="churn")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a joblib file")
    features = ("recency_days",)
    assert (
        load_model(tmp_path, business_id=salon.business_id, kind="churn", features=features)[1]
        == "the model file could not be read"
    )
    joblib.dump({"format": "something else"}, path)
    model, reason = load_model(
        tmp_path, business_id=salon.business_id, kind="churn", features=features
    )
    assert model is None and reason == "the model file holds something else"
    stored = train_churn(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 1, 15), now=NOW)
    old = joblib.load(path)
    object.__setattr__(old, "format_version", 0)
    joblib.dump(old, path)
    scoring = score_churn(
        engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 5, 1), now=NOW, save=False
    )
    assert scoring.method == "fitted" and "older version" in scoring.note
    assert stored.version.startswith("churn-v1-20210414")


@pytest.fixture
def live_salon(engine: sa.Engine) -> Actor:
    """The same salon seen on HISTORY_END by its own system: real booking times."""
    return Actor.operator(
        business_id=seed_demo(engine, appointments=8000, today=HISTORY_END).business_id
    )


def test_no_show_risk_falls_back_to_own_rates_until_a_model_is_trained(
    engine: sa.Engine, live_salon: Actor, tmp_path: Path
) -> None:
    salon = live_salon
    when = datetime(2021, 6, 1, 6, 0, tzinfo=UTC)  # upcoming then: the last weeks booked ahead
    before = score_noshow_risk(engine, actor=salon, models_dir=tmp_path, now=when)
    assert before.method == "history" and "no model has been trained yet" in before.note
    assert len(before.scores) > 10 and before.scores["score"].between(0, 1).all()
    assert (before.scores["starts_at"] >= when).all()
    stored = train_noshow(
        engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 3, 1), now=when
    )
    assert set((stored.evaluation or {})["metrics"]) == {"model", "history"}
    after = score_noshow_risk(engine, actor=salon, models_dir=tmp_path, now=when)
    assert after.method == "model"
    assert list(after.scores["appointment_id"]) == list(before.scores["appointment_id"])
    past = score_noshow_as_of(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 4, 1),
                              days=14, now=NOW)  # fmt: skip
    assert past.method == "fitted" and len(past.scores) > 50  # outcomes included: it's history


def test_the_score_table_never_carries_contact_details(
    engine: sa.Engine, salon: Actor, tmp_path: Path
) -> None:
    scoring = score_churn(
        engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 5, 1), now=NOW, save=False
    )
    table = build_churn_table(engine, actor=salon, scores=scoring.scores)
    assert "email" not in table.columns and "phone" not in table.columns
    assert "first_name" not in table.columns
    assert table["score"].is_monotonic_decreasing
    named = build_churn_table(engine, actor=salon, scores=scoring.scores, include_names=True)
    assert named["first_name"].notna().all()


def test_cli_churn_and_noshow_commands(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed_demo(sqlite_engine, appointments=8000, today=HISTORY_END)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    runner = CliRunner()
    result = runner.invoke(app, ["churn", "train", "--as-of", "2021-01-15", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["horizon_days"] == 90 and report["cutoff"].startswith("2021-01-14")
    assert {"model", "recency", "heuristic"} == set(report["metrics"])
    assert {"roc_auc", "pr_auc", "brier"} <= set(report["metrics"]["heuristic"])
    assert report["counts"]["test_rows"] > 0 and report["verdict"]["text"]
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["churn", "score", "--as-of", "2021-05-01", "--output", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == ["customer_id", "external_id", "score", "band", "drivers"]
    assert len(table) > 100 and table["drivers"].str.len().gt(0).any()
    result = runner.invoke(app, ["churn", "train", "--as-of", "2026-11-01"])
    assert result.exit_code == 1 and "has not passed yet" in result.output
    result = runner.invoke(app, ["churn", "train", "--as-of", "01/02/2021"])
    assert result.exit_code == 1 and "--as-of must be a date" in result.output
    result = runner.invoke(app, ["noshow", "train", "--as-of", "2021-03-01", "--json"])
    assert result.exit_code == 0, result.output
    assert {"model", "history"} == set(json.loads(result.stdout)["metrics"])
    result = runner.invoke(app, ["noshow", "score", "--as-of", "2021-04-01", "--days", "7"])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(io.StringIO(result.stdout))
    assert len(scores) > 10 and scores["score"].between(0, 1).all()


def test_the_churn_scores_export_holds_the_newest_set_without_names(
    engine: sa.Engine, salon: Actor, tmp_path: Path
) -> None:
    from analytics.report import ReportFilter
    from reports.exports import ExportRequest, NothingToExport, write_export

    request = ExportRequest(
        ("churn_scores",), "csv", ReportFilter(date(2026, 1, 1), date(2026, 1, 31))
    )
    with pytest.raises(NothingToExport):
        write_export(engine, actor=salon, request=request, out=io.BytesIO())
    scoring = score_churn(engine, actor=salon, models_dir=tmp_path, as_of=date(2021, 5, 1), now=NOW)
    out = io.BytesIO()
    result = write_export(engine, actor=salon, request=request, out=out)
    table = pd.read_csv(io.BytesIO(out.getvalue()))
    assert result.rows == {"churn_scores": scoring.rows_saved} == {"churn_scores": len(table)}
    assert list(table.columns) == [
        "customer_id", "external_id", "score", "band", "drivers", "scored_at", "model_version"
    ]  # fmt: skip
    assert table["score"].is_monotonic_decreasing and table["drivers"].notna().any()
    assert set(table["model_version"]) == {scoring.model_version}

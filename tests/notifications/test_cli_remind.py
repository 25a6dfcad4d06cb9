"""`cli.py remind schedule|run --once` on the demo salon: idempotent, and a demo business
only ever uses the console provider, whatever is configured."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from data.db import read_conn
from data.demo import seed_demo
from data.schema import notifications


def test_remind_schedule_and_run_once_on_the_demo(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo(sqlite_engine, appointments=3000)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")  # configured, yet a demo must not use it
    monkeypatch.setenv("SMTP_FROM", "salon@example.com")
    runner = CliRunner()
    first = runner.invoke(app, ["remind", "schedule", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)["businesses"][0]
    assert report["planned"] == report["enqueued"] + report["duplicates"]
    assert report["planned"] + sum(report["skipped_by_reason"].values()) > 0  # it looked
    with read_conn(sqlite_engine) as conn:
        queued = conn.execute(sa.select(sa.func.count()).select_from(notifications)).scalar_one()
    assert queued == report["enqueued"]
    again = runner.invoke(app, ["remind", "run", "--once", "--json"])
    assert again.exit_code == 0, again.output
    rerun = json.loads(again.stdout)["businesses"][0]
    assert rerun["enqueued"] == 0  # nothing twice
    paths = rerun["dispatch"]["paths"]
    assert set(paths) == {"sms", "email"} and all("demo" in text for text in paths.values())
    text = runner.invoke(app, ["remind", "schedule"])
    assert text.exit_code == 0 and "queued" in text.stdout and "withdrawn" in text.stdout

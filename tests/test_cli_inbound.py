"""`cli.py remind reply` in-process through Typer's runner, on a real SQLite
file: it applies the reply, prints the outcome and the answer, never the phone number."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from data.db import write_tx
from tests.data.test_inbound import PHONE, add_appointment, add_customer, statuses
from tests.factories import make_business

runner = CliRunner()


@pytest.fixture
def business(sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    with write_tx(sqlite_engine) as conn:
        return make_business(conn)


def test_reply_confirms_and_reports_as_json(sqlite_engine: sa.Engine, business: int) -> None:
    ada = add_customer(sqlite_engine, business)
    soon = add_appointment(sqlite_engine, business, ada, datetime.now(UTC) + timedelta(days=1))
    args = ["remind", "reply", "--business", str(business), "--from", PHONE, "--body", "Yes please",
            "--sid", "SM" + "0" * 32, "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["business_id"], report["intent"], report["outcome"]) == (
        business, "confirm", "confirmed")  # fmt: skip
    assert report["appointment_id"] == soon and report["changed"] is True
    assert report["reply_text"].startswith("Thanks, your appointment on ")
    assert statuses(sqlite_engine) == {soon: "confirmed"}
    assert PHONE not in result.output and PHONE[1:] not in result.output


def test_reply_in_text_says_who_answers(sqlite_engine: sa.Engine, business: int) -> None:
    add_customer(sqlite_engine, business)
    stop = runner.invoke(
        app, ["remind", "reply", "--from", PHONE, "--body", "STOP"]
    )  # the only one
    assert stop.exit_code == 0, stop.output
    assert stop.stdout.splitlines() == [
        "opt_out -> opted_out (changed)",
        "answer: none (Twilio answers this keyword itself)",
    ]
    unknown = runner.invoke(app, ["remind", "reply", "--from", "+4915100000000", "--body", "C"])
    assert unknown.exit_code == 0, unknown.output
    assert unknown.stdout.startswith("cancel -> unknown_sender (nothing changed)\nanswer: ")
    assert "+4915100000000" not in unknown.stdout


def test_reply_needs_a_known_business(sqlite_engine: sa.Engine, business: int) -> None:
    result = runner.invoke(
        app, ["remind", "reply", "--business", "no-such-salon", "--from", PHONE, "--body", "YES"]
    )
    assert result.exit_code == 1 and "name the business" in result.output

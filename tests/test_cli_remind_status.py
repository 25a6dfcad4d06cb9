"""`cli.py remind status`: delivery statuses refreshed from Twilio when it is the SMS
sender, and a clear "nothing to refresh" (exit 0) when it is not.

Twilio is the official client against a local HTTP server (tests/notifications): the
only substitution is the HTTP client class TwilioSender builds by default - the SDK's
own `TwilioHttpClient`, subclassed to send to localhost - so settings, build_senders,
the CLI and the data layer all run for real."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

import notifications.twilio_sms
from cli import app
from data.db import write_tx
from data.schema import businesses
from tests.data.test_outbox import rows
from tests.factories import make_business
from tests.notifications.test_delivery import (
    BASE,
    BOUNCED,
    DONE,
    MISSING,
    OLD,
    PENDING,
    sent_rows,
    twilio_answers,
)
from tests.notifications.test_twilio_sms import SID, TOKEN, LocalTwilio


@pytest.fixture
def cli_db(sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    return sqlite_engine


def configure_twilio(monkeypatch: pytest.MonkeyPatch, server: HTTPServer) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+15005550006")

    def local_client(**kwargs: Any) -> LocalTwilio:
        return LocalTwilio(server.url_for("/"), **kwargs)

    monkeypatch.setattr(notifications.twilio_sms, "TwilioHttpClient", local_client)


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, ["remind", "status", *args])
    assert result.exit_code == 0, result.output
    return result


def test_without_twilio_there_is_nothing_to_refresh(cli_db: sa.Engine) -> None:
    with write_tx(cli_db) as conn:
        business = make_business(conn)
    text = invoke().stdout
    assert text.startswith(f"business {business}: nothing to refresh: SMS goes to held in the "
                           "outbox")  # fmt: skip
    assert "Twilio not configured" in text
    [report] = json.loads(invoke("--json").stdout)["businesses"]
    assert report["refreshed"] is False and "checked" not in report
    assert report["sms_path"].startswith("SMS: held in the outbox")


def test_with_twilio_recent_sends_are_refreshed_and_a_demo_is_left_alone(
    cli_db: sa.Engine, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_twilio(monkeypatch, httpserver)
    with write_tx(cli_db) as conn:
        business, demo = make_business(conn), make_business(conn)
        conn.execute(businesses.update().where(businesses.c.id == demo).values(is_demo=True))
    now = datetime.now(UTC)
    recent = now - timedelta(hours=2)
    ids = sent_rows(cli_db, business, [
        ("twilio", DONE, recent), ("twilio", BOUNCED, recent), ("twilio", PENDING, recent),
        ("twilio", MISSING, recent), ("twilio", OLD, now - timedelta(days=10)),
    ])  # fmt: skip
    twilio_answers(httpserver)
    result = invoke("--all", "--json")
    reports = {r["business_id"]: r for r in json.loads(result.stdout)["businesses"]}
    assert reports[demo] == {"business_id": demo, "refreshed": False,
                             "sms_path": reports[demo]["sms_path"]}  # fmt: skip
    assert reports[demo]["sms_path"].startswith("SMS: console only")
    counts = {k: reports[business][k] for k in ("checked", "delivered", "failed", "pending",
                                                "unknown", "stale")}  # fmt: skip
    assert counts == {"checked": 4, "delivered": 1, "failed": 1, "pending": 1, "unknown": 1,
                      "stale": 0}  # fmt: skip
    assert reports[business]["sms_path"] == "SMS: Twilio (from +15005550006)"
    fetched = sorted(request.path for request, _ in httpserver.log)  # not the 10-day-old one
    assert fetched == sorted(f"{BASE}/{sid}.json" for sid in (DONE, BOUNCED, PENDING, MISSING))
    stored = rows(cli_db)
    assert [stored[i]["status"] for i in ids] == ["delivered", "failed", "sent", "sent", "sent"]
    assert TOKEN not in result.output
    text = invoke("--business", str(business), "--since-hours", "24").stdout
    assert text.strip() == (f"business {business}: 2 checked, 0 delivered, 0 not delivered, "
                            "1 still on their way, 1 unknown, 0 already recorded")  # fmt: skip

"""The notification history (ui.notification_history.render_history) through AppTest on a
small page around it (notification_history_page.py): the filtered outbox with masked
recipients and the retry, campaigns, the delivery refresh through a local Twilio server,
and reminder effectiveness; on a real (non-demo) business with no provider configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.campaigns import create_campaign_draft
from data.db import write_tx
from tests.app_pages.support import AppDb, open_app
from tests.data.test_notification_stats import Msg, add_messages, book, make_shop
from tests.data.test_outbox import rows
from tests.notifications.test_delivery import (
    BOUNCED,
    DONE,
    MISSING,
    PENDING,
    sent_rows,
    twilio_answers,
)

PAGE = "tests/app_pages/notification_history_page.py"
TWILIO_URL_ENV = "SLOTBOARD_TEST_TWILIO_URL"  # read by the page (importing it would run it)


def _open(db: AppDb, role: Role = Role.OWNER) -> AppTest:
    at = open_app(db.users[role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str) -> object:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_outbox_shows_masked_recipients_filters_and_retries(app_db: AppDb) -> None:
    b = app_db.business_id
    ids = add_messages(app_db.engine, b, [
        Msg("failed", values={"recipient": "+4915112345667"}),
        Msg("sent", values={"channel": "email", "recipient": "ada@example.com"}),
    ])  # fmt: skip
    at = _open(app_db, Role.STAFF)
    assert {m.label: m.value for m in at.metric}["Failed"] == "1"
    table = _table(at, "Recipient")
    assert sorted(table["Recipient"]) == ["+49 151 ***67", "a***@example.com"]
    assert "Body" not in table.columns and "+4915112345667" not in table.to_string()
    at.selectbox(key="nh_channel").select("email").run()
    assert list(_table(at, "Recipient")["Id"]) == [ids[1]]
    assert at.button(key="nh_retry").disabled  # no failed message in view
    at.selectbox(key="nh_channel").select("all").run()
    at.selectbox(key="nh_status").select("failed").run()
    assert list(_table(at, "Recipient")["Id"]) == [ids[0]]
    retry = at.button(key="nh_retry")
    assert retry.label == "Retry failed (1)"
    retry.click().run()
    assert not at.exception, at.exception
    assert rows(app_db.engine)[ids[0]]["status"] == "queued"  # no SMS provider: held
    assert [s.value for s in at.success] == [
        "1 failed messages queued again. Dispatch: 0 sent, 0 to retry later, 0 failed, 0 skipped."
    ]
    at.selectbox(key="nh_within").select("last 24 h").run()
    assert "No messages match." in [c.value for c in at.caption]  # nothing failed now


def test_campaigns_list_their_messages_by_status(app_db: AppDb) -> None:
    owner = app_db.users[Role.OWNER].actor
    with write_tx(app_db.engine) as conn:
        campaign = create_campaign_draft(conn, actor=owner, name="Spring win-back",
                                         kind="win_back", channel="sms", segment={})  # fmt: skip
    add_messages(app_db.engine, app_db.business_id, [
        Msg("sent", values={"campaign_id": campaign, "template_kind": "win_back"}),
        Msg("failed", values={"campaign_id": campaign, "template_kind": "win_back"}),
        Msg("sent"),
    ])  # fmt: skip
    at = _open(app_db)
    campaigns = _table(at, "Audience")
    [row] = campaigns.to_dict("records")
    assert (row["Name"], row["Sent"], row["Failed"], row["Queued"]) == ("Spring win-back", 1, 1, 0)
    at.selectbox(key="nh_campaign").select(campaign).run()
    outbox = _table(at, "Recipient")
    assert len(outbox) == 2 and set(outbox["Campaign"]) == {"Spring win-back"}


def test_without_twilio_the_delivery_section_names_the_path(app_db: AppDb) -> None:
    at = _open(app_db)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Delivery receipts need Twilio") and "SMS: held in the outbox" in c
               for c in captions)  # fmt: skip
    with pytest.raises(KeyError):
        at.button(key="nh_delivery")


def test_delivery_refresh_through_a_local_twilio(
    app_db: AppDb, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recent = datetime.now(UTC) - timedelta(hours=2)
    sends = [("twilio", sid, recent) for sid in (DONE, BOUNCED, PENDING, MISSING)]
    ids = sent_rows(app_db.engine, app_db.business_id, sends)
    twilio_answers(httpserver)
    monkeypatch.setenv(TWILIO_URL_ENV, httpserver.url_for("/"))
    at = _open(app_db)
    at.button(key="nh_delivery").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Delivery status: 4 checked, 1 delivered, 1 not delivered, 1 still on their way, "
        "1 unknown, 0 already recorded."
    ]
    stored = rows(app_db.engine)
    assert [stored[i]["status"] for i in ids] == ["delivered", "failed", "sent", "sent"]
    assert _table(at, "Recipient").set_index("Id").loc[ids[0], "Status"] == "delivered"


def test_reminder_effectiveness_tables(app_db: AppDb) -> None:
    shop = make_shop(app_db.engine, app_db.business_id)
    now = datetime.now(UTC)
    reminded = [book(app_db.engine, shop, now - timedelta(days=d), "completed") for d in (2, 3)]
    book(app_db.engine, shop, now - timedelta(days=4), "no_show")  # no reminder
    book(app_db.engine, shop, now + timedelta(days=1), "booked")  # not yet: left out
    add_messages(app_db.engine, app_db.business_id, [
        Msg("sent", now - timedelta(days=d, hours=24), {"appointment_id": a, "variant": "A"})
        for d, a in zip((2, 3), reminded, strict=True)
    ])  # fmt: skip
    at = _open(app_db)
    assert any(c.value.startswith("Past appointments only. Observational") for c in at.caption)
    by_channel, by_variant, by_timing = (d.value for d in at.dataframe if "No-show" in d.value)
    assert list(by_channel["Channel"]) == ["SMS", "no reminder"]
    assert list(by_channel["Appointments"]) == [2, 1]
    assert list(by_channel["No-show"]) == ["0.0%", "100.0%"]
    assert set(by_channel["Note"]) == {"too few to compare"}
    assert list(by_timing["Timing"]) == ["12–36 h", "no reminder"]
    assert list(zip(by_variant["Channel"], by_variant["Variant"], strict=True)) == [
        ("SMS", "A"), ("no reminder", "–")]  # fmt: skip


def test_analysts_are_refused(app_db: AppDb) -> None:
    at = _open(app_db, Role.ANALYST)
    assert "Your role (analyst) may not open this page." in [e.value for e in at.error]
    assert len(at.title) == 0

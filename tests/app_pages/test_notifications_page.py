"""The Notifications page through AppTest on a seeded demo salon (console sender only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.campaigns import create_campaign_draft
from data.db import make_engine, read_conn, write_tx
from data.outbox import enqueue_messages, record_failed
from data.reminders import load_reminder_inputs
from data.schema import campaigns, customers, notifications
from notifications.manual import build_manual_key
from scheduling.timezones import local_day_bounds, local_today
from tests.app_pages.support import AppDb, add_role_users, open_app
from tests.browser.support import seed_demo_database

PAGE = "app_pages/notification_panel.py"
TZ = "Europe/Berlin"  # the demo salon's zone
N = notifications.c


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("notifications")
    url = seed_demo_database(folder)
    engine = make_engine(url)
    users = add_role_users(engine, "notify")
    yield {"url": url, "engine": engine, "users": users, "models": folder / "models"}
    engine.dispose()


def _open(demo: dict, role: Role, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", demo["url"])
    monkeypatch.setenv("MODELS_DIR", str(demo["models"]))
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "1000")  # no pacing waits in tests
    monkeypatch.setenv("QUIET_HOURS_START", "00:00")  # start == end: no quiet hours, so the
    monkeypatch.setenv("QUIET_HOURS_END", "00:00")  # test does not depend on the clock
    at = open_app(demo["users"][role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


def _rows(demo: dict, *where: sa.ColumnElement[bool]) -> list[dict]:
    with read_conn(demo["engine"]) as conn:
        query = sa.select(N.id, N.idempotency_key, N.status, N.provider, N.body).where(*where)
        return [dict(row) for row in conn.execute(query).mappings()]


def _manual() -> sa.ColumnElement[bool]:
    assert build_manual_key(1, "x", 2, "sms").startswith("b1:m")
    return N.idempotency_key.like("b1:m%")


@pytest.mark.parametrize("role", [Role.OWNER, Role.STAFF], ids=lambda r: r.value)
def test_owner_and_staff_see_the_console_paths_and_the_outbox(
    demo: dict, role: Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, role, monkeypatch)
    assert [t.value for t in at.title] == ["Notifications"]
    assert not at.error, [e.value for e in at.error]
    paths = [i.value for i in at.info]
    assert any(p.startswith("SMS: console only") for p in paths)
    assert any(p.startswith("E-mail: console only") for p in paths)
    assert {m.label for m in at.metric} >= {"Queued", "Sent", "Failed"}
    assert "24 h before by SMS" in "\n".join(m.value for m in at.markdown)


def test_analysts_are_refused(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", demo["url"])
    analyst = demo["users"][Role.ANALYST]
    at = open_app(analyst).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    # Opened directly, the page checks the role itself (the `notifications` package is
    # imported already, by notifications.manual above, so the page file cannot shadow it).
    at = open_app(analyst, page=PAGE).run()
    assert not at.exception, at.exception
    assert "Your role (analyst) may not open this page." in [e.value for e in at.error]
    assert len(at.title) == 0


def test_the_preview_shows_tomorrows_first_appointment(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.STAFF, monkeypatch)
    tomorrow = local_today(TZ) + timedelta(days=1)
    start, end = local_day_bounds(tomorrow, TZ)
    with read_conn(demo["engine"]) as conn:
        inputs = load_reminder_inputs(conn, actor=demo["users"][Role.STAFF].actor,
                                      start=start, end=end)  # fmt: skip
    upcoming = [a for a in inputs.appointments if a["status"] in ("booked", "confirmed")]
    assert upcoming, "the demo has appointments tomorrow"
    first = upcoming[0]
    name = inputs.customers[first["customer_id"]]["first_name"]
    local_time = first["starts_at"].astimezone(ZoneInfo(TZ)).strftime("%H:%M")
    preview = "\n".join(t.value for t in at.text)
    assert f"Hi {name}," in preview and f"at {local_time}." in preview
    assert any("SMS segment(s)" in c.value for c in at.caption)
    at.radio(key="nt_channel").set_value("email").run()
    assert any(t.value.startswith("Subject: Reminder: ") for t in at.text)


def test_send_goes_through_the_console_once(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open(demo, Role.STAFF, monkeypatch)
    other = _open(demo, Role.OWNER, monkeypatch)  # a second screen with the same audience
    counts = next(m.value for m in at.markdown if "will be sent" in m.value)
    planned = int(counts.strip("*").split()[0])
    assert planned > 0 and not at.button(key="nt_send").disabled
    at.button(key="nt_send").click().run()
    assert not at.exception, at.exception
    sent = _rows(demo, _manual())
    assert len(sent) == planned
    assert {(row["status"], row["provider"]) for row in sent} == {("sent", "console")}
    assert any(s.value.startswith(f"{planned} messages queued") for s in at.success)
    assert "0 will be sent" in "\n".join(m.value for m in at.markdown)
    assert at.button(key="nt_send").disabled
    reasons = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert reasons.set_index("Reason").loc["already reminded", "Skipped"] == planned
    # Pressed on a screen rendered before the send: the rerun plans again from the outbox
    # (every key is taken), so nothing more is queued or sent.
    other.button(key="nt_send").click().run()
    assert not other.exception, other.exception
    assert len(_rows(demo, _manual())) == planned
    assert "0 will be sent" in "\n".join(m.value for m in other.markdown)


def test_retry_requeues_and_sends_a_failed_message(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    with write_tx(demo["engine"]) as conn:
        enqueue_messages(conn, actor=demo["users"][Role.OWNER].actor, messages=[{
            "channel": "sms", "recipient": "+4915123456789", "body": "Hello",
            "template_kind": "reminder", "idempotency_key": "b1:test:retry",
            "scheduled_at": now - timedelta(minutes=1),
        }])  # fmt: skip
        [message_id] = conn.execute(sa.select(N.id).where(N.idempotency_key == "b1:test:retry"))
        assert record_failed(conn, message_id=message_id[0], error="boom", reason="test")
    at = _open(demo, Role.OWNER, monkeypatch)
    at.selectbox(key="nh_status").select("failed").run()
    table = next(d.value for d in at.dataframe if "Recipient" in d.value.columns)
    assert set(table["Status"]) == {"failed"} and "Body" not in table.columns
    retry = at.button(key="nh_retry")
    assert retry.label == f"Retry failed ({len(table)})" and not retry.disabled
    retry.click().run()
    assert not at.exception, at.exception
    [row] = _rows(demo, N.idempotency_key == "b1:test:retry")
    assert (row["status"], row["provider"]) == ("sent", "console")


def test_run_automatic_reminders_reports_what_it_did(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    at.button(key="nt_auto").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    automatic = _rows(demo, N.idempotency_key.like("b1:a%"))
    assert automatic, "the 24 h rules queue tomorrow's reminders"
    assert any(s.value.startswith(f"Reminders: {len(automatic)} queued") for s in at.success)


def test_a_real_business_shows_held_and_provider_paths(
    app_db: AppDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("SMTP_FROM", "salon@example.com")
    at = open_app(app_db.users[Role.STAFF]).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "E-mail: SMTP (smtp.example.com:587, STARTTLS, from salon@example.com)"
    ]
    assert [i.value for i in at.info][0].startswith("SMS: held in the outbox")
    assert "No appointment to preview." in [c.value for c in at.caption]
    assert at.button(key="nt_send").disabled


def _campaign_rows(demo: dict, campaign_id: int) -> list[dict]:
    with read_conn(demo["engine"]) as conn:
        query = sa.select(N.customer_id, N.status, N.template_kind, N.variant, N.body).where(
            N.campaign_id == campaign_id
        )
        return [dict(row) for row in conn.execute(query).mappings()]


def test_a_win_back_campaign_is_sent_to_its_segment_once(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = demo["users"][Role.OWNER].actor
    with write_tx(demo["engine"]) as conn:
        reachable = (
            conn.execute(
                sa.select(customers.c.id)
                .where(
                    customers.c.business_id == 1,
                    customers.c.sms_opt_in.is_(True),
                    customers.c.phone.is_not(None),
                )
                .order_by(customers.c.id)
                .limit(4)
            )
            .scalars()
            .all()
        )
        silent = conn.execute(
            sa.select(customers.c.id)
            .where(customers.c.business_id == 1, customers.c.sms_opt_in.is_(False))
            .limit(1)
        ).scalar_one()
        campaign = create_campaign_draft(
            conn, actor=owner, name="Spring win-back", kind="win_back", channel="sms",
            segment={"band": "high", "customer_ids": [*reachable, silent]},
        )  # fmt: skip
    at = _open(demo, Role.STAFF, monkeypatch)
    at.radio(key="nt_source").set_value("segment").run()
    assert not at.exception, at.exception
    assert "Spring win-back" in at.selectbox(key="nt_campaign").format_func(campaign)
    at.selectbox(key="nt_campaign").select(campaign).run()
    counts = next(m.value for m in at.markdown if "will be sent" in m.value)
    planned = int(counts.strip("*").split()[0])
    assert 0 < planned <= len(reachable) and f"{5 - planned} skipped" in counts
    assert any("miss you" in t.value for t in at.text)  # the win-back preview
    at.button(key="nt_campaign_send").click().run()
    assert not at.exception, at.exception
    rows = _campaign_rows(demo, campaign)
    assert len(rows) == planned and silent not in {row["customer_id"] for row in rows}
    assert {(row["status"], row["template_kind"]) for row in rows} == {("sent", "win_back")}
    assert any(s.value.startswith(f"{planned} campaign messages queued") for s in at.success)
    assert "0 will be sent" in "\n".join(m.value for m in at.markdown)
    reasons = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert reasons.set_index("Reason").loc["already sent in this campaign", "Skipped"] == planned
    with read_conn(demo["engine"]) as conn:
        assert conn.execute(sa.select(campaigns.c.status).where(
            campaigns.c.id == campaign)).scalar_one() == "done"  # fmt: skip


def test_a_campaign_is_made_from_customer_tags(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    with write_tx(demo["engine"]) as conn:
        newest = sa.select(customers.c.id).where(customers.c.business_id == 1)
        tagged = conn.execute(newest.order_by(customers.c.id.desc()).limit(3)).scalars().all()
        conn.execute(customers.update().where(customers.c.id.in_(tagged))
                     .values(tags=["balayage-2025"]))  # fmt: skip
    at = _open(demo, Role.OWNER, monkeypatch)
    at.radio(key="nt_source").set_value("segment").run()
    at.text_input(key="nt_tag_name").input("Balayage regulars")
    at.multiselect(key="nt_tags").select("balayage-2025")
    at.radio(key="nt_tag_channel").set_value("email")
    at.button[[b.label for b in at.button].index("Create campaign")].click().run()
    assert not at.exception, at.exception
    assert any("created for 3 customers" in s.value for s in at.success)
    with read_conn(demo["engine"]) as conn:
        found = conn.execute(sa.select(campaigns.c.segment, campaigns.c.channel).where(
            campaigns.c.name == "Balayage regulars")).one()  # fmt: skip
    assert sorted(found.segment["customer_ids"]) == sorted(tagged) and found.channel == "email"
    assert found.segment["tags"] == ["balayage-2025"]

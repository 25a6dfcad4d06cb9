"""The Message templates page through AppTest: editing and saving templates with a live
preview of a real appointment, refused templates (unknown variables, sandbox escapes), a
new variant, switching variants on and off, and the reminder rules (owners edit, staff
read). Analysts are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.business import load_business
from data.db import read_conn, write_tx
from data.schema import appointments, audit_log
from data.templates import list_templates
from tests.app_pages.support import AppDb, open_app
from tests.factories import make_customer, make_service, make_staff

PAGE = "app_pages/message_templates.py"
SERVICE = "Balayage deluxe"
ATTRIBUTES = "line 1: not allowed in templates: attribute access"


@pytest.fixture
def booked(app_db: AppDb) -> AppDb:
    """app_db with one booked appointment two days ahead (Zoe, Balayage deluxe, Mara)."""
    now = datetime.now(UTC)
    start = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with write_tx(app_db.engine) as conn:
        business = app_db.business_id
        conn.execute(appointments.insert().values(
            business_id=business, staff_id=make_staff(conn, business, name="Mara"),
            service_id=make_service(conn, business, name=SERVICE),
            customer_id=make_customer(conn, business, first_name="Zoe"), starts_at=start,
            ends_at=start + timedelta(minutes=45), status="booked", price_cents=4500,
            created_at=now, updated_at=now,
        ))  # fmt: skip
    return app_db


def booked_start(db: AppDb) -> datetime:
    with read_conn(db.engine) as conn:
        return conn.execute(sa.select(sa.func.min(appointments.c.starts_at))).scalar_one()


def _open(db: AppDb, role: Role) -> AppTest:
    at = open_app(db.users[role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


def _templates(db: AppDb) -> dict[tuple[str, str, str], dict[str, Any]]:
    with read_conn(db.engine) as conn:
        rows = list_templates(conn, actor=db.users[Role.OWNER].actor)
    return {(r["kind"], r["channel"], r["variant"]): r for r in rows}


def _audit_count(db: AppDb, entity: str) -> int:
    query = sa.select(sa.func.count()).where(audit_log.c.entity == entity)
    with read_conn(db.engine) as conn:
        return int(conn.execute(query).scalar_one())


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_preview_shows_the_next_real_appointment(booked: AppDb) -> None:
    at = _open(booked, Role.OWNER)
    assert [t.value for t in at.title] == ["Message templates"]
    assert not at.error and not at.warning
    preview = "\n".join(t.value for t in at.text)
    assert f"Hi Zoe, a reminder of your {SERVICE} with Mara on " in preview
    local = booked_start(booked).astimezone(ZoneInfo("Europe/Berlin"))
    source = f"Real data: the next upcoming appointment ({local:%a} {local.day} {local:%b}, "
    assert source + f"{local:%H:%M})." in [c.value for c in at.caption]
    assert any("SMS segment(s)" in c.value for c in at.caption)
    variables = next(m.value for m in at.markdown if "Variables you can use" in m.value)
    assert "`{{ service }}`" in variables
    at.selectbox(key="mt_kind").select("win_back").run()  # win-back: contact variables only
    variables = next(m.value for m in at.markdown if "Variables you can use" in m.value)
    assert "`{{ first_name }}`" in variables and "{{ service }}" not in variables
    assert "Hi Zoe, we miss you at Test Salon Mitte!" in "\n".join(t.value for t in at.text)
    assert "Real data: the customer of the next upcoming appointment." in [
        c.value for c in at.caption
    ]


def test_without_appointments_the_preview_says_it_uses_sample_data(app_db: AppDb) -> None:
    at = _open(app_db, Role.STAFF)
    assert any(c.value.startswith("Sample data:") for c in at.caption)
    assert "Hi Alexandra," in "\n".join(t.value for t in at.text)


def test_owner_edits_and_saves_a_template_then_unchanged_says_no_change(booked: AppDb) -> None:
    at = _open(booked, Role.OWNER)
    sms = _templates(booked)["reminder", "sms", "A"]
    body = "{{ first_name }}: {{ service }} on {{ date }} at {{ time }}. {{ business_name }}"
    at.text_input(key=f"mt_name_{sms['id']}").input("Terse reminder")
    at.text_area(key=f"mt_body_{sms['id']}").input(body).run()
    assert f"Zoe: {SERVICE} on " in "\n".join(t.value for t in at.text)
    audits = _audit_count(booked, "notification_templates")
    at.button(key="mt_save").click().run()
    assert not at.exception, at.exception
    assert "Saved variant A of Reminder by SMS." in [s.value for s in at.success]
    saved = _templates(booked)["reminder", "sms", "A"]
    assert (saved["name"], saved["body"]) == ("Terse reminder", body)
    assert _audit_count(booked, "notification_templates") == audits + 1
    at.button(key="mt_save").click().run()
    assert "No change: this template is saved as it is." in [i.value for i in at.info]
    assert _audit_count(booked, "notification_templates") == audits + 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Hi {{ nope }}", "unknown variable 'nope'"),
        ("{{ ''.__class__ }}", ATTRIBUTES),
        ("{{ first_name.__class__.__mro__ }}", ATTRIBUTES),
        ("{{ cycler.__init__.__globals__ }}", ATTRIBUTES),
        ("{% for x in 'ab' %}{{ x }}{% endfor %}", "line 1: not allowed in templates: loops"),
    ],
    ids=["unknown-variable", "class", "mro", "globals", "loop"],
)
def test_invalid_templates_are_refused_with_the_problem_and_nothing_is_saved(
    booked: AppDb, body: str, problem: str
) -> None:
    at = _open(booked, Role.OWNER)
    sms = _templates(booked)["reminder", "sms", "A"]
    audits = _audit_count(booked, "notification_templates")
    at.text_area(key=f"mt_body_{sms['id']}").input(body).run()
    assert not at.exception, at.exception
    assert f"The preview cannot be rendered: {problem}" in _errors(at)
    assert f"Not saved until fixed:\n- {problem}" in _errors(at)
    assert at.button(key="mt_save").disabled
    assert _templates(booked)["reminder", "sms", "A"]["body"] == sms["body"]
    assert _audit_count(booked, "notification_templates") == audits


def test_an_email_without_subject_is_refused(booked: AppDb) -> None:
    at = _open(booked, Role.STAFF)
    at.radio(key="mt_channel").set_value("email").run()
    mail = _templates(booked)["reminder", "email", "A"]
    assert any(t.value.startswith(f"Subject: Reminder: {SERVICE} on ") for t in at.text)
    at.text_input(key=f"mt_subject_{mail['id']}").input("  ").run()
    assert "- an e-mail needs a subject" in _errors(at)
    assert at.button(key="mt_save").disabled


def test_add_variant_b_then_switch_variant_a_off(booked: AppDb) -> None:
    at = _open(booked, Role.OWNER)
    assert at.button(key="mt_switch").disabled  # A is the only active reminder SMS
    variant = at.selectbox(key="mt_variant_reminder_sms")
    assert variant.options == ["A – Reminder (SMS) (active)", "New variant B"]
    variant.select("new").run()
    assert at.text_input(key="mt_name_new_reminder_sms_B").value == "Reminder (SMS) B"
    at.text_area(key="mt_body_new_reminder_sms_B").input("{{ first_name }}, {{ time }}!")
    at.button(key="mt_save").click().run()
    assert not at.exception, at.exception
    assert "Saved variant B of Reminder by SMS." in [s.value for s in at.success]
    stored = _templates(booked)
    assert stored["reminder", "sms", "B"]["body"] == "{{ first_name }}, {{ time }}!"
    assert stored["reminder", "sms", "B"]["is_active"]
    assert at.selectbox(key="mt_variant_reminder_sms").value == "B"  # the new one is picked
    assert "Zoe, " in "\n".join(t.value for t in at.text)
    at.selectbox(key="mt_variant_reminder_sms").select("A").run()
    assert not at.button(key="mt_switch").disabled
    at.button(key="mt_switch").click().run()
    assert "Variant A is now off." in [s.value for s in at.success]
    assert not _templates(booked)["reminder", "sms", "A"]["is_active"]
    assert at.button(key="mt_switch").label == "Switch on"
    at.selectbox(key="mt_variant_reminder_sms").select("B").run()
    assert at.button(key="mt_switch").disabled  # B is now the last active one


def test_owner_edits_the_reminder_rules_and_they_are_saved(booked: AppDb) -> None:
    at = _open(booked, Role.OWNER)
    at.selectbox(key="mt_rule_channel_1").select("sms")
    at.number_input(key="mt_rule_hours_1").set_value(48.0)
    at.selectbox(key="mt_rule_channel_2").select("email")
    at.number_input(key="mt_rule_hours_2").set_value(1.5)
    at.checkbox(key="mt_rule_active_2").uncheck()
    at.selectbox(key="mt_rule_channel_3").select("")
    at.button(key="mt_rules_save").click().run()
    assert not at.exception, at.exception
    assert "Reminder rules saved. The change is in the audit log." in [s.value for s in at.success]
    with read_conn(booked.engine) as conn:
        stored = load_business(conn, business_id=booked.business_id)["reminder_rules"]
    assert stored == [{"channel": "sms", "offset_minutes": 2880, "active": True},
                      {"channel": "email", "offset_minutes": 90, "active": False}]  # fmt: skip
    listed = "\n".join(m.value for m in at.markdown)  # read back from the database
    assert "- 2 days before by SMS (the same local time, across DST too)" in listed
    assert "- 90 min before by e-mail (off)" in listed
    at = _open(booked, Role.OWNER)  # a fresh session shows the stored rules in the form
    assert at.number_input(key="mt_rule_hours_2").value == 1.5
    assert at.selectbox(key="mt_rule_channel_3").value == ""
    at.button(key="mt_rules_save").click().run()
    assert "No change: these are the rules already." in [i.value for i in at.info]


def test_invalid_reminder_rules_are_refused_with_the_message(booked: AppDb) -> None:
    at = _open(booked, Role.OWNER)
    with read_conn(booked.engine) as conn:
        before = load_business(conn, business_id=booked.business_id)["reminder_rules"]
    at.selectbox(key="mt_rule_channel_4").select("sms")
    at.number_input(key="mt_rule_hours_4").set_value(24.0)  # the same as rule 1
    at.button(key="mt_rules_save").click().run()
    assert not at.exception, at.exception
    assert "Not saved: rule 4: the same reminder is set up twice" in _errors(at)
    with read_conn(booked.engine) as conn:
        assert load_business(conn, business_id=booked.business_id)["reminder_rules"] == before


def test_staff_edit_templates_but_only_read_the_rules(booked: AppDb) -> None:
    at = _open(booked, Role.STAFF)
    assert "Read-only: only owners can change the reminder rules." in [c.value for c in at.caption]
    assert "- 24 h before by SMS (the same local time, across DST too)" in "\n".join(
        m.value for m in at.markdown
    )
    assert not [b for b in at.button if b.key == "mt_rules_save"]
    assert not [s for s in at.selectbox if s.key == "mt_rule_channel_1"]
    assert any("extra SMS 2 h before" in i.value for i in at.info)
    sms = _templates(booked)["reminder", "sms", "A"]
    at.text_area(key=f"mt_body_{sms['id']}").input("Hi {{ first_name }}!")
    at.button(key="mt_save").click().run()
    assert "Saved variant A of Reminder by SMS." in [s.value for s in at.success]
    assert _templates(booked)["reminder", "sms", "A"]["body"] == "Hi {{ first_name }}!"


def test_analysts_are_refused(app_db: AppDb) -> None:
    analyst = app_db.users[Role.ANALYST]
    at = open_app(analyst).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    at = open_app(analyst, page=PAGE).run()
    assert not at.exception, at.exception
    assert "Your role (analyst) may not open this page." in [e.value for e in at.error]
    assert len(at.title) == 0

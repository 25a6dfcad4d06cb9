"""Automatic reminders end to end on a real database: rules -> plan -> templates ->
outbox -> console dispatch; idempotent reruns; DST; withdrawal on cancel and reschedule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from auth.roles import Actor
from data.db import read_conn, write_tx
from data.outbox import load_outbox
from data.reminders import load_reminder_inputs
from data.schema import appointments, customers, notifications
from notifications.console import ConsoleSender
from notifications.dispatcher import dispatch_once
from notifications.reminders import parse_quiet_hours, schedule_reminders
from tests.factories import make_business, make_customer, make_service, make_staff

BERLIN = ZoneInfo("Europe/Berlin")
# On the spring switch day (29 March 2026): "24 h before" a 10:00 visit is 10:00 local
# the day before, 23 real hours earlier.
VISIT = datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN)
NOW = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
QUIET = parse_quiet_hours("21:00", "08:00")


@pytest.fixture
def salon(engine: sa.Engine) -> dict:
    with write_tx(engine) as conn:
        business = make_business(conn, name="Salon Nord")
        staff, service = make_staff(conn, business, name="Mia"), make_service(conn, business)
        ada, bob = make_customer(conn, business, first_name="Ada"), make_customer(conn, business)
        conn.execute(customers.update().where(customers.c.id == ada).values(
            phone="+4915112345678", email="ada@example.com", sms_opt_in=True, email_opt_in=True,
            sms_opt_in_at=NOW, email_opt_in_at=NOW,
        ))  # fmt: skip
        ids = {}
        for name, customer, start in (
            ("ada", ada, VISIT),
            ("bob", bob, VISIT + timedelta(hours=2)),
        ):
            ids[name] = int(conn.execute(appointments.insert().values(
                business_id=business, staff_id=staff, customer_id=customer, service_id=service,
                starts_at=start, ends_at=start + timedelta(minutes=45), status="booked",
                price_cents=4500, created_at=NOW - timedelta(days=7), updated_at=NOW,
            )).inserted_primary_key[0])  # fmt: skip
    return {"actor": Actor.operator(business_id=business), **ids}


def _outbox(engine: sa.Engine, actor: Actor) -> list[dict]:
    """Every outbox row of the business, bodies included (load_outbox lists no bodies)."""
    with read_conn(engine) as conn:
        listed = {row["id"] for row in load_outbox(conn, actor=actor, limit=100)}
        query = notifications.select().where(notifications.c.business_id == actor.business_id)
        rows = [dict(row) for row in conn.execute(query.order_by(notifications.c.id)).mappings()]
    assert {row["id"] for row in rows} == listed
    return rows


def test_rules_become_rendered_reminders_at_the_right_local_time(
    engine: sa.Engine, salon: dict
) -> None:
    actor = salon["actor"]
    report = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    assert (report.planned, report.enqueued) == (2, 2)  # Ada: SMS and e-mail, 24 h before
    assert report.skipped_by_reason == {"no SMS consent": 1, "no e-mail consent": 1}  # Bob
    rows = _outbox(engine, actor)
    assert {row["channel"] for row in rows} == {"sms", "email"}
    for row in rows:
        sent_at = row["scheduled_at"].astimezone(BERLIN)
        assert (sent_at.date().isoformat(), sent_at.time()) == ("2026-03-28", time(10, 0))
        assert VISIT - row["scheduled_at"] == timedelta(hours=23)  # the short DST day
        assert "Ada" in row["body"] and "10:00" in row["body"]
        assert row["status"] == "queued" and row["template_kind"] == "reminder"
    email = next(row for row in rows if row["channel"] == "email")
    assert email["subject"] and email["recipient"] == "ada@example.com"


def test_rerunning_the_schedule_enqueues_nothing_twice(engine: sa.Engine, salon: dict) -> None:
    actor = salon["actor"]
    schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    again = schedule_reminders(engine, actor=actor, now=NOW + timedelta(minutes=5), quiet=QUIET)
    assert again.enqueued == 0 and again.skipped_by_reason.get("already reminded") == 2
    assert len(_outbox(engine, actor)) == 2


def test_cancel_withdraws_and_reschedule_replaces_the_reminders(
    engine: sa.Engine, salon: dict
) -> None:
    actor = salon["actor"]
    schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    moved = VISIT + timedelta(days=1, hours=1)
    with write_tx(engine) as conn:
        conn.execute(appointments.update().where(appointments.c.id == salon["ada"]).values(
            starts_at=moved, ends_at=moved + timedelta(minutes=45), updated_at=NOW,
        ))  # fmt: skip
    report = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    assert report.withdrawn == 2 and report.enqueued == 2
    rows = _outbox(engine, actor)
    assert [r["status_reason"] for r in rows if r["status"] == "withdrawn"] == ["rescheduled"] * 2
    fresh = [r for r in rows if r["status"] == "queued"]
    assert all(r["scheduled_at"].astimezone(BERLIN).time() == time(11, 0) for r in fresh)
    with write_tx(engine) as conn:
        conn.execute(appointments.update().where(appointments.c.id == salon["ada"]).values(
            status="cancelled", cancelled_at=NOW, updated_at=NOW,
        ))  # fmt: skip
    report = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    assert report.withdrawn == 2 and report.enqueued == 0
    reasons = [r["status_reason"] for r in _outbox(engine, actor) if r["status"] == "withdrawn"]
    assert sorted(reasons) == ["appointment cancelled"] * 2 + ["rescheduled"] * 2


def test_the_console_dispatcher_sends_what_is_due_exactly_once(
    engine: sa.Engine, salon: dict
) -> None:
    actor = salon["actor"]
    schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    console = ConsoleSender()
    senders = {"sms": console, "email": console}
    early = dispatch_once(engine, senders=senders, now_fn=lambda: NOW, sleep=lambda _: None)
    assert early.claimed == 0  # not due before 10:00 on the 28th
    due = VISIT - timedelta(hours=23) + timedelta(minutes=1)
    for _ in range(2):
        dispatch_once(engine, senders=senders, now_fn=lambda: due, sleep=lambda _: None)
    assert console.sent == 2
    rows = _outbox(engine, actor)
    assert {r["status"] for r in rows} == {"sent"}
    assert all(str(r["provider_message_id"]).startswith("console-") for r in rows)


def test_a_high_no_show_risk_gets_one_extra_sms_two_hours_before(
    engine: sa.Engine, salon: dict, tmp_path
) -> None:
    actor = salon["actor"]
    with write_tx(engine) as conn:  # Ada missed her last three visits
        ada = conn.execute(
            sa.select(appointments.c.customer_id, appointments.c.staff_id,
                      appointments.c.service_id).where(appointments.c.id == salon["ada"])
        ).one()  # fmt: skip
        for weeks in (3, 6, 9):
            start = NOW - timedelta(weeks=weeks)
            conn.execute(appointments.insert().values(
                business_id=actor.business_id, staff_id=ada.staff_id, customer_id=ada.customer_id,
                service_id=ada.service_id, starts_at=start, ends_at=start + timedelta(minutes=45),
                status="no_show", price_cents=4500, created_at=start - timedelta(days=7),
                updated_at=start,
            ))  # fmt: skip
    plain = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    assert plain.extra_for_risk == 0  # no models folder: no risk scoring
    report = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET, models_dir=tmp_path)
    assert report.extra_for_risk == 1 and report.enqueued == 1
    extra = [row for row in _outbox(engine, actor) if row["template_kind"] == "reminder_risk"]
    assert len(extra) == 1 and extra[0]["channel"] == "sms"
    assert VISIT - extra[0]["scheduled_at"] == timedelta(hours=2)
    again = schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET, models_dir=tmp_path)
    assert again.enqueued == 0  # idempotent like the others


def test_reminder_inputs_say_which_appointments_are_already_reminded(
    engine: sa.Engine, salon: dict
) -> None:
    actor = salon["actor"]
    schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    window = {"start": VISIT - timedelta(hours=1), "end": VISIT + timedelta(hours=3)}
    with read_conn(engine) as conn:
        inputs = load_reminder_inputs(conn, actor=actor, **window)
    assert inputs.reminded == {
        (salon["ada"], "sms", "reminder"),
        (salon["ada"], "email", "reminder"),
    }
    assert len(inputs.already) == 2
    first = inputs.appointments[0]
    assert first["id"] == salon["ada"] and first["staff_id"] and first["service_id"]
    with write_tx(engine) as conn:  # cancelled: the queued reminders are withdrawn
        conn.execute(appointments.update().where(appointments.c.id == salon["ada"]).values(
            status="cancelled", cancelled_at=NOW, updated_at=NOW,
        ))  # fmt: skip
    schedule_reminders(engine, actor=actor, now=NOW, quiet=QUIET)
    with read_conn(engine) as conn:
        inputs = load_reminder_inputs(conn, actor=actor, **window)
    assert inputs.reminded == set() and len(inputs.already) == 2  # keys stay used

"""Campaign audiences and customer tags on SQLite and PostgreSQL: the segment's customers
(merged ones read as gone), the keys the campaign used, who booked again, tags, and
recording a send; analysts refused, another business's campaign not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth.roles import Actor, PermissionDenied
from data.business import NotFound
from data.campaigns import create_campaign_draft, list_campaigns, record_campaign_sent
from data.db import read_conn, write_tx
from data.outbox import enqueue_messages
from data.schema import appointments, audit_log, campaigns, customers
from data.segments import (
    count_customer_tags,
    customers_for_window,
    customers_with_tags,
    load_campaign_audience,
)
from tests.factories import make_account, make_business, make_customer, make_service, make_staff

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    staff: Actor
    analyst: Actor
    ada: int
    bob: int
    cleo: int  # merged into Ada
    campaign: int


def _book(conn: sa.Connection, business: int, customer: int, start: datetime, status: str) -> None:
    staff, service = make_staff(conn, business), make_service(conn, business)
    conn.execute(appointments.insert().values(
        business_id=business, staff_id=staff, customer_id=customer, service_id=service,
        starts_at=start, ends_at=start + timedelta(minutes=30), status=status, price_cents=0,
        created_at=NOW, updated_at=NOW,
    ))  # fmt: skip


@pytest.fixture
def world(engine: sa.Engine, business: int) -> World:
    with write_tx(engine) as conn:
        ada = make_customer(conn, business, first_name="Ada")
        bob = make_customer(conn, business, first_name="Bob")
        cleo = make_customer(conn, business, first_name="Cleo")
        tags = {ada: ["vip", "colour"], bob: ["colour"], cleo: ["vip"]}
        for customer, found in tags.items():
            conn.execute(customers.update().where(customers.c.id == customer).values(tags=found))
        conn.execute(customers.update().where(customers.c.id == cleo).values(merged_into_id=ada))
        _book(conn, business, bob, NOW + timedelta(days=3), "booked")  # booked again
        _book(conn, business, ada, NOW - timedelta(days=3), "completed")  # past: not again
        _book(conn, business, ada, NOW + timedelta(days=5), "cancelled")  # cancelled: not again
        staff = Actor.for_account(account_id=make_account(conn, business, role="staff"),
                                  business_id=business, role="staff")  # fmt: skip
        analyst = Actor.for_account(account_id=make_account(conn, business, role="analyst"),
                                    business_id=business, role="analyst")  # fmt: skip
        campaign = create_campaign_draft(
            conn, actor=staff, name="Win back", kind="win_back", channel="sms",
            segment={"customer_ids": [bob, ada, cleo]},
        )  # fmt: skip
    return World(staff, analyst, ada, bob, cleo, campaign)


def test_the_audience_holds_the_segment_its_keys_and_who_booked_again(
    engine: sa.Engine, world: World
) -> None:
    w = world
    key = f"b{w.staff.business_id}:c{w.campaign}:u{w.ada}:sms"
    with write_tx(engine) as conn:
        enqueue_messages(conn, actor=w.staff, messages=[{
            "channel": "sms", "recipient": "+4915112345678", "body": "Hi", "campaign_id":
            w.campaign, "customer_id": w.ada, "template_kind": "win_back",
            "idempotency_key": key, "scheduled_at": NOW,
        }])  # fmt: skip
    with read_conn(engine) as conn:
        audience = load_campaign_audience(conn, actor=w.staff, campaign_id=w.campaign, now=NOW)
    assert audience.customer_ids == [w.bob, w.ada, w.cleo]
    assert set(audience.customers) == {w.ada, w.bob}  # Cleo was merged away
    assert audience.customers[w.ada]["first_name"] == "Ada"
    assert audience.already == {key} and audience.booked == {w.bob}
    assert (audience.campaign["kind"], audience.campaign["channel"]) == ("win_back", "sms")


def test_tags_are_counted_and_resolved_without_merged_customers(
    engine: sa.Engine, world: World
) -> None:
    w = world
    with read_conn(engine) as conn:
        assert count_customer_tags(conn, actor=w.staff) == {"colour": 2, "vip": 1}
        assert customers_with_tags(conn, actor=w.staff, tags=["vip"]) == [w.ada]
        assert customers_with_tags(conn, actor=w.staff, tags=["vip", "colour"]) == sorted(
            [w.ada, w.bob])  # fmt: skip
        assert customers_with_tags(conn, actor=w.staff, tags=["nobody"]) == []


def test_recording_a_send_marks_the_campaign_done_with_an_audit_entry(
    engine: sa.Engine, world: World
) -> None:
    w = world
    with write_tx(engine) as conn:
        record_campaign_sent(conn, actor=w.staff, campaign_id=w.campaign, enqueued=2, skipped=1)
    with read_conn(engine) as conn:
        [row] = list_campaigns(conn, actor=w.staff)
        entry = conn.execute(sa.select(audit_log).where(audit_log.c.action == "send")).mappings()
        [audit] = list(entry)
    assert row["status"] == "done"
    assert (audit["entity"], audit["entity_id"]) == ("campaigns", str(w.campaign))
    assert "enqueued" in str(audit["diff"]) and "Ada" not in str(audit["diff"])


def test_analysts_and_other_businesses_are_refused(engine: sa.Engine, world: World) -> None:
    w = world
    with write_tx(engine) as conn:
        other = Actor.operator(business_id=make_business(conn))
    with read_conn(engine) as conn:
        with pytest.raises(PermissionDenied):
            load_campaign_audience(conn, actor=w.analyst, campaign_id=w.campaign, now=NOW)
        with pytest.raises(PermissionDenied):
            count_customer_tags(conn, actor=w.analyst)
        with pytest.raises(NotFound):
            load_campaign_audience(conn, actor=other, campaign_id=w.campaign, now=NOW)
    with write_tx(engine) as conn, pytest.raises(NotFound):
        record_campaign_sent(conn, actor=other, campaign_id=w.campaign, enqueued=1, skipped=0)
    with write_tx(engine) as conn:
        conn.execute(campaigns.update().values(status="cancelled"))
    with write_tx(engine) as conn, pytest.raises(ValueError, match="cancelled"):
        record_campaign_sent(conn, actor=w.staff, campaign_id=w.campaign, enqueued=1, skipped=0)


def test_a_window_audience_is_who_came_then_and_holds_no_booking(
    engine: sa.Engine, world: World, business: int
) -> None:
    w = world
    past = NOW - timedelta(days=3)  # Ada's completed visit: Friday 1 May 2026, 11:00 Berlin
    with write_tx(engine) as conn:
        _book(conn, business, w.bob, past, "completed")  # Bob came too, but has booked again
        _book(conn, business, w.cleo, past, "completed")  # Cleo was merged away
    berlin = {"weekday": 4, "tz": "Europe/Berlin", "since": NOW - timedelta(days=365), "now": NOW}
    with read_conn(engine) as conn:
        found = customers_for_window(conn, actor=w.staff, start_hour=10, end_hour=12, **berlin)
        assert found == [w.ada]
        assert customers_for_window(conn, actor=w.staff, start_hour=12, end_hour=14, **berlin) == []
        utc = {**berlin, "tz": "UTC"}  # 09:00 UTC: the same instant in another zone's hours
        assert customers_for_window(conn, actor=w.staff, start_hour=9, end_hour=10, **utc) == [
            w.ada
        ]
        with pytest.raises(PermissionDenied):
            customers_for_window(conn, actor=w.analyst, start_hour=10, end_hour=12, **berlin)

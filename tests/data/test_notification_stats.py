"""The notification history's reads on both engines: the filtered outbox page, messages
per campaign and reminder outcomes - each scoped to its business."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.roles import Actor, PermissionDenied, Role
from data.campaigns import create_campaign_draft
from data.db import read_conn, write_tx
from data.notification_stats import (
    OUTCOME_COLUMNS,
    campaign_message_counts,
    load_outbox_page,
    load_reminder_outcomes,
)
from data.outbox import claim_due, record_delivery, record_failed, record_sent
from data.schema import appointments, notifications
from tests.data.test_outbox import LEASE, NOW, enqueue, message
from tests.factories import make_business, make_customer, make_service, make_staff

_keys = itertools.count(1)
LATER = NOW + timedelta(days=30)  # scheduled then: stays queued


@dataclass(frozen=True)
class Msg:
    """One outbox row to set up: its final status, when it was sent, and overrides."""

    status: str
    sent_at: datetime = NOW
    values: dict[str, Any] = field(default_factory=dict)


def add_messages(engine: Engine, business: int, specs: list[Msg]) -> list[int]:
    """The rows, enqueued through the data layer and driven to their statuses; ids."""
    rows = [message(business, next(_keys), **spec.values) for spec in specs]
    for row, spec in zip(rows, specs, strict=True):
        if spec.status == "queued":
            row["scheduled_at"] = LATER
    enqueue(engine, business, rows)
    with write_tx(engine) as conn:
        keys = [row["idempotency_key"] for row in rows]
        query = sa.select(notifications.c.idempotency_key, notifications.c.id).where(
            notifications.c.idempotency_key.in_(keys)
        )
        found = dict(conn.execute(query).all())
        ids = [found[key] for key in keys]
        claim_due(conn, now=NOW, limit=1_000, lease=LEASE, business_id=business)
        for message_id, spec in zip(ids, specs, strict=True):
            _drive(conn, message_id, spec)
    return ids


def _drive(conn: Connection, message_id: int, spec: Msg) -> None:
    if spec.status in ("sent", "delivered"):
        assert record_sent(conn, message_id=message_id, provider="console",
                           provider_message_id=f"c{message_id}", now=spec.sent_at)  # fmt: skip
    if spec.status == "delivered":
        assert record_delivery(conn, message_id=message_id, status="delivered", error=None,
                               at=spec.sent_at)  # fmt: skip
    if spec.status == "failed":
        assert record_failed(conn, message_id=message_id, error="boom", reason="test")


@dataclass(frozen=True)
class Shop:
    business: int
    actor: Actor
    staff: int
    service: int
    customer: int


def make_shop(engine: Engine, business: int | None = None) -> Shop:
    with write_tx(engine) as conn:
        business = business or make_business(conn)
        ids = (make_staff(conn, business), make_service(conn, business),
               make_customer(conn, business))  # fmt: skip
    return Shop(business, Actor.operator(business_id=business), *ids)


def book(engine: Engine, shop: Shop, starts_at: datetime, status: str) -> int:
    with write_tx(engine) as conn:
        insert = appointments.insert().values(
            business_id=shop.business, staff_id=shop.staff, service_id=shop.service,
            customer_id=shop.customer, starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45), status=status, price_cents=4500,
            created_at=starts_at - timedelta(days=7), updated_at=starts_at,
        )  # fmt: skip
        return int(conn.execute(insert).inserted_primary_key[0])


def page(engine: Engine, actor: Actor, **filters: Any) -> list[int]:
    with read_conn(engine) as conn:
        return [row["id"] for row in load_outbox_page(conn, actor=actor, **filters)]


# --- load_outbox_page ------------------------------------------------------------------


def test_outbox_page_filters_and_never_shows_another_business(
    engine: Engine, business: int
) -> None:
    shop, other = make_shop(engine, business), make_shop(engine)
    with write_tx(engine) as conn:
        campaign = create_campaign_draft(conn, actor=shop.actor, name="Spring", kind="win_back",
                                         channel="email", segment={})  # fmt: skip
    ids = add_messages(engine, business, [
        Msg("sent"), Msg("failed"), Msg("queued", values={"channel": "email",
                                                           "recipient": "ada@example.com"}),
        Msg("sent", values={"template_kind": "win_back", "campaign_id": campaign}),
    ])  # fmt: skip
    foreign = add_messages(engine, other.business, [Msg("failed"), Msg("sent")])
    with write_tx(engine) as conn:  # the first message is old
        conn.execute(notifications.update().where(notifications.c.id == ids[0])
                     .values(created_at=NOW - timedelta(days=40)))  # fmt: skip
    everything = page(engine, shop.actor)
    assert sorted(everything) == sorted(ids) and not set(everything) & set(foreign)
    assert everything[-1] == ids[0]  # newest first: the old one last
    assert page(engine, shop.actor, status="failed") == [ids[1]]
    assert page(engine, shop.actor, channel="email") == [ids[2]]
    assert page(engine, shop.actor, kind="win_back") == [ids[3]]
    assert page(engine, shop.actor, campaign_id=campaign) == [ids[3]]
    assert sorted(page(engine, shop.actor, since=NOW - timedelta(days=30))) == sorted(ids[1:])
    assert len(page(engine, shop.actor, limit=2)) == 2
    assert page(engine, shop.actor, status="sent", channel="email") == []
    with read_conn(engine) as conn:
        [row] = load_outbox_page(conn, actor=shop.actor, channel="email")
    assert "body" not in row and "subject" not in row
    assert (row["recipient"], row["status"], row["template_kind"]) == (
        "ada@example.com", "queued", "reminder")  # fmt: skip


def test_outbox_page_refuses_bad_filters_and_analysts(engine: Engine, business: int) -> None:
    actor = Actor.operator(business_id=business)
    with read_conn(engine) as conn:
        for bad in ({"status": "lost"}, {"channel": "fax"}, {"limit": 0}, {"limit": 1_001}):
            with pytest.raises(ValueError):
                load_outbox_page(conn, actor=actor, **bad)
        with pytest.raises(PermissionDenied):
            load_outbox_page(conn, actor=Actor(None, business, Role.ANALYST, "test"))


# --- campaign_message_counts ------------------------------------------------------------


def test_campaign_counts_by_status_per_campaign(engine: Engine, business: int) -> None:
    shop, other = make_shop(engine, business), make_shop(engine)
    with write_tx(engine) as conn:
        first, second, idle = (
            create_campaign_draft(
                conn, actor=shop.actor, name=name, kind="win_back", channel="sms", segment={}
            )  # fmt: skip
            for name in ("First", "Second", "Idle")
        )
        theirs = create_campaign_draft(conn, actor=other.actor, name="Theirs", kind="win_back",
                                       channel="sms", segment={})  # fmt: skip
    add_messages(engine, business, [
        Msg("sent", values={"campaign_id": first}), Msg("sent", values={"campaign_id": first}),
        Msg("failed", values={"campaign_id": first}), Msg("queued", values={"campaign_id": second}),
        Msg("sent"),
    ])  # fmt: skip
    add_messages(engine, other.business, [Msg("sent", values={"campaign_id": theirs})])
    with read_conn(engine) as conn:
        counts = campaign_message_counts(conn, actor=shop.actor)
        with pytest.raises(PermissionDenied):
            campaign_message_counts(conn, actor=Actor(None, business, Role.ANALYST, "test"))
    assert set(counts) == {first, second} and idle not in counts and theirs not in counts
    assert {k: v for k, v in counts[first].items() if v} == {"sent": 2, "failed": 1}
    assert {k: v for k, v in counts[second].items() if v} == {"queued": 1}
    assert counts[second]["delivered"] == 0


# --- load_reminder_outcomes ---------------------------------------------------------------


def test_reminder_outcomes_of_past_appointments(engine: Engine, business: int) -> None:
    shop, other = make_shop(engine, business), make_shop(engine)
    kept = book(engine, shop, NOW - timedelta(days=2), "completed")
    missed = book(engine, shop, NOW - timedelta(days=1), "no_show")
    queued_only = book(engine, shop, NOW - timedelta(hours=3), "cancelled")
    future = book(engine, shop, NOW + timedelta(days=1), "booked")
    too_old = book(engine, shop, NOW - timedelta(days=40), "completed")
    theirs = book(engine, other, NOW - timedelta(days=2), "no_show")
    day_before = NOW - timedelta(days=3)
    add_messages(engine, business, [
        Msg("sent", day_before, {"appointment_id": kept, "variant": "A"}),
        Msg("delivered", day_before + timedelta(minutes=1),
            {"appointment_id": kept, "channel": "email", "recipient": "a@example.com",
             "variant": "B"}),
        Msg("failed", values={"appointment_id": kept}),  # never reached the provider
        Msg("sent", day_before, {"appointment_id": kept, "template_kind": "confirmation"}),
        Msg("queued", values={"appointment_id": queued_only}),
        Msg("sent", day_before, {"appointment_id": future}),
        Msg("sent", day_before, {"appointment_id": too_old}),
    ])  # fmt: skip
    add_messages(engine, other.business, [Msg("sent", day_before, {"appointment_id": theirs})])
    analyst = Actor(None, business, Role.ANALYST, "test")  # VIEW_ANALYTICS is enough
    with read_conn(engine) as conn:
        outcomes = load_reminder_outcomes(conn, actor=analyst, since=NOW - timedelta(days=30),
                                          until=NOW + timedelta(days=7), now=NOW)  # fmt: skip
    assert list(outcomes.columns) == list(OUTCOME_COLUMNS)
    got = outcomes.astype(object).where(outcomes.notna(), None)
    assert [tuple(r) for r in got[["appointment_id", "status", "channel", "variant"]].values] == [
        (kept, "completed", "sms", "A"), (kept, "completed", "email", "B"),
        (missed, "no_show", None, None), (queued_only, "cancelled", None, None),
    ]  # fmt: skip
    assert list(outcomes["sent_at"].iloc[:2]) == [day_before, day_before + timedelta(minutes=1)]
    assert outcomes["starts_at"].iloc[0] == NOW - timedelta(days=2)
    assert str(outcomes["starts_at"].dt.tz) == "UTC"


def test_reminder_outcomes_empty_window(engine: Engine, business: int) -> None:
    shop = make_shop(engine, business)
    book(engine, shop, NOW + timedelta(hours=1), "booked")
    with read_conn(engine) as conn:
        outcomes = load_reminder_outcomes(conn, actor=shop.actor, since=NOW, until=NOW,
                                          now=NOW + timedelta(days=1))  # fmt: skip
        later = load_reminder_outcomes(conn, actor=shop.actor, since=NOW,
                                       until=NOW + timedelta(days=1), now=NOW)  # fmt: skip
    assert outcomes.empty and later.empty
    assert list(outcomes.columns) == list(OUTCOME_COLUMNS)
    assert isinstance(outcomes["starts_at"].dtype, pd.DatetimeTZDtype)

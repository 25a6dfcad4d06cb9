"""Campaign drafts on SQLite and PostgreSQL: create and list by role, validation,
foreign customers refused with nothing written, and an audit entry without customer data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import sqlalchemy as sa

import data.campaigns as campaigns_data
from auth.roles import Actor, PermissionDenied
from data.audit import load_audit_log
from data.campaigns import CAMPAIGN_KINDS, create_campaign_draft, list_campaigns
from data.db import read_conn, write_tx
from data.schema import audit_log, campaigns
from tests.factories import make_account, make_business, make_customer


@dataclass(frozen=True)
class World:
    owner: Actor
    staff: Actor
    analyst: Actor
    ada: int
    bob: int
    foreign: int  # another business's customer


@pytest.fixture
def world(engine: sa.Engine, business: int) -> World:
    with write_tx(engine) as conn:
        ada = make_customer(conn, business, first_name="Adelheid")
        bob = make_customer(conn, business, first_name="Bartholomew")
        foreign = make_customer(conn, make_business(conn), first_name="Otto")
        accounts = {role: make_account(conn, business, role=role)
                    for role in ("owner", "staff", "analyst")}  # fmt: skip
    actors = {role: Actor.for_account(account_id=account, business_id=business, role=role)
              for role, account in accounts.items()}  # fmt: skip
    return World(actors["owner"], actors["staff"], actors["analyst"], ada, bob, foreign)


def _create(engine: sa.Engine, actor: Actor, **overrides) -> int:
    fields = {"name": "Win back", "kind": "win_back", "channel": "sms", "segment": {}}
    with write_tx(engine) as conn:
        return create_campaign_draft(conn, actor=actor, **(fields | overrides))


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with read_conn(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_create_and_list_drafts(engine: sa.Engine, world: World) -> None:
    w = world
    segment = {"band": "high", "customer_ids": [w.bob, np.int64(w.ada), w.bob], "min": 0.5}
    first = _create(engine, w.staff, name="  Spring win-back  ", segment=segment)
    second = _create(engine, w.owner, name="Opening hours", kind="announcement",
                     channel="email")  # fmt: skip
    with read_conn(engine) as conn:
        listed = list_campaigns(conn, actor=w.analyst)
        drafts = list_campaigns(conn, actor=w.staff, status="draft", limit=1)
        done = list_campaigns(conn, actor=w.owner, status="done")
    assert [c["id"] for c in listed] == [second, first]  # newest first
    spring = listed[1]
    assert {key: spring[key] for key in ("name", "kind", "channel", "status", "created_by")} == {
        "name": "Spring win-back", "kind": "win_back", "channel": "sms", "status": "draft",
        "created_by": w.staff.account_id,
    }  # fmt: skip
    assert spring["segment"] == {"band": "high", "customer_ids": [w.bob, w.ada], "min": 0.5}
    assert spring["audience"] == 2 and spring["created_at"].tzinfo is not None
    assert listed[0]["audience"] is None and listed[0]["segment"] == {}
    assert [c["id"] for c in drafts] == [second] and done == []
    assert set(listed[0]) == {"id", "name", "kind", "channel", "status", "segment",
                              "created_by", "created_at", "audience"}  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "   "}, "name must have"),
        ({"name": "x" * 201}, "name must have"),
        ({"kind": "spam"}, "kind must be one of"),
        ({"channel": "fax"}, "channel must be one of"),
        ({"segment": ["not", "a", "mapping"]}, "segment must be a mapping"),
        ({"segment": {"tags": {"vip"}}}, "segment must be JSON"),
        ({"segment": {"customer_ids": []}}, "non-empty list"),
        ({"segment": {"customer_ids": "1,2"}}, "non-empty list"),
        ({"segment": {"customer_ids": [1.5]}}, "whole numbers"),
        ({"segment": {"customer_ids": [True]}}, "whole numbers"),
    ],
)
def test_invalid_drafts_are_refused(
    engine: sa.Engine, world: World, overrides: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _create(engine, world.owner, **overrides)
    assert _count(engine, campaigns) == 0


def test_names_at_the_limits_are_kept(engine: sa.Engine, world: World) -> None:
    _create(engine, world.owner, name="x" * 200)
    _create(engine, world.owner, name="y")
    with read_conn(engine) as conn:
        assert {c["name"] for c in list_campaigns(conn, actor=world.owner)} == {"x" * 200, "y"}
    assert CAMPAIGN_KINDS == ("win_back", "reminder", "announcement")


def test_analyst_may_list_but_not_create(engine: sa.Engine, world: World) -> None:
    with pytest.raises(PermissionDenied):
        _create(engine, world.analyst)
    assert _count(engine, campaigns) == 0
    with read_conn(engine) as conn:
        assert list_campaigns(conn, actor=world.analyst) == []


def test_foreign_customers_are_refused_and_nothing_is_written(
    engine: sa.Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    monkeypatch.setattr(campaigns_data, "CHUNK_IDS", 2)  # the ids span two IN-lists
    audit_rows = _count(engine, audit_log)
    ids = [w.ada, w.foreign, w.bob, w.foreign + 1000]
    with pytest.raises(ValueError, match="2 customer id"):
        _create(engine, w.owner, segment={"customer_ids": ids})
    assert (_count(engine, campaigns), _count(engine, audit_log)) == (0, audit_rows)
    assert _create(engine, w.owner, segment={"customer_ids": [w.ada, w.bob, w.ada]}) > 0


def test_audit_entry_counts_customers_and_names_none(engine: sa.Engine, world: World) -> None:
    w = world
    campaign = _create(engine, w.staff, name="Lapsed VIPs",
                       segment={"band": "high", "customer_ids": [w.ada, w.bob]})  # fmt: skip
    with read_conn(engine) as conn:
        [entry] = load_audit_log(conn, actor=w.owner, entity="campaigns")
    assert (entry["action"], entry["entity_id"], entry["account_id"]) == (
        "create", str(campaign), w.staff.account_id,
    )  # fmt: skip
    after = {field: new for field, (_, new) in entry["diff"].items()}
    assert after == {"name": "Lapsed VIPs", "kind": "win_back", "channel": "sms",
                     "status": "draft", "audience": 2,
                     "segment_keys": ["band", "customer_ids"]}  # fmt: skip
    text = str(entry["diff"])
    assert "Adelheid" not in text and "Bartholomew" not in text

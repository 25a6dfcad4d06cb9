"""Retention's SQL on SQLite and PostgreSQL: the visit events frame (exact columns,
dtypes and instants, walk-ins and other businesses left out, the `before` cut), the
data version, and stored churn score sets (round trip, replace, keep the newest three,
refusals that write nothing, lookups by role, display details without contacts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import data.retention as retention
from auth.roles import Actor, PermissionDenied
from data.db import read_conn, write_tx
from data.retention import (
    KEEP_SCORE_SETS,
    load_churn_customer_details,
    load_customer_churn_score,
    load_latest_churn_scores,
    load_visit_events,
    save_churn_scores,
)
from data.schema import appointments, churn_scores, customers
from tests.factories import make_account, make_business, make_customer, make_service, make_staff

VISIT_DTYPES = {
    "appointment_id": "int64", "customer_id": "int64", "staff_id": "int64",
    "service_id": "int64", "starts_at": "datetime64[ns, UTC]",
    "created_at": "datetime64[ns, UTC]", "cancelled_at": "datetime64[ns, UTC]",
    "status": "str", "price_cents": "int64",
}  # fmt: skip
T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    business: int
    staff: int
    service: int
    ada: int
    bob: int
    analyst: Actor
    staff_actor: Actor
    other: int  # another business
    other_customer: int


def _visit(conn, business, staff, service, customer, starts, *, created=None, status="completed",
           cancelled=None, price=3000) -> int:  # fmt: skip
    created = created or starts - timedelta(days=2)
    insert = appointments.insert().values(
        business_id=business, staff_id=staff, service_id=service, customer_id=customer,
        starts_at=starts, ends_at=starts + timedelta(minutes=30), status=status,
        price_cents=price, created_at=created, updated_at=created, cancelled_at=cancelled,
    )  # fmt: skip
    return int(conn.execute(insert).inserted_primary_key[0])


@pytest.fixture
def world(engine: sa.Engine, business: int) -> World:
    with write_tx(engine) as conn:
        staff, service = make_staff(conn, business), make_service(conn, business)
        ada, bob = make_customer(conn, business), make_customer(conn, business, first_name="Bob")
        analyst = make_account(conn, business, role="analyst")
        staff_account = make_account(conn, business, role="staff")
        other = make_business(conn)
        other_customer = make_customer(conn, other, first_name="Otto")
    return World(
        business, staff, service, ada, bob,
        Actor.for_account(account_id=analyst, business_id=business, role="analyst"),
        Actor.for_account(account_id=staff_account, business_id=business, role="staff"),
        other, other_customer,
    )  # fmt: skip


# --- visit events ---------------------------------------------------------------------


def test_visit_events_are_typed_sorted_and_exact(engine: sa.Engine, world: World) -> None:
    w = world
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))  # aware, not UTC: stored as UTC
    with write_tx(engine) as conn:
        late = _visit(conn, w.business, w.staff, w.service, w.ada, T0 + timedelta(days=7),
                      status="cancelled", cancelled=T0 + timedelta(days=6, microseconds=7),
                      price=4550)  # fmt: skip
        early = _visit(conn, w.business, w.staff, w.service, w.ada, berlin)
        bobs = _visit(conn, w.business, w.staff, w.service, w.bob, T0 - timedelta(days=1),
                      status="no_show")  # fmt: skip
        _visit(conn, w.business, w.staff, w.service, None, T0 + timedelta(hours=2))  # walk-in
        other_staff, other_service = make_staff(conn, w.other), make_service(conn, w.other)
        _visit(conn, w.other, other_staff, other_service, w.other_customer, T0)
    with read_conn(engine) as conn:
        frame = load_visit_events(conn, actor=w.analyst)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == VISIT_DTYPES
    assert list(frame.columns) == list(VISIT_DTYPES)
    ordered = [(w.ada, early), (w.ada, late), (w.bob, bobs)]  # by customer, then start
    assert list(zip(frame["customer_id"], frame["appointment_id"], strict=True)) == ordered
    row = frame.set_index("appointment_id").loc[late]
    assert row["starts_at"] == pd.Timestamp(T0 + timedelta(days=7))
    assert row["created_at"] == pd.Timestamp(T0 + timedelta(days=5))
    assert row["cancelled_at"] == pd.Timestamp(T0 + timedelta(days=6, microseconds=7))
    assert (row["status"], row["price_cents"], row["staff_id"]) == ("cancelled", 4550, w.staff)
    first = frame.set_index("appointment_id").loc[early]
    assert first["starts_at"] == pd.Timestamp(T0) and pd.isna(first["cancelled_at"])
    assert str(first["starts_at"].tz) == "UTC" and first["service_id"] == w.service
    assert frame.set_index("appointment_id").loc[bobs, "status"] == "no_show"


def test_visit_events_before_cuts_on_created_at(engine: sa.Engine, world: World) -> None:
    w = world
    with write_tx(engine) as conn:
        old = _visit(
            conn, w.business, w.staff, w.service, w.ada, T0, created=T0 - timedelta(days=9)
        )
        _visit(conn, w.business, w.staff, w.service, w.ada, T0 + timedelta(days=1), created=T0)
        _visit(conn, w.business, w.staff, w.service, w.bob, T0 - timedelta(days=30),
               created=T0 + timedelta(seconds=1))  # fmt: skip
    with read_conn(engine) as conn:
        cut = load_visit_events(conn, actor=w.analyst, before=T0)  # created_at == T0: excluded
        everything = load_visit_events(conn, actor=w.analyst)
    assert cut["appointment_id"].tolist() == [old]
    assert len(everything) == 3


def test_visit_events_refuse_staff_and_type_an_empty_business(
    engine: sa.Engine, world: World
) -> None:
    with read_conn(engine) as conn:
        with pytest.raises(PermissionDenied):
            load_visit_events(conn, actor=world.staff_actor)
        empty = load_visit_events(conn, actor=world.analyst)
    assert empty.empty
    assert {name: str(dtype) for name, dtype in empty.dtypes.items()} == VISIT_DTYPES


# --- churn scores ---------------------------------------------------------------------


def _scores(*rows: tuple[int, float, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "score": [r[1] for r in rows],
            "band": [r[2] for r in rows],
            "drivers": [[{"feature": "recency_days", "value": r[1]}] for r in rows],
        }
    )


def _save(conn, actor: Actor, scores: pd.DataFrame, as_of=T0, version="v1") -> int:
    return save_churn_scores(conn, actor=actor, as_of=as_of, model_version=version,
                             fingerprint=f"fp-{version}", scores=scores)  # fmt: skip


def _stored(engine: sa.Engine, business: int) -> list[tuple]:
    query = (
        sa.select(churn_scores.c.as_of, churn_scores.c.model_version, churn_scores.c.customer_id)
        .where(churn_scores.c.business_id == business)
        .order_by(churn_scores.c.id)
    )
    with read_conn(engine) as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_scores_round_trip_with_their_drivers(engine: sa.Engine, world: World) -> None:
    w = world
    scores = _scores((w.ada, 0.25, "low"), (w.bob, 0.875, "high"))
    scores.at[1, "drivers"] = [
        {"feature": "no_show_rate", "value": np.float64(0.5), "rank": np.int64(1)},
        {"feature": "typical_gap_days", "value": float("nan"), "text": "no usual gap yet"},
    ]
    with write_tx(engine) as conn:
        assert _save(conn, w.analyst, scores) == 2
    with read_conn(engine) as conn:
        latest = load_latest_churn_scores(conn, actor=w.analyst)
    assert {name: str(dtype) for name, dtype in latest.dtypes.items()} == retention.SCORE_COLUMNS
    assert latest["customer_id"].tolist() == [w.bob, w.ada]  # riskiest first
    assert latest["score"].tolist() == [0.875, 0.25] and latest["band"].tolist() == ["high", "low"]
    assert latest.loc[0, "drivers"] == [
        {"feature": "no_show_rate", "value": 0.5, "rank": 1},
        {"feature": "typical_gap_days", "value": None, "text": "no usual gap yet"},
    ]
    assert latest.loc[1, "drivers"] == [{"feature": "recency_days", "value": 0.25}]
    assert set(latest["as_of"]) == {pd.Timestamp(T0)}
    assert set(latest["model_version"]) == {"v1"} and set(latest["data_fingerprint"]) == {"fp-v1"}
    assert latest["created_at"].notna().all()


def test_saving_the_same_set_replaces_it(engine: sa.Engine, world: World) -> None:
    w = world
    with write_tx(engine) as conn:
        _save(conn, w.analyst, _scores((w.ada, 0.5, "medium"), (w.bob, 0.5, "medium")))
        _save(conn, w.analyst, _scores((w.ada, 0.75, "high")), version="v2")
        _save(conn, w.analyst, _scores((w.bob, 0.125, "low")))  # v1 again: replaced, newest
    assert sorted(_stored(engine, w.business)) == [
        (T0, "v1", w.bob),
        (T0, "v2", w.ada),
    ]
    with read_conn(engine) as conn:
        latest = load_latest_churn_scores(conn, actor=w.analyst)
    assert latest[["customer_id", "score", "model_version"]].values.tolist() == [
        [w.bob, 0.125, "v1"]
    ]


def test_only_the_newest_sets_are_kept(engine: sa.Engine, world: World) -> None:
    w = world
    days = [T0 + timedelta(days=n) for n in range(KEEP_SCORE_SETS + 2)]
    with write_tx(engine) as conn:
        other_actor = Actor.operator(business_id=w.other)
        _save(conn, other_actor, _scores((w.other_customer, 0.5, "medium")), as_of=T0)
        for n, day in enumerate(days):
            _save(conn, w.analyst, _scores((w.ada, n / 10, "low"), (w.bob, 0.5, "medium")),
                  as_of=day)  # fmt: skip
    kept = {as_of for as_of, _, _ in _stored(engine, w.business)}
    assert kept == set(days[-KEEP_SCORE_SETS:])
    assert len(_stored(engine, w.business)) == 2 * KEEP_SCORE_SETS
    assert _stored(engine, w.other) == [(T0, "v1", w.other_customer)]  # not pruned
    with read_conn(engine) as conn:
        latest = load_latest_churn_scores(conn, actor=w.analyst)
    assert set(latest["as_of"]) == {pd.Timestamp(days[-1])}


def test_bad_scores_are_refused_and_nothing_is_written(engine: sa.Engine, world: World) -> None:
    w = world
    with write_tx(engine) as conn:
        _save(conn, w.analyst, _scores((w.ada, 0.5, "medium")))
    before = _stored(engine, w.business)
    bad = {
        "not customers of": _scores((w.bob, 0.5, "low"), (w.other_customer, 0.5, "low")),
        "lack column": _scores((w.ada, 0.5, "low")).drop(columns="drivers"),
        "each customer once": _scores((w.ada, 0.5, "low"), (w.ada, 0.5, "low")),
        "drivers must be JSON": _scores((w.ada, 0.5, "low")).assign(drivers=[[{"x": {1}}]]),
        "drivers must be a list": _scores((w.ada, 0.5, "low")).assign(drivers=[{"x": 1}]),
        "from 0 to 1": _scores((w.ada, 1.5, "high")),
        "unknown band": _scores((w.ada, 0.5, "severe")),
    }  # fmt: skip
    for message, scores in bad.items():
        with pytest.raises(ValueError, match=message), write_tx(engine) as conn:
            _save(conn, w.analyst, scores)
    with pytest.raises(ValueError, match="1 customer id"), write_tx(engine) as conn:
        _save(conn, w.analyst, _scores((w.other_customer, 0.5, "low")))
    assert _stored(engine, w.business) == before  # the same set was not even deleted
    with pytest.raises(PermissionDenied), write_tx(engine) as conn:
        _save(conn, w.staff_actor, _scores((w.ada, 0.5, "low")))


def test_one_customer_score_for_staff_and_analyst(engine: sa.Engine, world: World) -> None:
    w = world
    with read_conn(engine) as conn:
        assert load_customer_churn_score(conn, actor=w.staff_actor, customer_id=w.ada) is None
        empty = load_latest_churn_scores(conn, actor=w.analyst)
    assert empty.empty
    assert {name: str(dtype) for name, dtype in empty.dtypes.items()} == retention.SCORE_COLUMNS
    with write_tx(engine) as conn:
        _save(conn, w.analyst, _scores((w.ada, 0.5, "medium"), (w.bob, 0.25, "low")))
        _save(conn, w.analyst, _scores((w.ada, 0.75, "high")), as_of=T0 + timedelta(days=1))
    with read_conn(engine) as conn:
        for actor in (w.staff_actor, w.analyst):
            found = load_customer_churn_score(conn, actor=actor, customer_id=w.ada)
            assert found is not None and set(found) == set(retention.SCORE_COLUMNS)
            assert (found["score"], found["band"], found["as_of"]) == (
                0.75, "high", T0 + timedelta(days=1),
            )  # fmt: skip
            assert found["drivers"] == [{"feature": "recency_days", "value": 0.75}]
            # Bob is only in the older set: not in the newest, so no score
            assert load_customer_churn_score(conn, actor=actor, customer_id=w.bob) is None
        with pytest.raises(PermissionDenied):
            load_latest_churn_scores(conn, actor=w.staff_actor)


def test_customer_details_without_contacts(
    engine: sa.Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    monkeypatch.setattr(retention, "CHUNK_ROWS", 1)  # one IN-list per id
    with write_tx(engine) as conn:
        contacts = {"external_id": "X-7", "email": "bob@example.com", "phone": "+4915100000000"}
        conn.execute(customers.update().where(customers.c.id == w.bob).values(**contacts))
    ids = [w.bob, w.other_customer, w.ada, w.bob]
    with read_conn(engine) as conn:
        named = load_churn_customer_details(conn, actor=w.analyst, customer_ids=ids,
                                            include_names=True)  # fmt: skip
        bare = load_churn_customer_details(conn, actor=w.analyst, customer_ids=ids,
                                           include_names=False)  # fmt: skip
        with pytest.raises(PermissionDenied):
            load_churn_customer_details(conn, actor=w.staff_actor, customer_ids=ids,
                                        include_names=False)  # fmt: skip
    assert list(named.columns) == ["customer_id", "external_id", "first_name", "last_name"]
    assert named["customer_id"].tolist() == [w.ada, w.bob]  # B's customer is absent
    assert named["first_name"].tolist() == ["Ada", "Bob"]
    assert pd.isna(named.loc[0, "external_id"]) and named.loc[1, "external_id"] == "X-7"
    assert list(bare.columns) == ["customer_id", "external_id"]
    assert bare["customer_id"].tolist() == [w.ada, w.bob]

"""Stored recommendations on SQLite and PostgreSQL: runs saved and found again by their
facts' hash, engine and model; listing; marking implemented or dismissed with audit;
roles (analysts read, only owners act); another business's row not found."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.roles import Actor, PermissionDenied
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import ai_suggestions, audit_log
from data.suggestions import find_cached_run, list_suggestions, save_run, set_suggestion_status
from tests.factories import make_account, make_business


def _item(title: str, category: str = "marketing") -> dict:
    rec = {"title": title, "category": category, "cites": ["kpi.bookings"]}
    return {"category": category, "recommendation": rec,
            "evidence": [{"id": "kpi.bookings", "value": 120}]}  # fmt: skip


@pytest.fixture
def actors(engine: sa.Engine, business: int) -> dict[str, Actor]:
    with write_tx(engine) as conn:
        ids = {role: make_account(conn, business, role=role) for role in ("owner", "analyst")}
    return {role: Actor.for_account(account_id=i, business_id=business, role=role)
            for role, i in ids.items()}  # fmt: skip


def test_a_run_is_stored_and_found_by_hash_engine_and_model(
    engine: sa.Engine, actors: dict[str, Actor]
) -> None:
    owner, analyst = actors["owner"], actors["analyst"]
    with write_tx(engine) as conn:
        first = save_run(conn, actor=owner, items=[_item("A"), _item("B", "capacity")],
                         engine="rules", model=None, facts_hash="h1")  # fmt: skip
        second = save_run(conn, actor=owner, items=[_item("C")], engine="openai",
                          model="gpt-x", facts_hash="h1", note=None)  # fmt: skip
    with read_conn(engine) as conn:
        rules = find_cached_run(conn, actor=analyst, facts_hash="h1", engine="rules", model=None)
        llm = find_cached_run(conn, actor=analyst, facts_hash="h1", engine="openai", model="gpt-x")
        other_model = find_cached_run(conn, actor=analyst, facts_hash="h1", engine="openai",
                                      model="gpt-y")  # fmt: skip
        other_hash = find_cached_run(conn, actor=analyst, facts_hash="h2", engine="rules",
                                     model=None)  # fmt: skip
        listed = list_suggestions(conn, actor=analyst)
        audit = conn.execute(sa.select(audit_log.c.action, audit_log.c.entity_id).where(
            audit_log.c.entity == "ai_suggestions")).all()  # fmt: skip
    assert [r["suggestion_data"]["recommendation"]["title"] for r in rules] == ["A", "B"]
    assert {r["suggestion_data"]["run"] for r in rules} == {first}
    assert [r["suggestion_data"]["run"] for r in llm] == [second]
    assert other_model == [] and other_hash == []
    assert [r["suggestion_type"] for r in rules] == ["marketing", "capacity"]
    assert len(listed) == 3 and {r["status"] for r in listed} == {"open"}
    assert sorted(audit) == sorted([("generate", first), ("generate", second)])


def test_marking_changes_status_once_with_an_audit_entry(
    engine: sa.Engine, actors: dict[str, Actor]
) -> None:
    owner = actors["owner"]
    with write_tx(engine) as conn:
        save_run(conn, actor=owner, items=[_item("A")], engine="rules", model=None,
                 facts_hash="h")  # fmt: skip
        [row_id] = conn.execute(sa.select(ai_suggestions.c.id)).scalars()
        assert set_suggestion_status(conn, actor=owner, suggestion_id=row_id, status="implemented")
        assert not set_suggestion_status(conn, actor=owner, suggestion_id=row_id,
                                         status="implemented")  # fmt: skip
    with read_conn(engine) as conn:
        [row] = list_suggestions(conn, actor=owner, status="implemented")
        mine = sa.and_(audit_log.c.entity == "ai_suggestions", audit_log.c.action == "update")
        updates = conn.execute(sa.select(sa.func.count()).where(mine)).scalar_one()
    assert row["is_implemented"] and updates == 1
    with write_tx(engine) as conn:
        set_suggestion_status(conn, actor=owner, suggestion_id=row_id, status="dismissed")
        [row] = list_suggestions(conn, actor=owner)
    assert (row["status"], row["is_implemented"]) == ("dismissed", False)


def test_roles_bad_input_and_other_businesses(engine: sa.Engine, actors: dict[str, Actor]) -> None:
    owner, analyst = actors["owner"], actors["analyst"]
    with write_tx(engine) as conn:
        save_run(conn, actor=owner, items=[_item("A")], engine="rules", model=None,
                 facts_hash="h")  # fmt: skip
        [row_id] = conn.execute(sa.select(ai_suggestions.c.id)).scalars()
        other = Actor.operator(business_id=make_business(conn))
    with write_tx(engine) as conn, pytest.raises(PermissionDenied):
        save_run(conn, actor=analyst, items=[], engine="rules", model=None, facts_hash="h")
    with write_tx(engine) as conn, pytest.raises(PermissionDenied):
        set_suggestion_status(conn, actor=analyst, suggestion_id=row_id, status="dismissed")
    with write_tx(engine) as conn, pytest.raises(ValueError):
        save_run(conn, actor=owner, items=[], engine="magic", model=None, facts_hash="h")
    with write_tx(engine) as conn, pytest.raises(ValueError):
        set_suggestion_status(conn, actor=owner, suggestion_id=row_id, status="done")
    with write_tx(engine) as conn, pytest.raises(NotFound):
        set_suggestion_status(conn, actor=other, suggestion_id=row_id, status="dismissed")
    with read_conn(engine) as conn:
        assert list_suggestions(conn, actor=other) == []
        assert find_cached_run(conn, actor=other, facts_hash="h", engine="rules", model=None) == []

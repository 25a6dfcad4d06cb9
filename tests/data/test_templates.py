"""Stored message templates on SQLite and PostgreSQL: defaults (idempotent), save with
validation, clashes, activation, roles, and audit entries without the body."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from auth.roles import Actor, PermissionDenied
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import audit_log, notification_templates
from data.templates import (
    ensure_default_templates,
    list_templates,
    load_template,
    save_template,
    set_template_active,
)
from notifications.templates import DEFAULT_TEMPLATES
from tests.factories import make_account


@dataclass(frozen=True)
class Actors:
    owner: Actor
    staff: Actor
    analyst: Actor


@pytest.fixture
def actors(engine: sa.Engine, business: int) -> Actors:
    with write_tx(engine) as conn:
        ids = {role: make_account(conn, business, role=role)
               for role in ("owner", "staff", "analyst")}  # fmt: skip
    made = {role: Actor.for_account(account_id=i, business_id=business, role=role)
            for role, i in ids.items()}  # fmt: skip
    return Actors(made["owner"], made["staff"], made["analyst"])


SMS = {"kind": "reminder", "channel": "sms", "variant": "B", "name": "Short reminder",
       "subject": None, "body": "Hi {{ first_name }}, see you {{ date }}, {{ time }}."}  # fmt: skip


def _save(engine: sa.Engine, actor: Actor, template_id: int | None = None, **overrides) -> int:
    with write_tx(engine) as conn:
        return save_template(conn, actor=actor, template_id=template_id, **(SMS | overrides))


def _audits(engine: sa.Engine) -> list[dict]:
    with read_conn(engine) as conn:
        query = sa.select(audit_log).where(audit_log.c.entity == "notification_templates")
        return [dict(row) for row in conn.execute(query.order_by(audit_log.c.id)).mappings()]


def test_ensure_defaults_is_idempotent_and_keeps_edits(engine: sa.Engine, actors: Actors) -> None:
    with write_tx(engine) as conn:
        assert ensure_default_templates(conn, actor=actors.staff) == len(DEFAULT_TEMPLATES)
        assert ensure_default_templates(conn, actor=actors.staff) == 0
        rows = list_templates(conn, actor=actors.staff)
    assert {(r["kind"], r["channel"]) for r in rows} == set(DEFAULT_TEMPLATES)
    assert all(r["variant"] == "A" and r["is_active"] for r in rows)
    mail = next(r for r in rows if (r["kind"], r["channel"]) == ("win_back", "email"))
    assert mail["body"] == DEFAULT_TEMPLATES["win_back", "email"].body and mail["subject"]
    assert [(r["kind"], r["channel"]) for r in rows] == sorted(DEFAULT_TEMPLATES)
    edited = _save(engine, actors.owner, mail["id"], kind="win_back", channel="email",
                   variant="A", subject="Come back", body="Hi {{ first_name }}")  # fmt: skip
    with write_tx(engine) as conn:  # deleting one default: only that one comes back
        conn.execute(notification_templates.delete().where(
            notification_templates.c.kind == "cancellation",
            notification_templates.c.channel == "sms"))  # fmt: skip
        assert ensure_default_templates(conn, actor=actors.owner) == 1
        assert load_template(conn, actor=actors.owner, template_id=edited)["subject"] == "Come back"
    audits = _audits(engine)
    assert [a["action"] for a in audits] == ["create_defaults", "update", "create_defaults"]
    assert audits[2]["diff"] == {"templates": [None, ["cancellation/sms/A"]]}


def test_save_creates_updates_and_audits_without_body(engine: sa.Engine, actors: Actors) -> None:
    new = _save(engine, actors.staff, variant=" b2 ", subject="ignored for SMS")
    with read_conn(engine) as conn:
        row = load_template(conn, actor=actors.staff, template_id=new)
    assert (row["variant"], row["subject"], row["name"], row["is_active"]) == (
        "B2", None, "Short reminder", True
    )  # fmt: skip
    _save(engine, actors.owner, new, kind="confirmation", channel="email", variant="B2",
          subject="  Booked  ", body="You're booked, {{ first_name }}.")  # fmt: skip
    with read_conn(engine) as conn:
        [row] = list_templates(conn, actor=actors.owner, kind="confirmation")
        assert list_templates(conn, actor=actors.owner, kind="reminder") == []
    assert (row["id"], row["channel"], row["subject"]) == (new, "email", "Booked")
    created, updated = _audits(engine)
    assert (created["action"], updated["action"]) == ("create", "update")
    assert created["entity_id"] == str(new) and created["account_id"] == actors.staff.account_id
    for audit in (created, updated):
        text = str(audit["diff"])
        assert "first_name" not in text and "body" not in audit["diff"]
    assert set(updated["diff"]) == {"kind", "channel", "subject", "body_digest"}
    assert updated["diff"]["subject"] == [None, "Booked"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"body": "Hi {{ frist_name }}"}, "unknown variable 'frist_name'"),
        ({"kind": "win_back", "body": "See you {{ date }}"}, "unknown variable 'date'"),
        ({"body": "{{ ''.__class__ }}"}, "not allowed in templates: attribute access"),
        ({"body": "a" * 1531}, "the SMS needs 11 segments; at most 10"),
        ({"channel": "email", "subject": " "}, "an e-mail needs a subject"),
        ({"variant": "TOO-LONG-9"}, "variant must be 1 to 8 characters A-Z or 0-9"),
        ({"variant": ""}, "variant must be 1 to 8"),
        ({"name": "  "}, "name must have 1 to 120 characters"),
        ({"kind": "birthday"}, "kind must be one of"),
        ({"channel": "fax"}, "channel must be one of"),
    ],
)
def test_save_refuses_problems(engine: sa.Engine, actors: Actors, overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        _save(engine, actors.owner, **overrides)
    with read_conn(engine) as conn:
        assert list_templates(conn, actor=actors.owner) == []
    assert _audits(engine) == []


def test_save_lists_every_problem_at_once(engine: sa.Engine, actors: Actors) -> None:
    with pytest.raises(ValueError) as caught:
        _save(engine, actors.owner, variant="?", name="", channel="email", subject=None,
              body="{{ nope }}")  # fmt: skip
    assert str(caught.value) == (
        "variant must be 1 to 8 characters A-Z or 0-9; name must have 1 to 120 characters; "
        "an e-mail needs a subject; unknown variable 'nope'; use one of: business_name, "
        "cancel_instructions, confirm_instructions, date, first_name, service, staff, time"
    )


def test_a_second_template_of_the_same_variant_clashes(engine: sa.Engine, actors: Actors) -> None:
    first = _save(engine, actors.owner)
    other = _save(engine, actors.owner, variant="C")
    with pytest.raises(ValueError, match="a reminder sms template with variant B exists already"):
        _save(engine, actors.owner)
    with pytest.raises(ValueError, match="variant B exists already"):
        _save(engine, actors.owner, other, variant="B")
    assert _save(engine, actors.owner, first, name="Renamed") == first  # itself: no clash


def test_set_active(engine: sa.Engine, actors: Actors) -> None:
    template_id = _save(engine, actors.owner)
    with write_tx(engine) as conn:
        assert set_template_active(conn, actor=actors.staff, template_id=template_id,
                                   is_active=False)  # fmt: skip
        assert not set_template_active(conn, actor=actors.staff, template_id=template_id,
                                       is_active=False)  # fmt: skip
        assert not load_template(conn, actor=actors.staff, template_id=template_id)["is_active"]
    assert [a["diff"] for a in _audits(engine)][1:] == [{"is_active": [True, False]}]


def test_roles_and_missing_rows(engine: sa.Engine, actors: Actors) -> None:
    with write_tx(engine) as conn:
        for call in (
            lambda: list_templates(conn, actor=actors.analyst),
            lambda: ensure_default_templates(conn, actor=actors.analyst),
            lambda: load_template(conn, actor=actors.analyst, template_id=1),
            lambda: set_template_active(
                conn, actor=actors.analyst, template_id=1, is_active=True
            ),  # fmt: skip
        ):
            with pytest.raises(PermissionDenied):
                call()
        with pytest.raises(NotFound):
            load_template(conn, actor=actors.owner, template_id=999)
    with pytest.raises(PermissionDenied):
        _save(engine, actors.analyst)
    with pytest.raises(NotFound):
        _save(engine, actors.owner, 999)
    with read_conn(engine) as conn, pytest.raises(ValueError, match="kind must be one of"):
        list_templates(conn, actor=actors.owner, kind="birthday")

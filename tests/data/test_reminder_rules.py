"""Saving a business's automatic reminder rules on SQLite and PostgreSQL: the stored JSON,
the audit entry, "no change", roles, and invalid sets refused without a trace."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.roles import Actor, PermissionDenied
from data.business import load_business, save_reminder_rules
from data.db import read_conn, write_tx
from data.schema import audit_log
from notifications.rules import RuleSetting, parse_rule_settings
from tests.factories import make_account

RULES = [RuleSetting("sms", 2880), RuleSetting("email", 90, active=False)]
STORED = [
    {"channel": "sms", "offset_minutes": 2880, "active": True},
    {"channel": "email", "offset_minutes": 90, "active": False},
]


def _actor(engine: sa.Engine, business: int, role: str) -> Actor:
    with write_tx(engine) as conn:
        account_id = make_account(conn, business, role=role)
    return Actor.for_account(account_id=account_id, business_id=business, role=role)


def _stored(engine: sa.Engine, business: int) -> list[dict]:
    with read_conn(engine) as conn:
        return load_business(conn, business_id=business)["reminder_rules"]


def _audits(engine: sa.Engine) -> list[dict]:
    query = sa.select(audit_log).where(
        audit_log.c.entity == "businesses", audit_log.c.action == "update"
    )
    with read_conn(engine) as conn:
        return [dict(row) for row in conn.execute(query.order_by(audit_log.c.id)).mappings()]


def test_owner_saves_rules_as_json_with_one_audit_entry(engine: sa.Engine, business: int) -> None:
    owner = _actor(engine, business, "owner")
    default = _stored(engine, business)
    with write_tx(engine) as conn:
        assert save_reminder_rules(conn, actor=owner, rules=RULES)
    assert _stored(engine, business) == STORED
    assert parse_rule_settings(_stored(engine, business)) == RULES
    [audit] = _audits(engine)
    assert audit["account_id"] == owner.account_id
    assert audit["entity_id"] == str(business)
    assert audit["diff"] == {"reminder_rules": [default, STORED]}
    with write_tx(engine) as conn:  # the same rules again: no change, no audit entry
        assert not save_reminder_rules(conn, actor=owner, rules=list(RULES))
    assert len(_audits(engine)) == 1


def test_no_rules_at_all_is_a_valid_choice(engine: sa.Engine, business: int) -> None:
    owner = _actor(engine, business, "owner")
    with write_tx(engine) as conn:
        assert save_reminder_rules(conn, actor=owner, rules=[])
    assert _stored(engine, business) == []


@pytest.mark.parametrize("role", ["staff", "analyst"])
def test_only_owners_may_change_rules(engine: sa.Engine, business: int, role: str) -> None:
    actor = _actor(engine, business, role)
    before = _stored(engine, business)
    with pytest.raises(PermissionDenied), write_tx(engine) as conn:
        save_reminder_rules(conn, actor=actor, rules=RULES)
    assert _stored(engine, business) == before
    assert _audits(engine) == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([RuleSetting("sms", 10)], "rule 1: offset must be between 15 minutes and 14 days"),
        ([RuleSetting("sms", 15 * 1440)], "rule 1: offset must be between"),
        ([RuleSetting("fax", 60)], "rule 1: channel must be one of"),
        ([RuleSetting("sms", 60), RuleSetting("sms", 60, False)], "rule 2: the same reminder"),
        ([RuleSetting("sms", 60 + n) for n in range(7)], "at most 6 reminder rules"),
        ([RuleSetting("email", 90.5)], "rule 1: offset_minutes must be a whole number"),  # type: ignore[arg-type]
    ],
    ids=["too-soon", "too-early", "channel", "duplicate", "too-many", "fraction"],
)
def test_invalid_rules_are_refused_and_nothing_is_stored(
    engine: sa.Engine, business: int, rules: list[RuleSetting], message: str
) -> None:
    owner = _actor(engine, business, "owner")
    before = _stored(engine, business)
    with pytest.raises(ValueError, match=message), write_tx(engine) as conn:
        save_reminder_rules(conn, actor=owner, rules=rules)
    assert _stored(engine, business) == before
    assert _audits(engine) == []

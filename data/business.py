"""Businesses: creation (operators only) and settings (owners)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.schema import businesses
from data.types import utcnow
from notifications.rules import RuleSetting, dump_rule_settings, parse_rule_settings
from scheduling.business import BookingPolicySettings, BusinessSettings, validate_slug


class NotFound(LookupError):
    """No such row in this business."""


class DuplicateBusiness(ValueError):
    """A business with this slug exists."""


def create_business(
    conn: Connection, *, settings: BusinessSettings, slug: str, is_demo: bool = False
) -> int:
    """Create a tenant. Operators only (CLI, seed): there is no actor before the business."""
    slug = validate_slug(slug)
    if load_business_by_slug(conn, slug=slug) is not None:
        raise DuplicateBusiness(f"a business with slug '{slug}' already exists")
    now = utcnow()
    values = {**settings.model_dump(), "slug": slug, "is_demo": is_demo}
    business_id = conn.execute(
        businesses.insert()
        .values(**values, created_at=now, updated_at=now)
        .returning(businesses.c.id)
    ).scalar_one()
    record_audit(
        conn,
        actor=Actor.operator(business_id=business_id),
        action="create",
        entity="businesses",
        entity_id=business_id,
        after=values,
    )
    return int(business_id)


def load_business(conn: Connection, *, business_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(businesses).where(businesses.c.id == business_id)).mappings()
    found = row.first()
    if found is None:
        raise NotFound(f"business {business_id} does not exist")
    return dict(found)


def load_business_by_slug(conn: Connection, *, slug: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(businesses).where(businesses.c.slug == slug)).mappings().first()
    return None if row is None else dict(row)


def list_businesses(conn: Connection) -> list[dict[str, Any]]:
    """Operators only (CLI): every tenant, oldest first."""
    return [
        dict(r) for r in conn.execute(sa.select(businesses).order_by(businesses.c.id)).mappings()
    ]


def save_business_settings(conn: Connection, *, actor: Actor, settings: BusinessSettings) -> bool:
    """Update name, time zone, country and currency. Returns False when nothing changed."""
    return _update_business(conn, actor=actor, values=settings.model_dump())


def save_booking_policy(conn: Connection, *, actor: Actor, policy: BookingPolicySettings) -> bool:
    """Update minimum notice, days ahead and slot step. Returns False when nothing changed."""
    return _update_business(conn, actor=actor, values=policy.model_dump())


def save_reminder_rules(conn: Connection, *, actor: Actor, rules: Sequence[RuleSetting]) -> bool:
    """Replace the automatic reminder rules (owners: MANAGE_BUSINESS) with `rules`, stored
    as dump_rule_settings(rules). ValueError with parse_rule_settings' message when the set
    is invalid (channel, offset outside 15 minutes to 14 days, a duplicate, too many rules,
    an offset that is not a whole number of minutes). False when nothing changed."""
    actor.require(Permission.MANAGE_BUSINESS)
    stored = dump_rule_settings(parse_rule_settings(dump_rule_settings(rules)))  # checked
    return _update_business(conn, actor=actor, values={"reminder_rules": stored})


def _update_business(conn: Connection, *, actor: Actor, values: dict[str, Any]) -> bool:
    actor.require(Permission.MANAGE_BUSINESS)
    before = load_business(conn, business_id=actor.business_id)
    if all(before[key] == value for key, value in values.items()):
        return False
    conn.execute(
        businesses.update()
        .where(businesses.c.id == actor.business_id)
        .values(**values, updated_at=utcnow())
    )
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="businesses",
        entity_id=actor.business_id,
        before={k: before[k] for k in values},
        after=values,
    )
    return True

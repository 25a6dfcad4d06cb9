"""The audit log: one helper, called inside the same transaction as every mutation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.schema import accounts, audit_log
from data.types import utcnow

#: Never copied into the log, whatever the table.
REDACTED_FIELDS = frozenset({"password_hash", "password"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def compute_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict:
    """{field: [old, new]} for the fields that changed; secrets show only as changed."""
    before, after = dict(before or {}), dict(after or {})
    diff: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key in ("updated_at", "created_at"):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in REDACTED_FIELDS:
            diff[key] = ["***", "***"]
        else:
            diff[key] = [_jsonable(old), _jsonable(new)]
    return diff


def record_audit(
    conn: Connection,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        audit_log.insert().values(
            business_id=actor.business_id,
            account_id=actor.account_id,
            actor=actor.label,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            diff=compute_diff(before, after),
            created_at=utcnow(),
        )
    )


def load_audit_log(
    conn: Connection,
    *,
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
    entity: str | None = None,
    action: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    actor.require(Permission.VIEW_AUDIT_LOG)
    by = sa.func.coalesce(accounts.c.display_name, audit_log.c.actor).label("by")
    query = (
        sa.select(audit_log, by)
        .outerjoin(accounts, accounts.c.id == audit_log.c.account_id)
        .where(audit_log.c.business_id == actor.business_id)
    )
    if start is not None:
        query = query.where(audit_log.c.created_at >= start)
    if end is not None:
        query = query.where(audit_log.c.created_at < end)
    if entity:
        query = query.where(audit_log.c.entity == entity)
    if action:
        query = query.where(audit_log.c.action == action)
    query = query.order_by(audit_log.c.created_at.desc(), audit_log.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def load_audit_facets(conn: Connection, *, actor: Actor) -> dict[str, list[str]]:
    """The entities and actions present in this business's log, for filter widgets."""
    actor.require(Permission.VIEW_AUDIT_LOG)
    scoped = audit_log.c.business_id == actor.business_id
    facets = {}
    for name in ("entity", "action"):
        column = audit_log.c[name]
        rows = conn.execute(sa.select(column).where(scoped).distinct().order_by(column))
        facets[name] = list(rows.scalars())
    return facets

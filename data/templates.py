"""Message templates stored per business (`notification_templates`).

Every function needs MANAGE_BOOKINGS (owners and staff) and is scoped to
`actor.business_id`; writes run in the caller's transaction with an audit entry that
never carries the body (only a short digest, so a change still shows). A template is
validated by `notifications.templates.check_template` before it is stored; one business
has at most one template per kind, channel and variant.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.business import NotFound
from data.schema import notification_templates
from data.types import utcnow
from notifications.templates import DEFAULT_TEMPLATES, TEMPLATE_KINDS, check_template

T = notification_templates.c
VARIANT_PATTERN = re.compile(r"[A-Z0-9]{1,8}")
MAX_NAME_LENGTH = 120
_LISTED = (T.id, T.name, T.kind, T.channel, T.variant, T.subject, T.body, T.is_active,
           T.updated_at)  # fmt: skip


def list_templates(
    conn: Connection, *, actor: Actor, kind: str | None = None
) -> list[dict[str, Any]]:
    """The business's templates (active or not), optionally of one kind, ordered by kind,
    channel and variant. Keys: id, name, kind, channel, variant, subject, body,
    is_active, updated_at."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = sa.select(*_LISTED).where(T.business_id == actor.business_id)
    if kind is not None:
        if kind not in TEMPLATE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(TEMPLATE_KINDS)}, not {kind!r}")
        query = query.where(T.kind == kind)
    query = query.order_by(T.kind, T.channel, T.variant, T.id)
    return [dict(row) for row in conn.execute(query).mappings()]


def load_template(conn: Connection, *, actor: Actor, template_id: int) -> dict[str, Any]:
    """One of the business's templates (keys as in list_templates); NotFound otherwise."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = sa.select(*_LISTED).where(T.id == template_id, T.business_id == actor.business_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no template {template_id}")
    return dict(row)


def ensure_default_templates(conn: Connection, *, actor: Actor) -> int:
    """Insert the shipped default, as variant "A", for every kind and channel the business
    has no variant "A" of yet; returns how many were inserted (0 when all exist, so it
    is safe to call on every visit). Existing templates are never changed."""
    actor.require(Permission.MANAGE_BOOKINGS)
    have = sa.select(T.kind, T.channel).where(T.business_id == actor.business_id, T.variant == "A")
    existing = {(row.kind, row.channel) for row in conn.execute(have)}
    missing = [key for key in DEFAULT_TEMPLATES if key not in existing]
    if not missing:
        return 0
    now = utcnow()
    rows = [
        {"business_id": actor.business_id, "kind": kind, "channel": channel, "variant": "A",
         "name": DEFAULT_TEMPLATES[kind, channel].name, "is_active": True,
         "subject": DEFAULT_TEMPLATES[kind, channel].subject,
         "body": DEFAULT_TEMPLATES[kind, channel].body, "created_at": now, "updated_at": now}
        for kind, channel in missing
    ]  # fmt: skip
    conn.execute(notification_templates.insert(), rows)
    record_audit(
        conn, actor=actor, action="create_defaults", entity="notification_templates",
        entity_id=None, after={"templates": [f"{k}/{c}/A" for k, c in missing]},
    )  # fmt: skip
    return len(missing)


def save_template(
    conn: Connection,
    *,
    actor: Actor,
    template_id: int | None,
    kind: str,
    channel: str,
    variant: str,
    name: str,
    subject: str | None,
    body: str,
) -> int:
    """Create (template_id None) or update one of the business's templates; returns its
    id. `variant` is upper-cased and must be 1 to 8 characters A-Z or 0-9; `name` is
    stripped (1 to 120 characters); an SMS stores no subject. Raises ValueError listing
    every problem (check_template's included) or naming a clash with another template of
    the same kind, channel and variant; NotFound for another business's template."""
    actor.require(Permission.MANAGE_BOOKINGS)
    values = _checked(kind, channel, variant, name, subject, body)
    before = (
        None if template_id is None else load_template(conn, actor=actor, template_id=template_id)
    )
    _refuse_clash(conn, actor, values, template_id)
    template_id = _store(conn, actor, values, template_id)
    record_audit(
        conn, actor=actor, action="create" if before is None else "update",
        entity="notification_templates", entity_id=template_id,
        before=_audited(before), after=_audited(values),
    )  # fmt: skip
    return template_id


def set_template_active(
    conn: Connection, *, actor: Actor, template_id: int, is_active: bool
) -> bool:
    """Switch one of the business's templates on or off; returns whether it changed
    (an audit entry only then). NotFound for another business's template."""
    actor.require(Permission.MANAGE_BOOKINGS)
    before = load_template(conn, actor=actor, template_id=template_id)
    if before["is_active"] == is_active:
        return False
    conn.execute(
        notification_templates.update()
        .where(T.id == template_id, T.business_id == actor.business_id)
        .values(is_active=is_active, updated_at=utcnow())
    )
    record_audit(
        conn, actor=actor, action="update", entity="notification_templates",
        entity_id=template_id, before={"is_active": before["is_active"]},
        after={"is_active": is_active},
    )  # fmt: skip
    return True


def _store(conn: Connection, actor: Actor, values: dict[str, Any], template_id: int | None) -> int:
    now = utcnow()
    if template_id is None:
        insert = notification_templates.insert().values(
            **values, business_id=actor.business_id, is_active=True, created_at=now,
            updated_at=now,
        )  # fmt: skip
        return int(conn.execute(insert.returning(T.id)).scalar_one())
    conn.execute(
        notification_templates.update()
        .where(T.id == template_id, T.business_id == actor.business_id)
        .values(**values, updated_at=now)
    )
    return template_id


def _checked(
    kind: str, channel: str, variant: str, name: str, subject: str | None, body: str
) -> dict[str, Any]:
    variant = (variant or "").strip().upper()
    name = name.strip() if isinstance(name, str) else ""
    subject = ((subject or "").strip() or None) if channel == "email" else None
    problems = []
    if not VARIANT_PATTERN.fullmatch(variant):
        problems.append("variant must be 1 to 8 characters A-Z or 0-9")
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        problems.append(f"name must have 1 to {MAX_NAME_LENGTH} characters")
    if subject is not None and len(subject) > 200:
        problems.append("subject must have at most 200 characters")
    problems += check_template(kind, channel, body, subject)
    if problems:
        raise ValueError("; ".join(problems))
    return {"kind": kind, "channel": channel, "variant": variant, "name": name,
            "subject": subject, "body": body}  # fmt: skip


def _refuse_clash(
    conn: Connection, actor: Actor, values: dict[str, Any], template_id: int | None
) -> None:
    query = sa.select(T.id).where(
        T.business_id == actor.business_id, T.kind == values["kind"],
        T.channel == values["channel"], T.variant == values["variant"],
    )  # fmt: skip
    if template_id is not None:
        query = query.where(T.id != template_id)
    if conn.execute(query.limit(1)).first() is not None:
        raise ValueError(
            f"a {values['kind']} {values['channel']} template with variant "
            f"{values['variant']} exists already"
        )


def _audited(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """The audited fields: never the body itself, only a short digest of it."""
    if values is None:
        return None
    kept = {key: values[key] for key in ("name", "kind", "channel", "variant", "subject")}
    return kept | {"body_digest": hashlib.sha256(values["body"].encode()).hexdigest()[:12]}

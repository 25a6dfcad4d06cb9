"""Stored recommendations (`ai_suggestions`): one row per recommendation, grouped into
runs (one press of "Generate"), with the engine and model that made them and the hash of
the facts they rest on (the cache key: the same facts and engine give the stored run back
instead of a new API call).

Reading needs VIEW_ANALYTICS (owners and analysts); generating and marking a
recommendation implemented or dismissed need ACT_ON_RECOMMENDATIONS (owners). Every query
is scoped to `actor.business_id`. `suggestion_data` holds the recommendation as the
schema gives it, the cited facts as they were (the evidence), the run id and any note
(why the rule engine was used); never customer data, since facts hold none.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.business import NotFound
from data.forecasts import to_json_value
from data.schema import ai_suggestions
from data.types import utcnow

S = ai_suggestions.c
ENGINES = ("openai", "rules")
STATUSES = ("open", "implemented", "dismissed")
_LISTED = (S.id, S.suggestion_type, S.suggestion_data, S.is_implemented, S.status, S.engine,
           S.model, S.facts_hash, S.created_by, S.created_at, S.updated_at)  # fmt: skip


def save_run(
    conn: Connection,
    *,
    actor: Actor,
    items: Sequence[Mapping[str, Any]],
    engine: str,
    model: str | None,
    facts_hash: str,
    note: str | None = None,
) -> str:
    """Store one run of recommendations in the caller's transaction; returns its run id.
    `items`: mappings with "category", "recommendation" (the schema's JSON) and
    "evidence" (the cited facts' JSON). An empty run is stored as nothing (its id is
    still returned, so the caller can tell "nothing to recommend" from "not run")."""
    actor.require(Permission.ACT_ON_RECOMMENDATIONS)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}")
    run = secrets.token_hex(6)
    now = utcnow()
    rows = [{
        "business_id": actor.business_id, "suggestion_type": str(item["category"])[:64],
        "suggestion_data": to_json_value({"run": run, "note": note,
                                          "recommendation": item["recommendation"],
                                          "evidence": item.get("evidence", [])}),
        "engine": engine, "model": model, "facts_hash": facts_hash,
        "created_by": actor.account_id, "created_at": now, "updated_at": now,
    } for item in items]  # fmt: skip
    if rows:
        conn.execute(ai_suggestions.insert(), rows)
    record_audit(
        conn, actor=actor, action="generate", entity="ai_suggestions", entity_id=run,
        after={"engine": engine, "model": model, "count": len(rows), "facts_hash": facts_hash},
    )  # fmt: skip
    return run


def find_cached_run(
    conn: Connection, *, actor: Actor, facts_hash: str, engine: str, model: str | None
) -> list[dict[str, Any]]:
    """The newest stored run made by `engine`/`model` from these facts ([] when none)."""
    actor.require(Permission.VIEW_ANALYTICS)
    same = sa.and_(S.business_id == actor.business_id, S.facts_hash == facts_hash,
                   S.engine == engine,
                   S.model.is_(None) if model is None else S.model == model)  # fmt: skip
    query = sa.select(*_LISTED).where(same).order_by(S.created_at.desc(), S.id)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    if not rows:
        return []
    newest = rows[0]["suggestion_data"].get("run")
    return [row for row in rows if row["suggestion_data"].get("run") == newest]


def list_suggestions(
    conn: Connection, *, actor: Actor, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The business's stored recommendations, newest run first (in their order within a
    run), optionally of one status; at most `limit`."""
    actor.require(Permission.VIEW_ANALYTICS)
    query = sa.select(*_LISTED).where(S.business_id == actor.business_id)
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        query = query.where(S.status == status)
    query = query.order_by(S.created_at.desc(), S.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def set_suggestion_status(
    conn: Connection, *, actor: Actor, suggestion_id: int, status: str
) -> bool:
    """Mark one of the business's recommendations open, implemented or dismissed
    (is_implemented follows), with an audit entry; False when it already was.
    NotFound when it is not the business's."""
    actor.require(Permission.ACT_ON_RECOMMENDATIONS)
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    mine = sa.and_(S.business_id == actor.business_id, S.id == suggestion_id)
    before = conn.execute(sa.select(S.status).where(mine)).scalar_one_or_none()
    if before is None:
        raise NotFound(f"recommendation {suggestion_id} not found")
    if before == status:
        return False
    conn.execute(ai_suggestions.update().where(mine).values(
        status=status, is_implemented=status == "implemented", updated_at=utcnow()))  # fmt: skip
    record_audit(
        conn, actor=actor, action="update", entity="ai_suggestions", entity_id=suggestion_id,
        before={"status": before}, after={"status": status},
    )  # fmt: skip
    return True

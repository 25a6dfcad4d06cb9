"""Usage telemetry: page views and exports in `analytics_events`, and the owner's summary.

Events are cheap and carry no personal data. `record_event` accepts only the event types
in EVENT_TYPES and the keys in EVENT_KEYS, each with a narrow value shape (a sentence-case
page title, lower-case table names, a known export format, small counts, flags); anything
else raises ValueError, whose message never repeats the refused value. The row keeps the
account id and the actor's role, never a name or an e-mail. Recording is telemetry, not a
change to business data: any role may record, and nothing goes to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission, Role
from data.schema import analytics_events
from data.types import utcnow

EVENT_TYPES = frozenset({"page_view", "export"})
EXPORT_FORMATS = frozenset({"csv", "xlsx", "parquet", "html", "json", "zip"})
SOURCES = frozenset({"ui", "cli"})
MAX_TEXT = 40
MAX_LIST = 20
MAX_COUNT = 10**12

# "Overview", "Team & services", "AI recommendations": sentence case, so a person's
# name ("Anna Schmidt"), an e-mail or a phone number is refused.
_TITLE = re.compile(r"(?:[A-Z][a-z]+|[A-Z]{2,4})(?: (?:&|[a-z]+))*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _title(value: object) -> str:
    if isinstance(value, str) and len(value) <= MAX_TEXT and _TITLE.fullmatch(value):
        return value
    raise ValueError("must be a sentence-case page title (letters, spaces and '&')")


def _names(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("must be a list of table names")
    if len(value) > MAX_LIST or not all(
        isinstance(n, str) and len(n) <= MAX_TEXT and _NAME.fullmatch(n) for n in value
    ):
        raise ValueError(f"must be at most {MAX_LIST} lower-case table names")
    return sorted(set(value))


def _one_of(allowed: frozenset[str]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        raise ValueError(f"must be one of {', '.join(sorted(allowed))}")

    return check


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_COUNT:
        return value
    raise ValueError("must be a non-negative whole number")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


#: The only keys an event may carry, each with the check that also normalises its value.
EVENT_KEYS: dict[str, Callable[[object], object]] = {
    "page": _title,
    "tables": _names,
    "format": _one_of(EXPORT_FORMATS),
    "source": _one_of(SOURCES),
    "role": _one_of(frozenset(Role)),
    "rows": _count,
    "bytes": _count,
    "filters_days": _count,
    "filters_staff": _count,
    "filters_services": _count,
    "include_contacts": _flag,
}


def build_event_data(actor: Actor, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document to store, or ValueError naming the first refused key (not its value)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event_type must be one of {', '.join(sorted(EVENT_TYPES))}")
    if not isinstance(data, Mapping):
        raise ValueError("event data must be a mapping")
    clean: dict[str, Any] = {}
    for key, value in data.items():
        check = EVENT_KEYS.get(key) if isinstance(key, str) else None
        if check is None:
            raise ValueError(f"event data may only hold {', '.join(sorted(EVENT_KEYS))}")
        try:
            clean[key] = check(value)
        except ValueError as exc:
            raise ValueError(f"event data '{key}' {exc}") from None
    if clean.setdefault("role", actor.role.value) != actor.role.value:
        raise ValueError("event data 'role' must be the actor's own role")
    return clean


def record_event(
    conn: Connection, *, actor: Actor, event_type: str, data: Mapping[str, Any]
) -> None:
    """Store one usage event for the actor's business (any role; no audit entry)."""
    document = build_event_data(actor, event_type, data)
    conn.execute(
        analytics_events.insert().values(
            business_id=actor.business_id,
            account_id=actor.account_id,
            event_type=event_type,
            event_data=document,
            created_at=utcnow(),
        )
    )


def load_usage_summary(conn: Connection, *, actor: Actor, since: datetime) -> list[dict[str, Any]]:
    """Events since `since`, per event type, page, format and tables (owner only).

    One dict per group, most frequent first within each event type: event_type, page,
    format, tables (a tuple of table names), events, accounts (distinct accounts; CLI
    runs have none), rows (summed export rows), by_role ({role: events}) and last_seen
    (UTC). Page views carry a page; exports a format and tables (and a page from the UI).
    """
    actor.require(Permission.VIEW_AUDIT_LOG)
    e = analytics_events.c
    doc = e.event_data
    keys = [
        doc["page"].as_string().label("page"),
        doc["format"].as_string().label("format"),
        doc["tables"].label("tables"),
    ]
    role = doc["role"].as_string()
    by_role = [
        sa.func.sum(sa.case((role == r.value, 1), else_=0)).label(f"role_{r.value}") for r in Role
    ]
    query = (
        sa.select(
            e.event_type,
            *keys,
            sa.func.count().label("events"),
            sa.func.count(sa.distinct(e.account_id)).label("accounts"),
            sa.func.sum(doc["rows"].as_integer()).label("rows"),
            sa.func.max(e.created_at).label("last_seen"),
            *by_role,
        )
        .where(e.business_id == actor.business_id, e.created_at >= since)
        .where(e.event_type.in_(sorted(EVENT_TYPES)))
        .group_by(e.event_type, *keys)
    )
    rows = [_summary_row(row) for row in conn.execute(query).mappings()]
    return sorted(rows, key=lambda r: (r["event_type"], -r["events"], r["page"] or ""))


def _summary_row(row: sa.RowMapping) -> dict[str, Any]:
    return {
        "event_type": row["event_type"],
        "page": row["page"],
        "format": row["format"],
        "tables": tuple(row["tables"] or ()),
        "events": int(row["events"]),
        "accounts": int(row["accounts"]),
        "rows": int(row["rows"] or 0),
        "by_role": {r.value: int(row[f"role_{r.value}"] or 0) for r in Role},
        "last_seen": row["last_seen"],
    }

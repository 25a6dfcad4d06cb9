"""Usage events: recorded without PII, summarised per business, readable by owners only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.roles import Actor, PermissionDenied, Role
from data.analytics_events import load_usage_summary, record_event
from data.db import read_conn, write_tx
from data.schema import analytics_events, audit_log
from tests.factories import make_account, make_business

EMAIL = "anna.schmidt@example.com"
NAME = "Anna Schmidt"


def _actors(engine: Engine, business_id: int) -> dict[Role, Actor]:
    with write_tx(engine) as conn:
        return {
            role: Actor.for_account(
                account_id=make_account(conn, business_id, role=role.value),
                business_id=business_id,
                role=role.value,
            )
            for role in Role
        }


def _record(engine: Engine, actor: Actor, event_type: str, **data: Any) -> None:
    with write_tx(engine) as conn:
        record_event(conn, actor=actor, event_type=event_type, data=data)


def _summary(engine: Engine, actor: Actor, since: datetime | None = None) -> list[dict]:
    since = since or datetime.now(UTC) - timedelta(hours=1)
    with read_conn(engine) as conn:
        return load_usage_summary(conn, actor=actor, since=since)


def _without_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "last_seen"} for row in rows]


def _count(engine: Engine, table: sa.Table) -> int:
    with read_conn(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_events_are_recorded_and_summarised(engine: Engine, business: int) -> None:
    people = _actors(engine, business)
    owner, staff, analyst = people[Role.OWNER], people[Role.STAFF], people[Role.ANALYST]
    since = datetime.now(UTC) - timedelta(seconds=5)
    for actor in (owner, staff, staff, analyst):
        _record(engine, actor, "page_view", page="Calendar")
    _record(engine, analyst, "page_view", page="Overview")
    _record(engine, analyst, "export", page="Exports", format="csv", tables=["customers",
            "bookings"], rows=120, include_contacts=False, filters_days=30)  # fmt: skip
    _record(engine, owner, "export", page="Exports", format="csv",
            tables=("bookings", "customers"), rows=30)  # fmt: skip
    _record(engine, analyst, "export", page="Exports", format="xlsx", tables=["kpis"], rows=12)

    rows = _summary(engine, owner, since)

    def row(kind: str, page: str | None, fmt: str | None, tables: tuple, events: int,
            accounts: int, rows: int, **roles: int) -> dict:  # fmt: skip
        by_role = {"owner": 0, "staff": 0, "analyst": 0} | roles
        return {"event_type": kind, "page": page, "format": fmt, "tables": tables,
                "events": events, "accounts": accounts, "rows": rows,
                "by_role": by_role}  # fmt: skip

    assert _without_time(rows) == [
        row("export", "Exports", "csv", ("bookings", "customers"), 2, 2, 150, owner=1, analyst=1),
        row("export", "Exports", "xlsx", ("kpis",), 1, 1, 12, analyst=1),
        row("page_view", "Calendar", None, (), 4, 3, 0, owner=1, staff=2, analyst=1),
        row("page_view", "Overview", None, (), 1, 1, 0, analyst=1),
    ]
    for summary in rows:
        assert summary["last_seen"].tzinfo is not None
        assert since <= summary["last_seen"] <= datetime.now(UTC)


def test_an_event_stores_the_account_and_role_only(engine: Engine, business: int) -> None:
    staff = _actors(engine, business)[Role.STAFF]
    _record(engine, staff, "page_view", page="Customers")
    with read_conn(engine) as conn:
        stored = conn.execute(sa.select(analytics_events)).mappings().one()
    assert stored["business_id"] == business
    assert stored["account_id"] == staff.account_id
    assert stored["event_data"] == {"page": "Customers", "role": "staff"}


def test_recording_writes_no_audit_entry(engine: Engine, business: int) -> None:
    people = _actors(engine, business)
    before = _count(engine, audit_log)
    for actor in people.values():  # any role may record
        _record(engine, actor, "page_view", page="Home")
    assert _count(engine, analytics_events) == 3
    assert _count(engine, audit_log) == before


def test_summary_is_scoped_to_the_business_and_the_period(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
    mine, theirs = _actors(engine, business), _actors(engine, other)
    _record(engine, mine[Role.STAFF], "page_view", page="Calendar")
    _record(engine, theirs[Role.STAFF], "page_view", page="Bookings")
    _record(engine, theirs[Role.OWNER], "export", format="parquet", tables=["bookings"], rows=9)

    pages = [(r["event_type"], r["page"], r["events"]) for r in _summary(engine, mine[Role.OWNER])]
    assert pages == [("page_view", "Calendar", 1)]
    assert [r["page"] for r in _summary(engine, theirs[Role.OWNER])] == [None, "Bookings"]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert _summary(engine, mine[Role.OWNER], since=later) == []


@pytest.mark.parametrize("role", [Role.STAFF, Role.ANALYST], ids=lambda r: r.value)
def test_only_owners_may_read_the_summary(engine: Engine, business: int, role: Role) -> None:
    actor = _actors(engine, business)[role]
    _record(engine, actor, "page_view", page="Home")
    with pytest.raises(PermissionDenied):
        _summary(engine, actor)


REFUSED: dict[str, tuple[str, Mapping[str, Any]]] = {
    "email key": ("page_view", {"page": "Customers", "email": EMAIL}),
    "customer key": ("page_view", {"page": "Customers", "customer": NAME}),
    "email as page": ("page_view", {"page": EMAIL}),
    "name as page": ("page_view", {"page": NAME}),
    "phone as page": ("page_view", {"page": "+49 30 1234567"}),
    "long page": ("page_view", {"page": "Overview" + " extra" * 10}),
    "name as table": ("export", {"format": "csv", "tables": [NAME]}),
    "email as table": ("export", {"format": "csv", "tables": ["bookings", EMAIL]}),
    "table as text": ("export", {"format": "csv", "tables": "bookings"}),
    "email as format": ("export", {"format": EMAIL}),
    "nested document": ("export", {"format": "csv", "tables": [{"name": NAME}]}),
    "text as rows": ("export", {"rows": NAME}),
    "flag as rows": ("export", {"rows": True}),
    "text as flag": ("export", {"include_contacts": EMAIL}),
    "someone else's role": ("page_view", {"page": "Home", "role": "owner"}),
    "unknown event type": ("customer_viewed", {"page": "Customers"}),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_personal_data_and_unknown_shapes_are_refused(
    engine: Engine, business: int, case: str
) -> None:
    event_type, data = REFUSED[case]
    analyst = _actors(engine, business)[Role.ANALYST]
    with pytest.raises(ValueError) as refused, write_tx(engine) as conn:
        record_event(conn, actor=analyst, event_type=event_type, data=data)
    assert EMAIL not in str(refused.value) and NAME not in str(refused.value)
    assert _count(engine, analytics_events) == 0

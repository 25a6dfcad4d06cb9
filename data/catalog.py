"""Staff, services, working hours and time off of one business (SQLAlchemy Core).

Every query is scoped to `actor.business_id`; a row of another business is `NotFound`.
Reads are open to every role of the business (staff see the team); every mutation
needs MANAGE_BUSINESS and writes an audit row with a before/after diff in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.business import NotFound
from data.schema import services, staff, staff_services, time_off, working_hours
from data.types import utcnow
from scheduling.catalog import ServiceInput, Shift, StaffInput, TimeOffInput, validate_week

STAFF_FIELDS = ("display_name", "email", "phone", "color", "is_active")
SERVICE_FIELDS = ("name", "category", "duration_min", "buffer_min", "price_cents", "is_active")


class DuplicateName(ValueError):
    """Another row of this business already has that name."""


# --- helpers -------------------------------------------------------------------------


def _scoped(table: sa.Table, actor: Actor) -> sa.ColumnElement[bool]:
    return table.c.business_id == actor.business_id


def _load_row(conn: Connection, table: sa.Table, *, actor: Actor, row_id: int) -> dict[str, Any]:
    query = sa.select(table).where(_scoped(table, actor), table.c.id == row_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"{table.name} {row_id} does not exist in this business")
    return dict(row)


def _refuse_duplicate(
    conn: Connection, column: sa.Column, *, actor: Actor, name: str, row_id: int | None
) -> None:
    """Names are unique per business, ignoring case ("Anna" and "anna" would confuse)."""
    table = column.table
    query = sa.select(table.c.id).where(
        _scoped(table, actor), sa.func.lower(column) == name.lower()
    )
    if row_id is not None:
        query = query.where(table.c.id != row_id)
    if conn.execute(query).first() is not None:
        raise DuplicateName(f"'{name}' already exists in this business; choose another name")


def _insert(conn: Connection, table: sa.Table, *, actor: Actor, values: dict[str, Any]) -> int:
    now = utcnow()
    statement = table.insert().values(
        **values, business_id=actor.business_id, created_at=now, updated_at=now
    )
    key = conn.execute(statement).inserted_primary_key
    assert key is not None
    return int(key[0])


# --- staff ---------------------------------------------------------------------------


def list_staff(
    conn: Connection, *, actor: Actor, include_inactive: bool = True
) -> list[dict[str, Any]]:
    """Staff by name, each with `service_ids` (the services they can perform)."""
    query = sa.select(staff).where(_scoped(staff, actor)).order_by(staff.c.display_name)
    if not include_inactive:
        query = query.where(staff.c.is_active.is_(True))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    links = conn.execute(
        sa.select(staff_services.c.staff_id, staff_services.c.service_id)
        .where(_scoped(staff_services, actor))
        .order_by(staff_services.c.service_id)
    )
    by_staff: dict[int, list[int]] = {}
    for staff_id, service_id in links:
        by_staff.setdefault(staff_id, []).append(service_id)
    return [{**row, "service_ids": by_staff.get(row["id"], [])} for row in rows]


def load_staff(conn: Connection, *, actor: Actor, staff_id: int) -> dict[str, Any]:
    row = _load_row(conn, staff, actor=actor, row_id=staff_id)
    return {**row, "service_ids": _service_ids_of(conn, actor=actor, staff_id=staff_id)}


def _service_ids_of(conn: Connection, *, actor: Actor, staff_id: int) -> list[int]:
    query = (
        sa.select(staff_services.c.service_id)
        .where(_scoped(staff_services, actor), staff_services.c.staff_id == staff_id)
        .order_by(staff_services.c.service_id)
    )
    return list(conn.execute(query).scalars())


def _check_services(conn: Connection, *, actor: Actor, service_ids: Iterable[int]) -> None:
    wanted = set(service_ids)
    if not wanted:
        return
    query = sa.select(services.c.id).where(_scoped(services, actor), services.c.id.in_(wanted))
    missing = wanted - set(conn.execute(query).scalars())
    if missing:
        raise NotFound(f"service {min(missing)} does not exist in this business")


def _staff_values(data: StaffInput) -> dict[str, Any]:
    return data.model_dump(include=set(STAFF_FIELDS))


def _link_services(
    conn: Connection, *, actor: Actor, staff_id: int, service_ids: list[int]
) -> None:
    conn.execute(
        staff_services.delete().where(
            _scoped(staff_services, actor), staff_services.c.staff_id == staff_id
        )
    )
    if service_ids:
        rows = [
            {"business_id": actor.business_id, "staff_id": staff_id, "service_id": service_id}
            for service_id in service_ids
        ]
        conn.execute(staff_services.insert(), rows)


def create_staff(conn: Connection, *, actor: Actor, data: StaffInput) -> int:
    actor.require(Permission.MANAGE_BUSINESS)
    _refuse_duplicate(conn, staff.c.display_name, actor=actor, name=data.display_name, row_id=None)
    _check_services(conn, actor=actor, service_ids=data.service_ids)
    values = _staff_values(data)
    staff_id = _insert(conn, staff, actor=actor, values=values)
    _link_services(conn, actor=actor, staff_id=staff_id, service_ids=data.service_ids)
    after = {**values, "service_ids": data.service_ids}
    record_audit(
        conn, actor=actor, action="create", entity="staff", entity_id=staff_id, after=after
    )
    return staff_id


def update_staff(conn: Connection, *, actor: Actor, staff_id: int, data: StaffInput) -> bool:
    """Replace a staff member's details and services. False when nothing changed."""
    actor.require(Permission.MANAGE_BUSINESS)
    current = load_staff(conn, actor=actor, staff_id=staff_id)
    before = {key: current[key] for key in (*STAFF_FIELDS, "service_ids")}
    after = {**_staff_values(data), "service_ids": data.service_ids}
    if before == after:
        return False
    _refuse_duplicate(
        conn, staff.c.display_name, actor=actor, name=data.display_name, row_id=staff_id
    )
    _check_services(conn, actor=actor, service_ids=data.service_ids)
    conn.execute(
        staff.update()
        .where(_scoped(staff, actor), staff.c.id == staff_id)
        .values(**_staff_values(data), updated_at=utcnow())
    )
    if before["service_ids"] != data.service_ids:
        _link_services(conn, actor=actor, staff_id=staff_id, service_ids=data.service_ids)
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="staff",
        entity_id=staff_id,
        before=before,
        after=after,
    )
    return True


# --- services ------------------------------------------------------------------------


def list_services(
    conn: Connection, *, actor: Actor, include_inactive: bool = True
) -> list[dict[str, Any]]:
    """Services by category, then name."""
    query = (
        sa.select(services)
        .where(_scoped(services, actor))
        .order_by(services.c.category, services.c.name)
    )
    if not include_inactive:
        query = query.where(services.c.is_active.is_(True))
    return [dict(row) for row in conn.execute(query).mappings()]


def _service_values(data: ServiceInput) -> dict[str, Any]:
    return {**data.model_dump(exclude={"price"}), "price_cents": data.price_cents}


def create_service(conn: Connection, *, actor: Actor, data: ServiceInput) -> int:
    actor.require(Permission.MANAGE_BUSINESS)
    _refuse_duplicate(conn, services.c.name, actor=actor, name=data.name, row_id=None)
    values = _service_values(data)
    service_id = _insert(conn, services, actor=actor, values=values)
    record_audit(
        conn, actor=actor, action="create", entity="services", entity_id=service_id, after=values
    )
    return service_id


def update_service(conn: Connection, *, actor: Actor, service_id: int, data: ServiceInput) -> bool:
    """Replace a service's details. False when nothing changed."""
    actor.require(Permission.MANAGE_BUSINESS)
    current = _load_row(conn, services, actor=actor, row_id=service_id)
    before = {key: current[key] for key in SERVICE_FIELDS}
    after = _service_values(data)
    if before == after:
        return False
    _refuse_duplicate(conn, services.c.name, actor=actor, name=data.name, row_id=service_id)
    conn.execute(
        services.update()
        .where(_scoped(services, actor), services.c.id == service_id)
        .values(**after, updated_at=utcnow())
    )
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="services",
        entity_id=service_id,
        before=before,
        after=after,
    )
    return True


# --- working hours -------------------------------------------------------------------


def load_working_hours(conn: Connection, *, actor: Actor, staff_id: int) -> list[Shift]:
    """A staff member's week, Monday first."""
    _load_row(conn, staff, actor=actor, row_id=staff_id)
    query = (
        sa.select(working_hours.c.weekday, working_hours.c.start_time, working_hours.c.end_time)
        .where(_scoped(working_hours, actor), working_hours.c.staff_id == staff_id)
        .order_by(working_hours.c.weekday, working_hours.c.start_time)
    )
    return [Shift(weekday=day, start=start, end=end) for day, start, end in conn.execute(query)]


def save_working_hours(
    conn: Connection, *, actor: Actor, staff_id: int, shifts: Iterable[Shift]
) -> None:
    """Replace the whole week in one go; audited as one row (nothing when unchanged)."""
    actor.require(Permission.MANAGE_BUSINESS)
    week = validate_week(shifts)
    before = load_working_hours(conn, actor=actor, staff_id=staff_id)
    if before == week:
        return
    mine = _scoped(working_hours, actor)
    conn.execute(working_hours.delete().where(mine, working_hours.c.staff_id == staff_id))
    if week:
        rows = [
            {
                "business_id": actor.business_id,
                "staff_id": staff_id,
                "weekday": shift.weekday,
                "start_time": shift.start,
                "end_time": shift.end,
            }
            for shift in week
        ]
        conn.execute(working_hours.insert(), rows)
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="working_hours",
        entity_id=staff_id,
        before={"shifts": [shift.describe() for shift in before]},
        after={"shifts": [shift.describe() for shift in week]},
    )


# --- time off ------------------------------------------------------------------------


def list_time_off(
    conn: Connection,
    *,
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Time off overlapping [start, end), earliest first, with `staff_name` (None: everyone)."""
    joined = time_off.outerjoin(
        staff,
        sa.and_(staff.c.id == time_off.c.staff_id, staff.c.business_id == time_off.c.business_id),
    )
    query = (
        sa.select(time_off, staff.c.display_name.label("staff_name"))
        .select_from(joined)
        .where(_scoped(time_off, actor))
        .order_by(time_off.c.starts_at, time_off.c.id)
    )
    if start is not None:
        query = query.where(time_off.c.ends_at > start)
    if end is not None:
        query = query.where(time_off.c.starts_at < end)
    return [dict(row) for row in conn.execute(query).mappings()]


def create_time_off(conn: Connection, *, actor: Actor, data: TimeOffInput, timezone: str) -> int:
    """Store time off entered in local time of `timezone` (the business's zone) as UTC."""
    actor.require(Permission.MANAGE_BUSINESS)
    if data.staff_id is not None:
        _load_row(conn, staff, actor=actor, row_id=data.staff_id)
    starts_at, ends_at = data.utc_range(timezone)
    values = {
        "staff_id": data.staff_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": data.reason,
    }
    time_off_id = _insert(conn, time_off, actor=actor, values=values)
    record_audit(
        conn, actor=actor, action="create", entity="time_off", entity_id=time_off_id, after=values
    )
    return time_off_id


def delete_time_off(conn: Connection, *, actor: Actor, time_off_id: int) -> None:
    actor.require(Permission.MANAGE_BUSINESS)
    row = _load_row(conn, time_off, actor=actor, row_id=time_off_id)
    conn.execute(time_off.delete().where(_scoped(time_off, actor), time_off.c.id == time_off_id))
    before = {key: row[key] for key in ("staff_id", "starts_at", "ends_at", "reason")}
    record_audit(
        conn, actor=actor, action="delete", entity="time_off", entity_id=time_off_id, before=before
    )

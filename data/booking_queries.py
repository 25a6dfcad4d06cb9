"""Reads behind the Calendar and Bookings pages: schedules, free slots, appointments.

Every query is scoped to `actor.business_id` (another business's row is `NotFound` or
simply absent). Rows that carry customer details (load_appointment, load_calendar,
load_bookings) need MANAGE_BOOKINGS, as in `data.customers`; schedules, free slots, the
policy and the data version hold no personal data and are open to every role.
`data.bookings` re-exports these, so pages import everything from there.

Windows over appointments use the (staff_id, starts_at) and (business_id, starts_at)
indexes: an appointment is found by its start, at most LONGEST_APPOINTMENT before the
window. A longer one (none in a salon) that began earlier is not seen by a window that
starts after its first day; on PostgreSQL the exclusion constraint still refuses a real
overlap with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from auth.roles import Actor, Permission
from data.business import NotFound
from data.schema import (
    appointments,
    businesses,
    customers,
    services,
    staff,
    staff_services,
    time_off,
    working_hours,
)
from data.types import utcnow
from scheduling.availability import (
    BookingPolicy,
    Interval,
    ServiceSpec,
    Slot,
    StaffSchedule,
    find_free_slots,
)
from scheduling.booking_rules import build_booking_policy, normalise_status
from scheduling.catalog import Shift

LONGEST_APPOINTMENT = timedelta(hours=24)
FIRST_SEARCH_WINDOW = timedelta(days=2)  # for up to 8 staff; shorter for more
MIN_WINDOW = timedelta(hours=6)
SEARCH_GROWTH = 4
IN_CHUNK = 1000  # ids per IN (...) list
APPT = appointments.c
CALENDAR_COLUMNS = ("id", "staff_id", "staff_name", "staff_color", "service_id", "service_name",
                    "customer_id", "customer_name", "status", "starts_at", "ends_at")  # fmt: skip


# --- policy, services, schedules -----------------------------------------------------


def load_booking_policy(conn: Connection, *, actor: Actor) -> BookingPolicy:
    query = sa.select(businesses).where(businesses.c.id == actor.business_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"business {actor.business_id} does not exist")
    return build_booking_policy(dict(row))


def load_service_row(conn: Connection, *, actor: Actor, service_id: int) -> dict[str, Any]:
    query = sa.select(services).where(
        services.c.business_id == actor.business_id, services.c.id == service_id
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"service {service_id} does not exist in this business")
    return dict(row)


def build_service_spec(
    service: RowMapping | dict[str, Any], duration: timedelta | None = None
) -> ServiceSpec:
    """The service as the availability rules see it (an existing booking keeps its length)."""
    return ServiceSpec(
        service_id=service["id"],
        duration=duration or timedelta(minutes=service["duration_min"]),
        buffer=timedelta(minutes=service["buffer_min"]),
    )


def load_schedules(
    conn: Connection,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    staff_ids: Sequence[int] | None = None,
    exclude_appointment_id: int | None = None,
    include_busy: bool = True,
) -> list[StaffSchedule]:
    """Schedules for [start, end): shifts, offered services, time off (own and the whole
    business's) and busy = non-cancelled appointments extended by their service's buffer.

    `staff_ids` None: every active staff member. Named ids must all be in this business
    (else NotFound), active or not. Sorted by staff id. `include_busy=False` skips the
    appointments (capacity reports need only the rota).
    """
    ids = _staff_ids(conn, actor=actor, staff_ids=staff_ids)
    week = _load_week(conn, actor, ids)
    return _build_schedules(
        conn, actor, ids, week, start, end, exclude_appointment_id, include_busy=include_busy
    )


def load_known_schedules(
    conn: Connection,
    *,
    actor: Actor,
    ids: list[int],
    start: datetime,
    end: datetime,
    exclude: int | None = None,
) -> list[StaffSchedule]:
    """`load_schedules` for staff ids already checked (a booking has loaded the row):
    one query less in the booking transaction. Every query is still scoped to the
    business, so a foreign id yields an empty schedule, never another business's."""
    week = _load_week(conn, actor, ids)
    return _build_schedules(conn, actor, ids, week, start, end, exclude)


Week = tuple[dict[int, list[Shift]], dict[int, list[int]]]  # shifts, offered services


def _load_week(conn: Connection, actor: Actor, ids: list[int]) -> Week:
    """What doesn't depend on the window: shifts and offered services, by staff id."""
    if not ids:
        return {}, {}
    return _shifts_by_staff(conn, actor, ids), _services_by_staff(conn, actor, ids)


def _build_schedules(
    conn: Connection,
    actor: Actor,
    ids: list[int],
    week: Week,
    start: datetime,
    end: datetime,
    exclude_appointment_id: int | None = None,
    *,
    include_busy: bool = True,
) -> list[StaffSchedule]:
    if not ids:
        return []
    shifts, offered = week
    off = _time_off_by_staff(conn, actor, ids, start, end)
    busy = (
        _busy_by_staff(conn, actor, ids, start, end, exclude_appointment_id) if include_busy else {}
    )
    shared = off.get(None, [])
    return [
        StaffSchedule(
            staff_id=staff_id,
            shifts=tuple(shifts.get(staff_id, [])),
            time_off=tuple(sorted(off.get(staff_id, []) + shared)),
            busy=tuple(sorted(busy.get(staff_id, []))),
            service_ids=frozenset(offered.get(staff_id, [])),
        )
        for staff_id in ids
    ]


def _staff_ids(conn: Connection, *, actor: Actor, staff_ids: Sequence[int] | None) -> list[int]:
    query = sa.select(staff.c.id).where(staff.c.business_id == actor.business_id)
    if staff_ids is None:
        active = query.where(staff.c.is_active.is_(True)).order_by(staff.c.id)
        return list(conn.execute(active).scalars())
    wanted = set(staff_ids)
    found = set(_scalars_in(conn, query, staff.c.id, wanted))
    if wanted - found:
        raise NotFound(f"staff {min(wanted - found)} does not exist in this business")
    return sorted(found)


def _scalars_in(
    conn: Connection, query: sa.Select, column: sa.ColumnElement, ids: Iterable[int]
) -> list[Any]:
    ordered = sorted(set(ids))
    found: list[Any] = []
    for i in range(0, len(ordered), IN_CHUNK):
        found += conn.execute(query.where(column.in_(ordered[i : i + IN_CHUNK]))).scalars()
    return found


def _shifts_by_staff(conn: Connection, actor: Actor, ids: list[int]) -> dict[int, list[Shift]]:
    wh = working_hours.c
    query = sa.select(wh.staff_id, wh.weekday, wh.start_time, wh.end_time).where(
        wh.business_id == actor.business_id, wh.staff_id.in_(ids)
    )
    found: dict[int, list[Shift]] = {}
    for staff_id, weekday, start, end in conn.execute(query.order_by(wh.weekday, wh.start_time)):
        found.setdefault(staff_id, []).append(_shift(weekday, start, end))
    return found


@lru_cache(maxsize=4096)
def _shift(weekday: int, start: time, end: time) -> Shift:
    """Shifts are frozen and repeat across staff: validate each distinct one once."""
    return Shift(weekday=weekday, start=start, end=end)


def _services_by_staff(conn: Connection, actor: Actor, ids: list[int]) -> dict[int, list[int]]:
    links = staff_services.c
    query = sa.select(links.staff_id, links.service_id).where(
        links.business_id == actor.business_id, links.staff_id.in_(ids)
    )
    found: dict[int, list[int]] = {}
    for staff_id, service_id in conn.execute(query):
        found.setdefault(staff_id, []).append(service_id)
    return found


def _time_off_by_staff(
    conn: Connection, actor: Actor, ids: list[int], start: datetime, end: datetime
) -> dict[int | None, list[Interval]]:
    off = time_off.c
    query = sa.select(off.staff_id, off.starts_at, off.ends_at).where(
        off.business_id == actor.business_id,
        sa.or_(off.staff_id.is_(None), off.staff_id.in_(ids)),
        off.starts_at < end,
        off.ends_at > start,
    )
    found: dict[int | None, list[Interval]] = {}
    for staff_id, starts_at, ends_at in conn.execute(query):
        found.setdefault(staff_id, []).append(Interval(starts_at, ends_at))
    return found


def _busy_by_staff(
    conn: Connection,
    actor: Actor,
    ids: list[int],
    start: datetime,
    end: datetime,
    exclude_appointment_id: int | None,
) -> dict[int, list[Interval]]:
    query = (
        sa.select(APPT.staff_id, APPT.starts_at, APPT.ends_at, services.c.buffer_min)
        .join(services, services.c.id == APPT.service_id)
        .where(
            APPT.business_id == actor.business_id,
            APPT.staff_id.in_(ids),
            APPT.status != "cancelled",
            APPT.starts_at >= start - LONGEST_APPOINTMENT,
            APPT.starts_at < end,
            APPT.ends_at > start - _max_buffer(conn, actor),
        )
    )
    if exclude_appointment_id is not None:
        query = query.where(APPT.id != exclude_appointment_id)
    found: dict[int, list[Interval]] = {}
    for staff_id, starts_at, ends_at, buffer_min in conn.execute(query):
        taken_until = ends_at + timedelta(minutes=buffer_min)
        if taken_until > start:
            found.setdefault(staff_id, []).append(Interval(starts_at, taken_until))
    return found


def _max_buffer(conn: Connection, actor: Actor) -> timedelta:
    query = sa.select(sa.func.max(services.c.buffer_min)).where(
        services.c.business_id == actor.business_id
    )
    return timedelta(minutes=conn.execute(query).scalar() or 0)


# --- slot search ---------------------------------------------------------------------


def find_slots(
    conn: Connection,
    *,
    actor: Actor,
    service_id: int,
    staff_id: int | None = None,
    after: datetime | None = None,
    limit: int = 10,
    now: datetime | None = None,
) -> list[Slot]:
    """The next `limit` free slots for a service: with one staff member, or with any
    active staff member who offers it. Sorted by start, then staff id.

    Schedules are loaded for a window that grows 4x (from 2 days for up to 8 staff,
    shorter for more) until it holds `limit` slots or reaches the policy's horizon: a
    slot counts only when all it occupies (duration + buffer) lies inside the loaded
    window, so nothing outside it can collide with it.
    """
    now = now or utcnow()
    service = load_service_row(conn, actor=actor, service_id=service_id)
    if limit <= 0 or not service["is_active"]:
        return []
    if staff_id is not None:
        staff_ids = _staff_ids(conn, actor=actor, staff_ids=[staff_id])
    else:
        staff_ids = _qualified_staff(conn, actor=actor, service_id=service_id)
    if not staff_ids:
        return []
    policy = load_booking_policy(conn, actor=actor)
    spec = build_service_spec(service)
    earliest = max(after or now, now + policy.min_notice)
    last_end = now + timedelta(days=policy.max_days_ahead) + spec.occupies
    span = max(FIRST_SEARCH_WINDOW * min(1.0, 8 / len(staff_ids)), 2 * spec.occupies, MIN_WINDOW)
    week = _load_week(conn, actor, staff_ids)
    while True:
        end = min(earliest + span, last_end)
        schedules = _build_schedules(conn, actor, staff_ids, week, earliest, end)
        slots = find_free_slots(
            schedules, spec, policy=policy, now=now, after=earliest, limit=limit
        )
        inside = [slot for slot in slots if slot.start + spec.occupies <= end]
        if len(inside) >= limit or end >= last_end:
            return inside[:limit]
        span *= SEARCH_GROWTH


def _qualified_staff(conn: Connection, *, actor: Actor, service_id: int) -> list[int]:
    query = (
        sa.select(staff.c.id)
        .join(staff_services, staff_services.c.staff_id == staff.c.id)
        .where(
            staff.c.business_id == actor.business_id,
            staff.c.is_active.is_(True),
            staff_services.c.service_id == service_id,
        )
        .order_by(staff.c.id)
    )
    return list(conn.execute(query).scalars())


def load_staff_names(conn: Connection, *, actor: Actor) -> dict[int, str]:
    query = sa.select(staff.c.id, staff.c.display_name).where(
        staff.c.business_id == actor.business_id
    )
    return {int(key): str(name) for key, name in conn.execute(query)}


# --- appointments --------------------------------------------------------------------


def _joined_select(*columns: Any) -> sa.Select:
    """Appointments with staff, service and (if any) customer; only same-business joins."""
    joined = (
        appointments.join(staff, staff.c.id == APPT.staff_id)
        .join(services, services.c.id == APPT.service_id)
        .outerjoin(customers, customers.c.id == APPT.customer_id)
    )
    return sa.select(*columns, *_CUSTOMER_NAME).select_from(joined)


_CUSTOMER_NAME = (
    customers.c.first_name.label("customer_first_name"),
    customers.c.last_name.label("customer_last_name"),
)


def _with_customer_name(item: dict[str, Any]) -> dict[str, Any]:
    first, last = item.pop("customer_first_name"), item.pop("customer_last_name")
    item["customer_name"] = f"{first} {last or ''}".strip() if first is not None else None
    return item


def load_appointment(conn: Connection, *, actor: Actor, appointment_id: int) -> dict[str, Any]:
    """One appointment with staff_name, staff_color, service_name, duration_min,
    buffer_min, customer_name, customer_phone and customer_email."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = _joined_select(
        appointments,
        staff.c.display_name.label("staff_name"),
        staff.c.color.label("staff_color"),
        services.c.name.label("service_name"),
        services.c.buffer_min,
        customers.c.phone.label("customer_phone"),
        customers.c.email.label("customer_email"),
    ).where(APPT.business_id == actor.business_id, APPT.id == appointment_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"appointment {appointment_id} does not exist in this business")
    out = _with_customer_name(dict(row))
    out["duration_min"] = int((out["ends_at"] - out["starts_at"]).total_seconds() // 60)
    return out


# Many rows (a week of a big salon): appointments joined only to their customers, and
# the staff and service names from two small lookups, which beats joining per row.


def _with_customer(*columns: Any) -> sa.Select:
    joined = appointments.outerjoin(customers, customers.c.id == APPT.customer_id)
    return sa.select(*columns, *_CUSTOMER_NAME).select_from(joined)


def _window(
    query: sa.Select,
    actor: Actor,
    staff_ids: Sequence[int] | None,
    service_ids: Sequence[int] | None,
) -> sa.Select:
    query = query.where(APPT.business_id == actor.business_id)
    if staff_ids is not None:
        query = query.where(APPT.staff_id.in_(list(staff_ids)))
    if service_ids is not None:
        query = query.where(APPT.service_id.in_(list(service_ids)))
    return query


def _named_rows(conn: Connection, actor: Actor, query: sa.Select) -> list[dict[str, Any]]:
    """Rows of `query` as dicts with staff_name, staff_color, service_name, customer_name."""
    people = sa.select(staff.c.id, staff.c.display_name, staff.c.color)
    people = people.where(staff.c.business_id == actor.business_id)
    staff_by_id = {key: (name, color) for key, name, color in conn.execute(people)}
    names = sa.select(services.c.id, services.c.name)
    names = names.where(services.c.business_id == actor.business_id)
    service_names = {key: str(name) for key, name in conn.execute(names)}
    result = conn.execute(query)
    keys = list(result.keys())
    rows = []
    for values in result:
        item = _with_customer_name(dict(zip(keys, values, strict=True)))
        item["staff_name"], item["staff_color"] = staff_by_id[item["staff_id"]]
        item["service_name"] = service_names[item["service_id"]]
        rows.append(item)
    return rows


def load_calendar(
    conn: Connection,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    staff_ids: Sequence[int] | None = None,
    service_ids: Sequence[int] | None = None,
    include_cancelled: bool = False,
) -> list[dict[str, Any]]:
    """Appointments overlapping [start, end), by start then staff: CALENDAR_COLUMNS."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = _with_customer(
        APPT.id, APPT.staff_id, APPT.service_id, APPT.customer_id, APPT.status,
        APPT.starts_at, APPT.ends_at,
    )  # fmt: skip
    query = _window(query, actor, staff_ids, service_ids).where(
        APPT.starts_at >= start - LONGEST_APPOINTMENT,
        APPT.starts_at < end,
        APPT.ends_at > start,
    )
    if not include_cancelled:
        query = query.where(APPT.status != "cancelled")
    return _named_rows(conn, actor, query.order_by(APPT.starts_at, APPT.staff_id, APPT.id))


def load_bookings(
    conn: Connection,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    staff_ids: Sequence[int] | None = None,
    service_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
    customer_query: str | None = None,
    limit: int = 2000,
) -> list[dict[str, Any]]:
    """Appointments starting in [start, end), earliest first, every status unless
    `statuses` says otherwise; `customer_query` matches the customer's name, phone or
    e-mail anywhere, ignoring case (`%` and `_` are literal). Each row has the
    appointment's columns, the CALENDAR_COLUMNS names, customer_phone and customer_email."""
    actor.require(Permission.MANAGE_BOOKINGS)
    query = _with_customer(
        appointments,
        customers.c.phone.label("customer_phone"),
        customers.c.email.label("customer_email"),
    )
    query = _window(query, actor, staff_ids, service_ids)
    query = query.where(APPT.starts_at >= start, APPT.starts_at < end)
    if statuses is not None:
        query = query.where(APPT.status.in_([normalise_status(s) for s in statuses]))
    if customer_query and customer_query.strip():
        query = query.where(_customer_matches(customer_query))
    return _named_rows(conn, actor, query.order_by(APPT.starts_at, APPT.id).limit(limit))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _customer_matches(raw: str) -> sa.ColumnElement[bool]:
    text = " ".join(raw.split()).lower()
    c = customers.c
    full_name = sa.func.lower(c.first_name + " " + c.last_name)
    tests = [
        full_name.like(_like(text), escape="\\"),
        sa.func.lower(c.email).like(_like(text), escape="\\"),
        c.phone.like(_like(text), escape="\\"),
    ]
    digits = re.sub(r"[\s\-()./]", "", text)  # "+49 151 2345" finds +491512345...
    if digits and digits != text:
        tests.append(c.phone.like(_like(digits), escape="\\"))
    return sa.or_(*tests)


def load_data_version(conn: Connection, *, actor: Actor) -> tuple[Any, ...]:
    """(updated_at, id) of the business's most recently written appointment, (None, None)
    when it has none. Every write (booking, reschedule, status change, import) stamps
    updated_at with the clock, so this changes with each; one seek in the
    (business_id, updated_at) index. (max(id) per business would scan that index on
    SQLite: 90 ms at a million rows.)"""
    query = (
        sa.select(APPT.updated_at, APPT.id)
        .where(APPT.business_id == actor.business_id)
        .order_by(APPT.updated_at.desc(), APPT.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return (None, None) if row is None else (row.updated_at, row.id)

"""Booking, rescheduling and status changes; the reads live in `data.booking_queries`
and are re-exported here, so pages import every booking name from this module.

Every mutation needs MANAGE_BOOKINGS (owner, staff), is scoped to `actor.business_id`
(another business's appointment, staff member, service or customer is `NotFound`), sets
`updated_at` and writes an audit row with a before/after diff in the same transaction.
`now` (default: the clock) is what the rules compare with (notice, "has it started");
timestamps (`created_at`, `updated_at`, `cancelled_at`) always take the clock.

No double booking: book and reschedule check availability and write in one `write_tx`.
On SQLite that is BEGIN IMMEDIATE, so writers are serialised and every check sees every
committed booking. On PostgreSQL two transactions can both pass the check; the
exclusion constraint `ex_appointments_no_overlap` then refuses the second one's write.

BookingRejected vs SlotTaken. A request is refused with SlotTaken when the only thing
wrong with it is that the time is occupied (every problem is OVERLAP), on both engines,
and when PostgreSQL's exclusion constraint refuses the write. SlotTaken carries the
next free alternatives, read afresh after the rollback. Any other problem, alone or
with an overlap, is BookingRejected listing every reason. So a race loser always gets
SlotTaken: after BEGIN IMMEDIATE (SQLite) or in a READ COMMITTED check that runs after
the winner's commit (PostgreSQL) it sees the winner's row and fails on the overlap alone,
and if it checked before that commit, the constraint refuses its write. The same answer
for a slot that was taken earlier is right too: the user saw it free (a stale calendar,
an old slot list) and wants the alternatives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.booking_queries import (
    build_service_spec,
    find_slots,
    load_appointment,
    load_booking_policy,
    load_bookings,
    load_calendar,
    load_data_version,
    load_known_schedules,
    load_schedules,
    load_service_row,
    load_staff_names,
)
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import appointments, customers, staff
from data.types import utcnow
from scheduling.availability import BookingProblem, Problem, ServiceSpec, Slot, check_booking
from scheduling.booking_rules import (
    BulkStatusRefused,
    StatusRefused,
    check_instant,
    check_notes,
    check_reschedulable,
    check_source,
    check_transition,
    clean_reason,
    describe_slot_taken,
    explain_transition,
    normalise_status,
)

__all__ = [
    "BookingRejected", "BookingRequest", "BulkStatusRefused", "SlotTaken", "StatusRefused",
    "book_appointment", "bulk_set_status", "find_slots", "load_appointment",
    "load_booking_policy", "load_bookings", "load_calendar", "load_data_version",
    "load_schedules", "reschedule_appointment", "set_appointment_status",
]  # fmt: skip

OVERLAP_CONSTRAINT = "ex_appointments_no_overlap"
ALTERNATIVES = 5
CHECK_MARGIN = timedelta(days=1)  # schedule loaded around a booking for its check
ACTIONS = {"confirmed": "confirm", "completed": "complete", "cancelled": "cancel",
           "no_show": "no_show"}  # fmt: skip
APPT = appointments.c


class BookingRejected(ValueError):
    """The booking can't be made; `problems` holds every reason."""

    def __init__(self, problems: Iterable[BookingProblem]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(problem.message for problem in self.problems))


class SlotTaken(Exception):
    """The time is occupied (just taken by someone else); `alternatives` are free slots."""

    def __init__(self, message: str, alternatives: Iterable[Slot]) -> None:
        self.alternatives = list(alternatives)
        super().__init__(message)


@dataclass(frozen=True)
class BookingRequest:
    staff_id: int
    service_id: int
    start: datetime  # UTC, tz-aware
    customer_id: int | None = None
    notes: str = ""
    source: str = "staff"


class _Lost(Exception):
    """Inside a write: the slot is occupied. Turned into SlotTaken after the rollback."""

    def __init__(self, service_id: int, staff_id: int, start: datetime) -> None:
        super().__init__(service_id, staff_id, start)
        self.service_id, self.staff_id, self.start = service_id, staff_id, start


# --- booking and rescheduling --------------------------------------------------------


def book_appointment(
    engine: Engine, *, actor: Actor, request: BookingRequest, now: datetime | None = None
) -> int:
    """Book `request` (status booked, the service's price); returns the appointment id."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = now or utcnow()
    start = check_instant(request.start).astimezone(UTC)
    values = {"notes": check_notes(request.notes), "source": check_source(request.source)}
    try:
        with write_tx(engine) as conn:
            return _book(conn, actor=actor, request=request, start=start, now=now, **values)
    except _Lost as lost:
        raise _slot_taken(engine, actor=actor, lost=lost, now=now) from lost


def _book(
    conn: Connection,
    *,
    actor: Actor,
    request: BookingRequest,
    start: datetime,
    now: datetime,
    **extra: Any,
) -> int:
    service = load_service_row(conn, actor=actor, service_id=request.service_id)
    staff_row = _load_staff_row(conn, actor=actor, staff_id=request.staff_id)
    if request.customer_id is not None:
        _require_customer(conn, actor=actor, customer_id=request.customer_id)
    spec = build_service_spec(service)
    lost = _Lost(service["id"], staff_row["id"], start)
    _check_or_raise(conn, actor, staff_row, service, spec, start=start, now=now, lost=lost)
    values = {
        "staff_id": staff_row["id"], "service_id": service["id"],
        "customer_id": request.customer_id, "starts_at": start, "ends_at": start + spec.duration,
        "status": "booked", "price_cents": service["price_cents"], **extra,
    }  # fmt: skip
    stamp = utcnow()
    insert = appointments.insert().values(
        **values, business_id=actor.business_id, created_at=stamp, updated_at=stamp
    )
    appointment_id = int(_write_slot(conn, insert.returning(APPT.id), lost).scalar_one())
    record_audit(
        conn, actor=actor, action="create", entity="appointments",
        entity_id=appointment_id, after=values,
    )  # fmt: skip
    return appointment_id


def reschedule_appointment(
    engine: Engine,
    *,
    actor: Actor,
    appointment_id: int,
    start: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Move a booked or confirmed appointment (keeping its length) to `start`, and to
    `staff_id` when given. Moving it to where it is already is a no-op."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = now or utcnow()
    start = check_instant(start).astimezone(UTC)
    try:
        with write_tx(engine) as conn:
            _reschedule(conn, actor, appointment_id, start=start, staff_id=staff_id, now=now)
    except _Lost as lost:
        raise _slot_taken(engine, actor=actor, lost=lost, now=now) from lost


def _reschedule(
    conn: Connection,
    actor: Actor,
    appointment_id: int,
    *,
    start: datetime,
    staff_id: int | None,
    now: datetime,
) -> None:
    row = _load_row(conn, actor=actor, appointment_id=appointment_id)
    check_reschedulable(row["status"])
    staff_row = _load_staff_row(
        conn, actor=actor, staff_id=staff_id if staff_id is not None else row["staff_id"]
    )
    if (start, staff_row["id"]) == (row["starts_at"], row["staff_id"]):
        return
    service = load_service_row(conn, actor=actor, service_id=row["service_id"])
    spec = build_service_spec(service, duration=row["ends_at"] - row["starts_at"])
    lost = _Lost(service["id"], staff_row["id"], start)
    _check_or_raise(
        conn, actor, staff_row, service, spec, start=start, now=now, lost=lost,
        exclude=appointment_id,
    )  # fmt: skip
    after = {"staff_id": staff_row["id"], "starts_at": start, "ends_at": start + spec.duration}
    update = (
        appointments.update()
        .where(APPT.business_id == actor.business_id, APPT.id == appointment_id)
        .values(**after, updated_at=utcnow())
    )
    _write_slot(conn, update, lost)
    before = {key: row[key] for key in after}
    record_audit(
        conn, actor=actor, action="reschedule", entity="appointments",
        entity_id=appointment_id, before=before, after=after,
    )  # fmt: skip


def _check_or_raise(
    conn: Connection,
    actor: Actor,
    staff_row: dict[str, Any],
    service: dict[str, Any],
    spec: ServiceSpec,
    *,
    start: datetime,
    now: datetime,
    lost: _Lost,
    exclude: int | None = None,
) -> None:
    """BookingRejected with every problem; _Lost when the only problem is an overlap."""
    _lock_staff_schedule(conn, staff_row["id"])
    policy = load_booking_policy(conn, actor=actor)
    [schedule] = load_known_schedules(
        conn, actor=actor, ids=[staff_row["id"]], start=start - CHECK_MARGIN,
        end=start + spec.occupies + CHECK_MARGIN, exclude=exclude,
    )  # fmt: skip
    problems = check_booking(
        schedule, spec, policy=policy, start=start, now=now,
        staff_name=staff_row["display_name"], service_name=service["name"],
    )  # fmt: skip
    if not staff_row["is_active"]:
        message = f"{staff_row['display_name']} no longer takes bookings."
        problems.append(BookingProblem(Problem.NOT_OFFERED, message))
    if not service["is_active"]:
        message = f"'{service['name']}' is no longer offered."
        problems.append(BookingProblem(Problem.NOT_OFFERED, message))
    if problems and all(problem.code is Problem.OVERLAP for problem in problems):
        raise lost
    if problems:
        raise BookingRejected(problems)


#: Namespace of Slotboard's per-staff advisory locks (PostgreSQL), so they never meet
#: another application's locks on the same database.
STAFF_LOCK_NAMESPACE = 0x510B


def _lock_staff_schedule(conn: Connection, staff_id: int) -> None:
    """On PostgreSQL, serialise check-and-write per staff member until commit.

    The exclusion constraint only covers [starts_at, ends_at); two racing bookings could
    otherwise both pass the check and land one inside the other's service buffer. SQLite
    needs nothing: BEGIN IMMEDIATE already serialises every writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :staff)"),
            {"namespace": STAFF_LOCK_NAMESPACE, "staff": staff_id % 2_147_483_647},
        )


def _write_slot(conn: Connection, statement: sa.Executable, lost: _Lost) -> sa.CursorResult:
    """Run an insert/update of a booked time; PostgreSQL's overlap refusal becomes _Lost."""
    try:
        return conn.execute(statement)
    except IntegrityError as exc:
        if is_overlap_violation(exc):
            raise lost from exc
        raise


def is_overlap_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name == OVERLAP_CONSTRAINT or (name is None and OVERLAP_CONSTRAINT in str(exc.orig))


def _slot_taken(engine: Engine, *, actor: Actor, lost: _Lost, now: datetime) -> SlotTaken:
    """SlotTaken with the next free slots from `lost.start`: the same staff member's and
    anyone's, earliest first (a fresh read: the failed transaction is rolled back)."""
    with read_conn(engine) as conn:
        mine, anyone = (
            find_slots(
                conn,
                actor=actor,
                service_id=lost.service_id,
                staff_id=staff_id,
                after=lost.start,
                limit=ALTERNATIVES,
                now=now,
            )  # fmt: skip
            for staff_id in (lost.staff_id, None)
        )
        names = load_staff_names(conn, actor=actor)
        timezone = load_booking_policy(conn, actor=actor).timezone
    taken = (lost.start, lost.staff_id)
    slots = sorted(slot for slot in set(mine) | set(anyone) if (slot.start, slot.staff_id) != taken)
    alternatives = slots[:ALTERNATIVES]
    message = describe_slot_taken(
        alternatives, timezone=timezone, staff_names=names, near=lost.start
    )
    return SlotTaken(message, alternatives)


# --- status changes ------------------------------------------------------------------


def set_appointment_status(
    engine: Engine,
    *,
    actor: Actor,
    appointment_id: int,
    status: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Confirm, complete, cancel (`reason` required) or mark a no-show; StatusRefused
    says why not (scheduling.booking_rules). The status it already has is a no-op."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = now or utcnow()
    target = normalise_status(status)
    with write_tx(engine) as conn:
        row = _load_row(conn, actor=actor, appointment_id=appointment_id)
        check_transition(row["status"], target, starts_at=row["starts_at"], now=now, reason=reason)
        if row["status"] != target:
            _apply_status(conn, actor, [row], target=target, reason=reason)


def bulk_set_status(
    engine: Engine,
    *,
    actor: Actor,
    appointment_ids: Iterable[int],
    status: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """All or nothing: BulkStatusRefused (with `.refused`, id -> reason) if any change is
    not allowed, NotFound for ids outside this business. Returns how many changed
    (those already in `status` are skipped)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = now or utcnow()
    target = normalise_status(status)
    ids = sorted(set(appointment_ids))
    if not ids:
        return 0
    with write_tx(engine) as conn:
        rows = _load_rows(conn, actor=actor, appointment_ids=ids)
        refused = {}
        for row in rows:
            why = explain_transition(
                row["status"], target, starts_at=row["starts_at"], now=now, reason=reason
            )
            if why is not None:
                refused[row["id"]] = why
        if refused:
            raise BulkStatusRefused(refused)
        changing = [row for row in rows if row["status"] != target]
        _apply_status(conn, actor, changing, target=target, reason=reason)
        return len(changing)


def _apply_status(
    conn: Connection,
    actor: Actor,
    rows: list[dict[str, Any]],
    *,
    target: str,
    reason: str | None,
) -> None:
    stamp = utcnow()
    changes: dict[str, Any] = {"status": target}
    if target == "cancelled":
        changes |= {"cancelled_at": stamp, "cancellation_reason": clean_reason(reason)}
    ids = [row["id"] for row in rows]
    for i in range(0, len(ids), 1000):
        conn.execute(
            appointments.update()
            .where(APPT.business_id == actor.business_id, APPT.id.in_(ids[i : i + 1000]))
            .values(**changes, updated_at=stamp)
        )
    for row in rows:
        record_audit(
            conn, actor=actor, action=ACTIONS[target], entity="appointments",
            entity_id=row["id"], before={key: row[key] for key in changes}, after=changes,
        )  # fmt: skip


# --- row loading ---------------------------------------------------------------------


def _load_row(conn: Connection, *, actor: Actor, appointment_id: int) -> dict[str, Any]:
    [row] = _load_rows(conn, actor=actor, appointment_ids=[appointment_id])
    return row


def _load_rows(
    conn: Connection, *, actor: Actor, appointment_ids: list[int]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for i in range(0, len(appointment_ids), 1000):
        query = sa.select(appointments).where(
            APPT.business_id == actor.business_id, APPT.id.in_(appointment_ids[i : i + 1000])
        )
        found += [dict(row) for row in conn.execute(query.order_by(APPT.id)).mappings()]
    missing = sorted(set(appointment_ids) - {row["id"] for row in found})
    if missing:
        listed = ", ".join(str(key) for key in missing[:10])
        noun = "appointment" if len(missing) == 1 else "appointments"
        raise NotFound(f"{noun} {listed} not found in this business")
    return found


def _load_staff_row(conn: Connection, *, actor: Actor, staff_id: int) -> dict[str, Any]:
    query = sa.select(staff).where(staff.c.business_id == actor.business_id, staff.c.id == staff_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"staff {staff_id} does not exist in this business")
    return dict(row)


def _require_customer(conn: Connection, *, actor: Actor, customer_id: int) -> None:
    query = sa.select(customers.c.id).where(
        customers.c.business_id == actor.business_id, customers.c.id == customer_id
    )
    if conn.execute(query).first() is None:
        raise NotFound(f"customer {customer_id} does not exist in this business")

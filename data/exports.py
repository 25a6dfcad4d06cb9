"""Export reads: bookings and customers as streams of typed DataFrame chunks.

Every function needs Permission.EXPORT_DATA and reads one business. Rows stream from the
database in chunks (`yield_per`: a server-side cursor on PostgreSQL, SQLite's lazy
cursor), so a million bookings never sit in memory at once. Instants become tz-naive
local times of the business (`*_local` columns); money becomes major units. Customer
exports carry an internal id only, unless contact details are asked for; notes never.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analytics.report import ReportFilter
from auth.roles import Actor, Permission
from data.analytics import count_if
from data.schema import appointments, customers, services, staff
from scheduling.timezones import local_day_bounds

CHUNK_ROWS = 50_000
A, C = appointments.c, customers.c

BOOKING_COLUMNS: dict[str, str] = {
    "appointment_id": "int64",
    "external_id": "str",
    "starts_at_local": "datetime64[us]",
    "ends_at_local": "datetime64[us]",
    "weekday": "str",
    "staff": "str",
    "service": "str",
    "category": "str",
    "status": "str",
    "price": "float64",
    "source": "str",
    "lead_time_days": "float64",
    "created_at_local": "datetime64[us]",
    "cancelled_at_local": "datetime64[us]",
    "customer_id": "Int64",
}
CONTACT_COLUMNS: dict[str, str] = {
    "first_name": "str",
    "last_name": "str",
    "email": "str",
    "phone": "str",
}
CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "external_id": "str",
    "created_at_local": "datetime64[us]",
    "visits": "int64",
    "no_shows": "int64",
    "cancellations": "int64",
    "total_spent": "float64",
    "first_visit_local": "datetime64[us]",
    "last_visit_local": "datetime64[us]",
    "tags": "str",
    "sms_opt_in": "bool",
    "email_opt_in": "bool",
}


def customer_columns(include_contacts: bool) -> dict[str, str]:
    """The customer export's columns and dtypes; contacts follow the ids when asked for."""
    if not include_contacts:
        return dict(CUSTOMER_COLUMNS)
    items = list(CUSTOMER_COLUMNS.items())
    return dict(items[:2] + list(CONTACT_COLUMNS.items()) + items[2:])


# --- shared -----------------------------------------------------------------------------


def _local(values: pd.Series, tz: str) -> pd.Series:
    """UTC instants as tz-naive local wall-clock times."""
    instants = pd.to_datetime(values, utc=True)
    return instants.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    return frame[list(columns)].astype(columns)


def _stream(
    conn: Connection,
    query: sa.Select,
    build: Callable[[pd.DataFrame], pd.DataFrame],
    chunk_rows: int,
) -> Iterator[pd.DataFrame]:
    """Typed chunks of `query`'s rows; one empty (typed) frame when there are none."""
    result = conn.execute(query.execution_options(yield_per=chunk_rows))
    keys = list(result.keys())
    produced = False
    for rows in result.partitions():
        produced = True
        yield build(pd.DataFrame.from_records(rows, columns=keys))
    if not produced:
        yield build(pd.DataFrame({key: pd.Series([], dtype=object) for key in keys}))


# --- bookings ---------------------------------------------------------------------------


def _booking_filter(query: sa.Select, *, actor: Actor, tz: str, filters: ReportFilter) -> sa.Select:
    start, end = local_day_bounds(filters.start, tz, days=filters.days)
    query = query.where(A.business_id == actor.business_id, A.starts_at >= start)
    query = query.where(A.starts_at < end)
    if filters.staff_ids:
        query = query.where(A.staff_id.in_(filters.staff_ids))
    if filters.service_ids:
        query = query.where(A.service_id.in_(filters.service_ids))
    return query


def _booking_select() -> sa.Select:
    s, v = staff.c, services.c
    return (
        sa.select(
            A.id.label("appointment_id"),
            A.external_id,
            A.starts_at,
            A.ends_at,
            s.display_name.label("staff"),
            v.name.label("service"),
            v.category,
            A.status,
            A.price_cents,
            A.source,
            A.created_at,
            A.cancelled_at,
            A.customer_id,
        )  # fmt: skip
        .join(staff, sa.and_(s.business_id == A.business_id, s.id == A.staff_id))
        .join(services, sa.and_(v.business_id == A.business_id, v.id == A.service_id))
    )


def _build_bookings(raw: pd.DataFrame, tz: str) -> pd.DataFrame:
    frame = raw.copy()
    for name in ("starts_at", "ends_at", "created_at", "cancelled_at"):
        frame[f"{name}_local"] = _local(raw[name], tz)
    starts = pd.to_datetime(raw["starts_at"], utc=True)
    created = pd.to_datetime(raw["created_at"], utc=True)
    frame["lead_time_days"] = ((starts - created).dt.total_seconds() / 86_400).round(4)
    frame["weekday"] = frame["starts_at_local"].dt.day_name()
    frame["price"] = raw["price_cents"].astype("float64") / 100
    frame["customer_id"] = pd.array(raw["customer_id"].tolist(), dtype="Int64")
    return _typed(frame, BOOKING_COLUMNS)


def iter_bookings(
    conn: Connection,
    *,
    actor: Actor,
    tz: str,
    filters: ReportFilter,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Appointments starting in the filter's local days (and staff/services), ordered by
    start then id, in chunks with the columns of BOOKING_COLUMNS."""
    actor.require(Permission.EXPORT_DATA)
    query = _booking_filter(_booking_select(), actor=actor, tz=tz, filters=filters)
    query = query.order_by(A.starts_at, A.id)
    return _stream(conn, query, lambda raw: _build_bookings(raw, tz), chunk_rows)


def count_bookings(conn: Connection, *, actor: Actor, tz: str, filters: ReportFilter) -> int:
    """How many rows iter_bookings yields (for a progress bar)."""
    actor.require(Permission.EXPORT_DATA)
    query = _booking_filter(
        sa.select(sa.func.count()).select_from(appointments), actor=actor, tz=tz, filters=filters
    )
    return int(conn.execute(query).scalar_one())


# --- customers --------------------------------------------------------------------------


def _visits(actor: Actor) -> sa.Subquery:
    """Per customer, one grouped pass over the business's appointments."""
    completed = A.status == "completed"
    return (
        sa.select(
            A.customer_id,
            count_if(completed).label("visits"),
            count_if(A.status == "no_show").label("no_shows"),
            count_if(A.status == "cancelled").label("cancellations"),
            sa.func.coalesce(sa.func.sum(sa.case((completed, A.price_cents), else_=0)), 0).label(
                "spent_cents"
            ),
            sa.func.min(sa.case((completed, A.starts_at))).label("first_visit"),
            sa.func.max(sa.case((completed, A.starts_at))).label("last_visit"),
        )
        .where(A.business_id == actor.business_id, A.customer_id.is_not(None))
        .group_by(A.customer_id)
        .subquery("visits")
    )


def _customers_scope(query: sa.Select, actor: Actor) -> sa.Select:
    return query.where(C.business_id == actor.business_id, C.merged_into_id.is_(None))


def _customer_select(actor: Actor, include_contacts: bool) -> sa.Select:
    v = _visits(actor)
    contacts: Sequence[Any] = (
        (C.first_name, C.last_name, C.email, C.phone) if include_contacts else ()
    )
    query = sa.select(
        C.id.label("customer_id"), C.external_id, *contacts, C.created_at,
        sa.func.coalesce(v.c.visits, 0).label("visits"),
        sa.func.coalesce(v.c.no_shows, 0).label("no_shows"),
        sa.func.coalesce(v.c.cancellations, 0).label("cancellations"),
        sa.func.coalesce(v.c.spent_cents, 0).label("spent_cents"),
        v.c.first_visit, v.c.last_visit, C.tags, C.sms_opt_in, C.email_opt_in,
    ).outerjoin(v, v.c.customer_id == C.id)  # fmt: skip
    return _customers_scope(query, actor).order_by(C.id)


def _tag_text(tags: Any) -> str:
    return ", ".join(str(tag) for tag in tags) if isinstance(tags, list) else ""


def _build_customers(raw: pd.DataFrame, tz: str, columns: dict[str, str]) -> pd.DataFrame:
    frame = raw.copy()
    frame["created_at_local"] = _local(raw["created_at"], tz)
    frame["first_visit_local"] = _local(raw["first_visit"], tz)
    frame["last_visit_local"] = _local(raw["last_visit"], tz)
    frame["total_spent"] = raw["spent_cents"].astype("float64") / 100
    frame["tags"] = raw["tags"].map(_tag_text).astype(object)
    return _typed(frame, columns)


def iter_customers(
    conn: Connection,
    *,
    actor: Actor,
    tz: str,
    include_contacts: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The business's customers (merged-away records left out), ordered by id, with visit
    counts, spend and first/last completed visit; names, e-mail and phone only when
    `include_contacts`. Notes are never exported."""
    actor.require(Permission.EXPORT_DATA)
    columns = customer_columns(include_contacts)
    query = _customer_select(actor, include_contacts)
    return _stream(conn, query, lambda raw: _build_customers(raw, tz, columns), chunk_rows)


def count_customers(conn: Connection, *, actor: Actor) -> int:
    """How many rows iter_customers yields."""
    actor.require(Permission.EXPORT_DATA)
    query = _customers_scope(sa.select(sa.func.count()).select_from(customers), actor)
    return int(conn.execute(query).scalar_one())

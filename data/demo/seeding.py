"""Writing one build into a database in a single transaction."""

from __future__ import annotations

import json
import time as clock
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.passwords import hash_password
from auth.roles import Actor
from data.audit import record_audit
from data.business import create_business, load_business_by_slug
from data.db import read_conn, write_tx
from data.demo.build import build_demo
from data.demo.model import DEMO_ACCOUNTS, DEMO_SLUG, DemoAlreadySeeded, DemoData, DemoSummary
from data.schema import (
    accounts,
    appointments,
    customers,
    services,
    staff,
    staff_services,
    time_off,
    working_hours,
)

Progress = Callable[[str, float], None]
CHUNK_ROWS = 50_000


def seed_demo(
    engine: Engine,
    *,
    appointments: int | None = None,
    seed: int = 7,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo business and write it in one transaction (all or nothing).

    Creates the business (slug DEMO_SLUG, is_demo), the DEMO_ACCOUNTS sign-ins (the staff
    one linked to staff member 1), staff, services, hours, time off, customers and
    appointments, and one audit_log entry with the counts. `progress(stage, fraction)` is
    called along the way with the overall fraction done, from 0.0 ("generating") through
    "generated", "writing staff and services", "writing customers" and "writing
    appointments" (once per chunk) to 1.0 ("done"). Big tables go in with COPY on
    PostgreSQL and chunked executemany on SQLite.
    Raises DemoAlreadySeeded when a business with DEMO_SLUG exists.
    """
    started = clock.perf_counter()
    report = progress or (lambda stage, fraction: None)
    with read_conn(engine) as conn:
        _refuse_if_seeded(conn)
    report("generating", 0.0)
    data = build_demo(appointments=appointments, seed=seed, today=today)
    report("generated", 0.25)
    with write_tx(engine) as conn:
        _refuse_if_seeded(conn)
        business_id = create_business(conn, settings=data.settings, slug=DEMO_SLUG, is_demo=True)
        _save_demo(conn, business_id, data, seed, report)
        report("committing", 0.99)
    _refresh_statistics(engine)
    report("done", 1.0)
    starts = data.appointments["starts_at"]
    return DemoSummary(
        business_id=business_id,
        staff=len(data.staff),
        services=len(data.services),
        customers=len(data.customers),
        appointments=len(data.appointments),
        first_start=starts.min().to_pydatetime(),
        last_start=starts.max().to_pydatetime(),
        seconds=clock.perf_counter() - started,
    )


def _refuse_if_seeded(conn: Connection) -> None:
    if load_business_by_slug(conn, slug=DEMO_SLUG) is not None:
        raise DemoAlreadySeeded(f"a business with slug '{DEMO_SLUG}' exists already")


def _save_demo(
    conn: Connection, business_id: int, data: DemoData, seed: int, report: Progress
) -> None:
    account_ids = _insert_accounts(conn, business_id, data.now)
    report("writing staff and services", 0.27)
    ids = _save_salon(conn, business_id, data, staff_account_id=account_ids["staff"])
    ids["customer_id"] = _reserve_ids(conn, customers, len(data.customers))
    people = data.customers.assign(id=ids["customer_id"])
    _bulk_insert(
        conn, customers, people, business_id, _stage(report, "writing customers", 0.28, 0.35)
    )
    booked = _remap(data.appointments.drop(columns="id"), **ids)
    _bulk_insert(
        conn, appointments, booked, business_id, _stage(report, "writing appointments", 0.35, 0.98)
    )
    _audit_seed(conn, business_id, data, seed)


def _stage(report: Progress, stage: str, start: float, end: float) -> Callable[[float], None]:
    return lambda done: report(stage, start + (end - start) * done)


def _save_salon(
    conn: Connection, business_id: int, data: DemoData, *, staff_account_id: int
) -> dict[str, np.ndarray]:
    """Staff (one linked to the staff account), services and their schedules."""
    ids = {
        "staff_id": _reserve_ids(conn, staff, len(data.staff)),
        "service_id": _reserve_ids(conn, services, len(data.services)),
    }
    link = data.staff["id"].map({data.staff_account_staff_id: staff_account_id}).astype("Int64")
    rows = {
        staff: data.staff.assign(id=ids["staff_id"], account_id=link),
        services: data.services.assign(id=ids["service_id"]),
        staff_services: _remap(data.staff_services, **ids),
        working_hours: _remap(data.working_hours.drop(columns="id"), **ids),
        time_off: _remap(data.time_off.drop(columns="id"), **ids),
    }
    for table, frame in rows.items():
        _insert_small(conn, table, frame, business_id)
    return ids


def _remap(frame: pd.DataFrame, **ids: np.ndarray) -> pd.DataFrame:
    """Replace 1-based demo ids by the database ids reserved for them."""
    out = frame.copy()
    for column, real in ids.items():
        if column not in out:
            continue
        local = out[column]
        if isinstance(local.dtype, pd.Int64Dtype):
            mapped = pd.array(real[local.fillna(1).to_numpy(np.int64) - 1], dtype="Int64")
            mapped[local.isna().to_numpy()] = pd.NA
            out[column] = mapped
        else:
            out[column] = real[local.to_numpy() - 1]
    return out


def _reserve_ids(conn: Connection, table: sa.Table, n: int) -> np.ndarray:
    """n fresh primary keys: from the sequence on PostgreSQL, after max(id) on SQLite
    (safe there: the write transaction holds the database lock)."""
    if conn.dialect.name == "postgresql":
        query = sa.text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
        )
        return np.sort(
            np.fromiter(conn.execute(query, {"t": table.name, "n": n}).scalars(), np.int64)
        )
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return np.arange(top + 1, top + n + 1, dtype=np.int64)


def _insert_accounts(conn: Connection, business_id: int, now: datetime) -> dict[str, int]:
    ids = {}
    for account in DEMO_ACCOUNTS:
        values = {
            "business_id": business_id,
            "email": account.email,
            "display_name": account.display_name,
            "role": account.role,
            "password_hash": hash_password(account.password),
            "auth_provider": "local",
            "created_at": now,
            "updated_at": now,
        }
        inserted = conn.execute(accounts.insert().values(**values).returning(accounts.c.id))
        ids[account.role] = int(inserted.scalar_one())
    return ids


def _python_values(series: pd.Series) -> list:
    """A column as plain Python values for the driver: None for missing, datetimes tz-aware."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return [None if v is pd.NaT else v.to_pydatetime() for v in series]
    if isinstance(series.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in series]
    return series.tolist()


def _insert_small(conn: Connection, table: sa.Table, frame: pd.DataFrame, business_id: int) -> None:
    """Core executemany for the small tables (hundreds of rows)."""
    columns = {c: _python_values(frame[c]) for c in frame.columns if c in table.c}
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    if rows:
        conn.execute(table.insert(), [{"business_id": business_id, **row} for row in rows])


def _text_values(series: pd.Series, dialect: str) -> list:
    """A column as driver-ready values for the bulk paths.

    Instants become text exactly as SQLAlchemy writes them: naive UTC with microseconds
    on SQLite (so string comparisons in queries keep working), `+00:00` on PostgreSQL.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        raw = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
        text = np.datetime_as_string(raw, unit="us")
        suffix = "" if dialect == "sqlite" else "+00:00"
        return [None if t == "NaT" else t.replace("T", " ") + suffix for t in text]
    if isinstance(series.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in series]
    if series.name == "tags":
        return [json.dumps(v) for v in series]
    return series.tolist()


def _chunks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _bulk_insert(
    conn: Connection,
    table: sa.Table,
    frame: pd.DataFrame,
    business_id: int,
    done: Callable[[float], None],
) -> None:
    """Big tables: COPY on PostgreSQL, chunked executemany on SQLite."""
    frame = frame.assign(business_id=business_id)
    columns = [c for c in frame.columns if c in table.c]
    dialect = conn.dialect.name
    writer = _copy_rows if dialect == "postgresql" else _executemany_rows
    written = 0
    for chunk in _chunks(frame[columns], CHUNK_ROWS):
        values = [_text_values(chunk[c], dialect) for c in columns]
        writer(conn, table, columns, zip(*values, strict=True))
        written += len(chunk)
        done(written / max(len(frame), 1))


def _executemany_rows(
    conn: Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple]
) -> None:
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our own identifiers
    conn.exec_driver_sql(sql, list(rows))


def _copy_rows(
    conn: Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple]
) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _audit_seed(conn: Connection, business_id: int, data: DemoData, seed: int) -> None:
    counts = {
        "accounts": len(DEMO_ACCOUNTS),
        "staff": len(data.staff),
        "services": len(data.services),
        "customers": len(data.customers),
        "appointments": len(data.appointments),
        "time_off": len(data.time_off),
        "seed": seed,
        "today": data.today.isoformat(),
    }
    record_audit(
        conn,
        actor=Actor.operator(business_id=business_id, label="seed"),
        action="seed",
        entity="businesses",
        entity_id=business_id,
        after=counts,
    )


def _refresh_statistics(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load (the reports' join plans depend on them);
    on PostgreSQL also the visibility map, so index-only scans stay index-only."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(statement)

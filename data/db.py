"""Engines and transactions.

`DATABASE_URL` picks the engine. SQLite gets WAL, a busy timeout, foreign keys and
`BEGIN IMMEDIATE` for every write transaction (a deferred BEGIN that later upgrades
to a write ignores the busy timeout and fails under concurrency). Reads use
`read_conn`, which begins deferred so readers never queue behind writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseConfigError(RuntimeError):
    """DATABASE_URL is malformed or names a driver we don't support."""


class DatabaseUnavailable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached."""


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as a placeholder
        return "<unparseable URL>"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseConfigError(f"DATABASE_URL is not a valid URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        parsed, connect_args = _prepare_threshold_args(parsed)
        try:
            return sa.create_engine(
                parsed, echo=echo, pool_pre_ping=True, pool_size=5, connect_args=connect_args
            )
        except Exception as exc:
            raise DatabaseConfigError(f"DATABASE_URL cannot be used: {exc}") from exc
    raise DatabaseConfigError(
        f"DATABASE_URL uses '{parsed.drivername}'; use sqlite:///PATH or postgresql+psycopg://..."
    )


def _prepare_threshold_args(parsed: sa.URL) -> tuple[sa.URL, dict[str, object]]:
    """`?prepare_threshold=none` turns psycopg's prepared statements off.

    Needed behind a transaction pooler (Supabase's port 6543, PgBouncer in transaction
    mode). psycopg would receive the query value as a string, so it moves to connect_args.
    """
    if "prepare_threshold" not in parsed.query:
        return parsed, {}
    raw = str(parsed.query["prepare_threshold"]).strip().lower()
    parsed = parsed.difference_update_query(["prepare_threshold"])
    try:
        value = None if raw in ("", "none") else int(raw)
    except ValueError as exc:
        raise DatabaseConfigError("prepare_threshold must be a whole number or 'none'") from exc
    return parsed, {"prepare_threshold": value}


def _sqlite_engine(parsed: sa.URL, *, echo: bool) -> Engine:
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
        cursor.execute("PRAGMA mmap_size=268435456")  # read through a 256 MiB memory map
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        deferred = conn.get_execution_options().get("slotboard_read_only", False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commits on success, rolls back on any error."""
    with engine.begin() as conn:
        yield conn


@contextmanager
def read_conn(engine: Engine) -> Iterator[Connection]:
    """A connection for reads; on SQLite its transactions begin deferred."""
    with engine.connect() as conn:
        conn = conn.execution_options(slotboard_read_only=True)
        yield conn
        conn.rollback()


def check_connection(engine: Engine) -> str:
    """Return the server's version string, or raise DatabaseUnavailable with the cause."""
    try:
        with read_conn(engine) as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar_one()
            return conn.exec_driver_sql("select version()").scalar_one().split(" on ")[0]
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(reason) from exc

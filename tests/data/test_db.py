"""Engine creation: URL handling, SQLite pragmas, prepared statements behind a pooler."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from data.db import (
    DatabaseConfigError,
    DatabaseUnavailable,
    check_connection,
    make_engine,
    read_conn,
    redact_url,
    write_tx,
)
from tests.pg import pg_admin_url


def test_redact_url_hides_the_password() -> None:
    shown = redact_url("postgresql+psycopg://app:s3cret@db:5432/slotboard")
    assert "s3cret" not in shown and "app:***@db" in shown
    assert redact_url("::not a url::") == "<unparseable URL>"


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/x", "oracle://a@b/c"])
def test_unsupported_urls_are_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(DatabaseConfigError, match="DATABASE_URL"):
        make_engine(url)


def test_unreachable_server_is_reported_not_raised_raw() -> None:
    engine = make_engine("postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable):
        check_connection(engine)


def test_sqlite_uses_wal_busy_timeout_and_foreign_keys(sqlite_engine: sa.Engine) -> None:
    with read_conn(sqlite_engine) as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    with write_tx(sqlite_engine) as conn:  # BEGIN IMMEDIATE holds the write lock at once
        conn.exec_driver_sql("select 1")
        other = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("value", "expected"), [("none", None), ("None", None), ("0", 0)])
def test_prepare_threshold_reaches_psycopg(value: str, expected: int | None) -> None:
    url = sa.make_url(pg_admin_url()).update_query_dict({"prepare_threshold": value})
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold == expected
        for _ in range(8):  # would be prepared after 5 runs by default
            conn.execute(sa.text("select :x"), {"x": 1})
    engine.dispose()


def test_bad_prepare_threshold_is_refused() -> None:
    with pytest.raises(DatabaseConfigError, match="prepare_threshold"):
        make_engine("postgresql+psycopg://u:p@127.0.0.1/db?prepare_threshold=lots")

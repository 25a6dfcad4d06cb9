"""The PostgreSQL server the tests use: named by SLOTBOARD_TEST_PG_URL (.ci/run sets it).

Unset: PostgreSQL tests skip with a reason. Set but unreachable: they fail, so CI can
never pass by silently skipping the PostgreSQL half of the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from data.db import make_engine

PG_URL_ENV = "SLOTBOARD_TEST_PG_URL"


def pg_admin_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set: PostgreSQL tests skipped (.ci/run sets it)")
    try:
        with sa.create_engine(url).connect() as conn:
            conn.exec_driver_sql("select 1")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{PG_URL_ENV} is set but PostgreSQL is unreachable: {exc}")
    return url


@contextmanager
def fresh_pg_database(prefix: str = "slotboard_t") -> Iterator[str]:
    """Create an empty database on the test server, yield its URL, drop it afterwards."""
    admin_url = pg_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def pg_engine_for(url: str) -> sa.Engine:
    return make_engine(url)

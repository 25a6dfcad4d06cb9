"""Scratch databases for benchmarks: a temporary SQLite file, or a PostgreSQL database
created on the server named by SLOTBOARD_BENCH_PG_URL (or SLOTBOARD_TEST_PG_URL) and
dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_URL_ENVS = ("SLOTBOARD_BENCH_PG_URL", "SLOTBOARD_TEST_PG_URL")


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def scratch_postgresql() -> Iterator[str]:
    admin_url = next((os.environ[name] for name in PG_URL_ENVS if os.environ.get(name)), None)
    if admin_url is None:
        raise SystemExit(f"set {' or '.join(PG_URL_ENVS)} to bench PostgreSQL")
    name = f"slotboard_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

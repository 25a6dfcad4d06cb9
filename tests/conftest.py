"""Shared fixtures: real SQLite files and a real PostgreSQL server, migrated to head."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.db import make_engine, write_tx  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.schema import metadata  # noqa: E402
from tests.factories import make_business  # noqa: E402
from tests.pg import fresh_pg_database  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's secrets file or real cloud credentials, or writes
    model files outside its own temporary folder."""
    monkeypatch.setenv("SLOTBOARD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))  # never the project's var/
    for name in (
        "DATABASE_URL",
        "OPENAI_API_KEY",
        "SUPABASE_URL",
        "SUPABASE_ANON_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
        "SMTP_HOST",
        "SMTP_FROM",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'slotboard.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(sqlite_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_session_engine() -> Iterator[sa.Engine]:
    with fresh_pg_database() as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def pg_engine(_pg_session_engine: sa.Engine) -> Iterator[sa.Engine]:
    """One migrated database per session, emptied after every test."""
    yield _pg_session_engine
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with _pg_session_engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    """A migrated, empty database on each engine."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def business(engine: sa.Engine) -> int:
    """A fresh business on the parametrised engine; returns its id."""
    with write_tx(engine) as conn:
        return make_business(conn)

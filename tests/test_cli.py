"""The operations CLI, run in-process through Typer's runner against real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from auth.passwords import verify_password
from cli import app
from data.db import make_engine, read_conn
from data.migrate import migration_state
from data.schema import accounts, appointments, businesses

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def _count(url: str, table: sa.Table) -> int:
    engine = make_engine(url)
    with read_conn(engine) as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return int(count)


def test_migrate_seed_and_demo_accounts(db_url: str) -> None:
    head = migration_state(make_engine(db_url)).head
    assert head >= "0003"
    assert f"database at migration {head}" in _ok("migrate")
    out = _ok("seed", "--demo", "--appointments", "1500", "--seed", "3", "--if-empty")
    assert "1500 appointments" in out
    assert _count(db_url, appointments) == 1500
    assert "database already has data: not seeding" in _ok("seed", "--demo", "--if-empty")
    again = runner.invoke(app, ["seed", "--demo"])
    assert again.exit_code == 1 and "exists already" in again.output
    listed = _ok("demo-accounts")
    assert "owner@demo.slotboard.test" in listed and "demo-owner-2026" in listed


def test_business_and_users_add(db_url: str) -> None:
    _ok("migrate")
    _ok("business", "create", "--name", "Studio North", "--slug", "studio-north",
        "--timezone", "Europe/London", "--country", "gb", "--currency", "gbp")  # fmt: skip
    out = _ok("users", "add", "Ana@Example.com", "--role", "owner", "--password-stdin",
              stdin="a long enough password\n")  # fmt: skip
    assert "added owner account" in out and "ana@example.com" in out
    engine = make_engine(db_url)
    with read_conn(engine) as conn:
        row = conn.execute(sa.select(accounts)).one()
        business = conn.execute(sa.select(businesses)).one()
    engine.dispose()
    assert (row.email, row.role, business.country) == ("ana@example.com", "owner", "GB")
    assert verify_password(row.password_hash, "a long enough password")
    assert "ana@example.com" in _ok("users", "list")
    assert "no demo accounts in use" in _ok("demo-accounts")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["business", "create", "--name", "X", "--slug", "x", "--timezone", "Mars/Base",
          "--country", "DE", "--currency", "EUR"], "not an IANA time zone"),
        (["business", "create", "--name", "X", "--slug", "x", "--timezone", "Europe/Berlin",
          "--country", "ZZ", "--currency", "EUR"], "country"),
        (["users", "add", "not-an-email", "--role", "owner", "--password-stdin"], "e-mail"),
        (["users", "add", "a@example.com", "--role", "admin", "--password-stdin"], "admin"),
        (["users", "add", "a@example.com", "--role", "staff", "--password-stdin"], "10 characters"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message(db_url: str, args: list[str], message: str) -> None:
    _ok("migrate")
    _ok("business", "create", "--name", "Salon", "--slug", "salon", "--timezone",
        "Europe/Berlin", "--country", "DE", "--currency", "EUR")  # fmt: skip
    result = runner.invoke(app, args, input="short\n")
    assert result.exit_code != 0
    assert message in result.output
    assert _count(db_url, accounts) == 0 and _count(db_url, businesses) == 1


def test_duplicate_account_and_slug_are_refused(db_url: str) -> None:
    _ok("migrate")
    create = ["business", "create", "--name", "Salon", "--slug", "salon", "--timezone",
              "Europe/Berlin", "--country", "DE", "--currency", "EUR"]  # fmt: skip
    _ok(*create)
    again = runner.invoke(app, create)
    assert again.exit_code == 1 and "already exists" in again.output
    add = ["users", "add", "ana@example.com", "--role", "staff", "--password-stdin"]
    _ok(*add, stdin="a long enough password\n")
    dup = runner.invoke(app, ["users", "add", "ANA@example.com", "--role", "owner",
                              "--password-stdin"], input="another long password\n")  # fmt: skip
    assert dup.exit_code == 1 and "already exists" in dup.output
    assert _count(db_url, accounts) == 1


def test_unreachable_database_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:topsecret@127.0.0.1:1/x")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 1
    assert "DATABASE_URL=" in result.output and "topsecret" not in result.output


def test_a_database_behind_the_schema_is_refused_with_the_fix(db_url: str) -> None:
    from alembic import command

    from data.migrate import _config

    fresh = runner.invoke(app, ["remind", "schedule", "--all"])
    assert fresh.exit_code == 1
    assert "at migration no schema" in fresh.output and "cli.py migrate" in fresh.output
    engine, config = make_engine(db_url), _config()
    with engine.begin() as conn:  # as a database left by an older version would be
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    engine.dispose()
    behind = runner.invoke(app, ["users", "list"])
    assert behind.exit_code == 1 and "at migration 0003" in behind.output
    assert "Traceback" not in behind.output
    _ok("migrate")
    after = runner.invoke(app, ["users", "list"])  # past the check: no business yet
    assert "migration" not in after.output and "name the business" in after.output

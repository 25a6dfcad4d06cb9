"""What every CLI command shares: the Typer app, failing with a clear one-line message,
settings, the engine and picking the business. Command modules register on `app`."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from data.db import (
    DatabaseConfigError,
    DatabaseUnavailable,
    check_connection,
    make_engine,
    redact_url,
)
from scheduling.business import first_error
from settings import Settings, load_settings

app = typer.Typer(help="Slotboard operations.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Sign-in accounts.", no_args_is_help=True)
business_app = typer.Typer(help="Businesses (tenants).", no_args_is_help=True)
import_app = typer.Typer(
    help="Import CSV exports from other booking systems.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
app.add_typer(business_app, name="business")
app.add_typer(import_app, name="import")

JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable report.")]
BusinessOption = Annotated[str | None, typer.Option("--business", help="Business slug.")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise _fail(f"invalid setting: {first_error(exc)}") from None


def _engine(*, require_current: bool = True):  # type: ignore[no-untyped-def]
    """The engine of DATABASE_URL, connected. Unless `require_current` is False (only
    `migrate` says so), a database behind the newest migration is refused with the
    command that fixes it, instead of failing later on a missing table or column."""
    from data.migrate import migration_state

    settings = _settings()
    try:
        engine = make_engine(settings.database_url)
        check_connection(engine)
        state = migration_state(engine) if require_current else None
    except (DatabaseConfigError, DatabaseUnavailable) as exc:
        url = redact_url(settings.database_url)
        raise _fail(f"cannot use DATABASE_URL={url}: {exc}") from None
    if state is not None and not state.is_current:
        found = state.current or "no schema"
        raise _fail(f"the database is at migration {found}, this version needs {state.head}: "
                    "run `python cli.py migrate` first")  # fmt: skip
    return engine


def _business_id(conn, slug: str | None) -> int:  # type: ignore[no-untyped-def]
    from data.business import list_businesses

    found = list_businesses(conn)
    if slug is not None:
        found = [b for b in found if slug in (b["slug"], str(b["id"]))]
    if len(found) != 1:
        names = ", ".join(b["slug"] for b in list_businesses(conn)) or "none yet"
        raise _fail(f"name the business with --business (businesses: {names})")
    return int(found[0]["id"])

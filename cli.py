"""Slotboard operations CLI: `python cli.py --help`.

Entry points only parse input and call the data and domain layers; they run without Streamlit.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from auth.roles import Actor, Role
from cli_common import (
    BusinessOption,
    JsonOption,
    _business_id,
    _engine,
    _fail,
    app,
    business_app,
    import_app,
    users_app,
)
from data.db import (
    read_conn,
    write_tx,
)
from data.migrate import upgrade_to_head
from scheduling.business import BusinessSettings, first_error

__all__ = ["app"]


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest migration."""
    engine = _engine(require_current=False)
    state = upgrade_to_head(engine)
    typer.echo(f"database at migration {state.current} ({engine.dialect.name})")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo salon.")] = False,
    appointments: Annotated[int | None, typer.Option(min=1, help="Exact count.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (deterministic).")] = 7,
    today: Annotated[str | None, typer.Option(help="Anchor date YYYY-MM-DD.")] = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Skip if data exists.")] = False,
) -> None:
    """Seed the deterministic demo business."""
    from data.business import list_businesses
    from data.demo import DemoAlreadySeeded, seed_demo

    if not demo:
        raise _fail("only --demo seeding exists; import real data with `import` (coming)")
    engine = _engine()
    with read_conn(engine) as conn:
        if if_empty and list_businesses(conn):
            typer.echo("database already has data: not seeding")
            return
    anchor = date.fromisoformat(today) if today else None
    with typer.progressbar(length=100, label="Seeding demo salon") as bar:
        done = [0]

        def progress(_stage: str, fraction: float) -> None:
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        try:
            summary = seed_demo(
                engine, appointments=appointments, seed=seed, today=anchor, progress=progress
            )
        except DemoAlreadySeeded as exc:
            raise _fail(str(exc)) from None
    typer.echo(
        f"seeded demo business {summary.business_id}: {summary.staff} staff, "
        f"{summary.services} services, {summary.customers} customers, "
        f"{summary.appointments} appointments in {summary.seconds:.1f}s"
    )


@app.command("demo-accounts")
def demo_accounts() -> None:
    """Print the demo sign-in accounts, while the demo business is the data in use."""
    from data.demo_access import load_demo_sign_ins

    with read_conn(_engine()) as conn:
        found = load_demo_sign_ins(conn)
    if not found:
        typer.echo("no demo accounts in use (a real business exists or the passwords changed)")
        return
    typer.echo("Demo sign-in accounts (demo data only):")
    for account in found:
        typer.echo(f"  {account.role:<8} {account.email:<36} password: {account.password}")


@business_app.command("create")
def business_create(
    name: Annotated[str, typer.Option(help="Display name.")],
    slug: Annotated[str, typer.Option(help="Short unique id, e.g. studio-north.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")],
    country: Annotated[str, typer.Option(help="ISO country code, e.g. DE.")],
    currency: Annotated[str, typer.Option(help="ISO currency code, e.g. EUR.")],
) -> None:
    """Create a business; then add its owner with `users add EMAIL --role owner`."""
    from data.business import create_business

    try:
        settings = BusinessSettings(
            name=name, timezone=timezone, country=country, currency=currency
        )
        with write_tx(_engine()) as conn:
            business_id = create_business(conn, settings=settings, slug=slug)
    except ValueError as exc:  # invalid settings or slug, or the slug is taken
        raise _fail(first_error(exc)) from None
    typer.echo(f"created business {business_id} ({slug})")


def _read_new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if from_env := os.environ.get("SLOTBOARD_NEW_PASSWORD"):
        return from_env
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    email: str,
    role: Annotated[Role, typer.Option(help="owner, staff or analyst.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    business: Annotated[str | None, typer.Option(help="Business slug.")] = None,
    supabase: Annotated[bool, typer.Option(help="Signs in through Supabase Auth.")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Add a sign-in account. The password is prompted (or SLOTBOARD_NEW_PASSWORD / stdin)."""
    from data.accounts import create_account

    engine = _engine()
    with read_conn(engine) as conn:
        business_id = _business_id(conn, business)
    password = None if supabase else _read_new_password(password_stdin)
    try:
        with write_tx(engine) as conn:
            account_id = create_account(
                conn,
                actor=Actor.operator(business_id=business_id),
                email=email,
                display_name=name or email.split("@")[0],
                role=role.value,
                password=password,
                auth_provider="supabase" if supabase else "local",
            )
    except (ValueError, LookupError) as exc:
        raise _fail(first_error(exc)) from None
    typer.echo(f"added {role.value} account {account_id} for {email.strip().lower()}")


@users_app.command("list")
def users_list(business: Annotated[str | None, typer.Option(help="Business slug.")] = None) -> None:
    """List a business's accounts."""
    from data.accounts import list_accounts

    with read_conn(_engine()) as conn:
        actor = Actor.operator(business_id=_business_id(conn, business))
        for row in list_accounts(conn, actor=actor):
            state = "active" if row["is_active"] else "disabled"
            typer.echo(f"{row['id']:>5}  {row['role']:<8} {state:<8} {row['email']}")


# --- import ----------------------------------------------------------------------------

MappingOption = Annotated[
    Path, typer.Option("--mapping", help="Column mapping, a .toml or .json file.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Do all the checks, then write nothing.")
]
SkipOption = Annotated[
    bool, typer.Option("--skip-bad-rows", help="Import the good rows even if some are bad.")
]
SHOWN_ERRORS = 50


@import_app.command("appointments")
def import_appointments_command(
    file: Annotated[Path, typer.Argument(help="The CSV export.")],
    mapping: MappingOption,
    dry_run: DryRunOption = False,
    skip_bad_rows: SkipOption = False,
    as_json: JsonOption = False,
    business: BusinessOption = None,
) -> None:
    """Import appointments (and the customers, staff and services they name).

    Exits 1 when any row was rejected (or the file can't be read), 0 on a clean run.
    """
    _run_import("appointments", file, mapping, dry_run, skip_bad_rows, as_json, business)


@import_app.command("customers")
def import_customers_command(
    file: Annotated[Path, typer.Argument(help="The CSV export.")],
    mapping: MappingOption,
    dry_run: DryRunOption = False,
    skip_bad_rows: SkipOption = False,
    as_json: JsonOption = False,
    business: BusinessOption = None,
) -> None:
    """Import customers. Exits 1 when any row was rejected, 0 on a clean run."""
    _run_import("customers", file, mapping, dry_run, skip_bad_rows, as_json, business)


def _run_import(
    kind: str,
    file: Path,
    mapping: Path,
    dry_run: bool,
    skip_bad_rows: bool,
    as_json: bool,
    business: str | None,
) -> None:
    from data.importer import ImportFileError, MappingError, import_appointments, import_customers

    engine = _engine()
    with read_conn(engine) as conn:
        business_id = _business_id(conn, business)
    run = import_appointments if kind == "appointments" else import_customers
    try:
        report = run(
            engine, actor=Actor.operator(business_id=business_id), source=file,
            mapping=mapping, dry_run=dry_run, skip_bad_rows=skip_bad_rows,
            progress=None if as_json else _import_progress(),
        )  # fmt: skip
    except (ImportFileError, MappingError) as exc:
        if as_json:
            typer.echo(json.dumps({"ok": False, "error": str(exc)}, indent=2))
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, **report.to_dict()}, indent=2))
    else:
        _echo_report(report)
    if not report.ok:
        raise typer.Exit(code=1)


def _import_progress():  # type: ignore[no-untyped-def]
    """A one-line counter on a terminal; nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        return None

    def show(rows: int, fraction: float | None) -> None:
        share = f" ({fraction:.0%})" if fraction is not None else ""
        typer.echo(f"\rread {rows} rows{share}", nl=False, err=True)

    return show


def _echo_report(report) -> None:  # type: ignore[no-untyped-def]
    from data.importer.report import MAX_KEPT_ERRORS

    if sys.stderr.isatty():
        typer.echo("", err=True)
    for line in report.summary_lines():
        typer.echo(line)
    if report.errors:
        typer.echo("rejected rows (row, column: reason):")
    for error in report.errors[:SHOWN_ERRORS]:
        typer.echo(f"  row {error.row}, {error.column}: {error.reason}")
    hidden = len(report.errors) - SHOWN_ERRORS + report.errors_omitted
    if hidden > 0:
        typer.echo(f"  ... and {hidden} more (--json lists up to {MAX_KEPT_ERRORS:,})")


# --- export and kpis -------------------------------------------------------------------


import cli_forecast  # noqa: E402, F401 - registers `forecast`
import cli_inbound  # noqa: E402, F401 - registers `remind reply`
import cli_remind  # noqa: E402, F401 - registers `remind`
import cli_reports  # noqa: E402, F401 - registers `export` and `kpis`
import cli_retention  # noqa: E402, F401 - registers `churn` and `noshow`

if __name__ == "__main__":
    app()

"""`remind schedule` and `remind run`: automatic reminders for cron or a service.

`schedule` withdraws reminders of cancelled or moved appointments and queues what the
business's rules make due in the next 48 hours. `run` does that and then sends what is
due, through Twilio and SMTP when they are configured, else into the outbox only (the
console provider: nothing leaves the machine). A demo business always uses the console.
Without --once, `run` repeats every --interval seconds until stopped.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from auth.roles import Actor
from cli_common import JsonOption, _engine, _fail, _settings, app
from cli_forecast import _business_ids
from data.db import read_conn

remind_app = typer.Typer(help="Automatic reminders: queue and send.", no_args_is_help=True)
app.add_typer(remind_app, name="remind")

BusinessArg = Annotated[
    str | None, typer.Option("--business", help="Business id or slug (default: the only one).")
]
AllArg = Annotated[bool, typer.Option("--all", help="Every business.")]


@remind_app.command("schedule")
def remind_schedule_command(
    business: BusinessArg = None, all_businesses: AllArg = False, as_json: JsonOption = False
) -> None:
    """Queue the reminders due in the next 48 hours; withdraw stale ones. Idempotent."""
    engine = _engine()
    reports = [_schedule(engine, bid) for bid in _business_ids(engine, business, all_businesses)]
    _echo(reports, as_json)


@remind_app.command("run")
def remind_run_command(
    business: BusinessArg = None,
    all_businesses: AllArg = False,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[int, typer.Option(min=10, help="Seconds between passes.")] = 60,
    as_json: JsonOption = False,
) -> None:
    """Schedule and send what is due; repeat every --interval seconds unless --once."""
    engine = _engine()
    ids = _business_ids(engine, business, all_businesses)
    while True:
        reports = []
        for business_id in ids:
            report = _schedule(engine, business_id)
            report["dispatch"] = _dispatch(engine, business_id)
            reports.append(report)
        _echo(reports, as_json)
        if once:
            return
        time.sleep(interval)


def _schedule(engine: Any, business_id: int) -> dict[str, Any]:
    from notifications.reminders import parse_quiet_hours, schedule_reminders

    settings = _settings()
    try:
        quiet = parse_quiet_hours(settings.quiet_hours_start, settings.quiet_hours_end)
    except ValueError:
        raise _fail("QUIET_HOURS_START and QUIET_HOURS_END must look like 21:00") from None
    actor = Actor.operator(business_id=business_id, label="cli:remind")
    report = schedule_reminders(
        engine, actor=actor, now=datetime.now(UTC), quiet=quiet, models_dir=settings.models_dir
    )
    return {"business_id": business_id, **asdict(report)}


def _dispatch(engine: Any, business_id: int) -> dict[str, Any]:
    from data.business import load_business
    from notifications.dispatcher import dispatch_pending
    from notifications.senders import build_senders

    settings = _settings()
    with read_conn(engine) as conn:
        is_demo = bool(load_business(conn, business_id=business_id)["is_demo"])
    senders = build_senders(settings, is_demo=is_demo)
    report = dispatch_pending(
        engine, senders=senders.by_channel, business_id=business_id,
        rate_per_second=settings.send_rate_per_second,
    )  # fmt: skip
    return {**asdict(report), "paths": senders.paths}


def _echo(reports: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"businesses": reports}, indent=2, default=str))
        return
    for row in reports:
        skipped = ", ".join(f"{n} {why}" for why, n in row["skipped_by_reason"].items()) or "none"
        typer.echo(
            f"business {row['business_id']}: {row['enqueued']} queued "
            f"({row['extra_for_risk']} extra for high no-show risk), {row['withdrawn']} "
            f"withdrawn, skipped: {skipped}"
        )
        if "dispatch" in row:
            sent = row["dispatch"]
            typer.echo(
                f"  sent {sent['sent']}, retrying {sent['retried']}, failed {sent['failed']}, "
                f"skipped {sent['skipped']} · " + "; ".join(sent["paths"].values())
            )

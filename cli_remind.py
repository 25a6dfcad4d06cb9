"""`remind schedule` and `remind run`: automatic reminders for cron or a service.

`schedule` withdraws reminders of cancelled or moved appointments and queues what the
business's rules make due in the next 48 hours. `run` does that and then sends what is
due, through Twilio and SMTP when they are configured, else into the outbox only (the
console provider: nothing leaves the machine). A demo business always uses the console.
Without --once, `run` repeats every --interval seconds until stopped.
`status` asks Twilio what became of recent SMS (delivered, or not) and records it; without
Twilio in use (not configured, or a demo business) there is nothing to ask and it says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
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


@remind_app.command("status")
def remind_status_command(
    business: BusinessArg = None,
    all_businesses: AllArg = False,
    since_hours: Annotated[int, typer.Option(min=1, help="Sends of the last N hours.")] = 168,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="Messages per business.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Refresh the delivery status of recent Twilio SMS from Twilio (delivered / failed)."""
    engine = _engine()
    since = datetime.now(UTC) - timedelta(hours=since_hours)
    ids = _business_ids(engine, business, all_businesses)
    reports = [_refresh_delivery(engine, business_id, since, limit) for business_id in ids]
    if as_json:
        typer.echo(json.dumps({"since": since.isoformat(), "businesses": reports}, indent=2))
        return
    for row in reports:
        typer.echo(f"business {row['business_id']}: {_describe_refresh(row)}")


def _refresh_delivery(engine: Any, business_id: int, since: datetime, limit: int) -> dict[str, Any]:
    """One business's refresh: {"business_id", "sms_path", "refreshed", and the
    DeliveryRefresh counts when Twilio is the SMS sender}."""
    sms, path = _sms_sender(engine, business_id)
    report: dict[str, Any] = {"business_id": business_id, "sms_path": path}
    if sms is None:
        return report | {"refreshed": False}
    from notifications.delivery import refresh_delivery_statuses  # loads the Twilio SDK

    actor = Actor.operator(business_id=business_id, label="cli:remind")
    refresh = refresh_delivery_statuses(
        engine, actor=actor, sender_or_client=sms, since=since, limit=limit
    )
    return report | {"refreshed": True, **asdict(refresh)}


def _sms_sender(engine: Any, business_id: int) -> tuple[Any, str]:
    """(the business's Twilio sender or None, the SMS path text) from the settings."""
    from data.business import load_business
    from notifications.senders import build_senders

    with read_conn(engine) as conn:
        is_demo = bool(load_business(conn, business_id=business_id)["is_demo"])
    senders = build_senders(_settings(), is_demo=is_demo)
    sms = senders.by_channel.get("sms")
    twilio = sms if sms is not None and sms.name == "twilio" else None
    return twilio, senders.paths["sms"]


def _describe_refresh(row: dict[str, Any]) -> str:
    if not row["refreshed"]:
        return f"nothing to refresh: SMS goes to {row['sms_path'].removeprefix('SMS: ')}"
    return (
        f"{row['checked']} checked, {row['delivered']} delivered, {row['failed']} not "
        f"delivered, {row['pending']} still on their way, {row['unknown']} unknown, "
        f"{row['stale']} already recorded"
    )


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

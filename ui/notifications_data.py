"""Glue behind the Notifications page: the audience, templates, sending with a progress
callback, and the automatic reminders. Not cached: every read is small and
the outbox must show a send at once. Writes run in their own short transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.db import read_conn, write_tx
from data.outbox import enqueue_messages, requeue_failed
from data.reminders import ReminderInputs, load_reminder_inputs
from data.templates import ensure_default_templates, list_templates
from data.types import utcnow
from notifications.dispatcher import DispatchReport, dispatch_pending
from notifications.planning import QuietHours
from notifications.reminders import ScheduleReport, parse_quiet_hours, schedule_reminders
from notifications.rules import parse_rule_settings
from notifications.senders import Senders, build_senders
from ui.session import get_settings

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SendSummary:
    """A send from the page (rows of one channel): how many rows were new, already
    there, and how the dispatch of the business's due messages went; `held`: the new
    rows when their channel has no sender (they wait in the outbox)."""

    enqueued: int
    duplicates: int
    held: int
    report: DispatchReport


def load_senders(business: dict[str, Any]) -> Senders:
    """The business's senders from the settings (a demo business: the console only)."""
    return build_senders(get_settings(), is_demo=bool(business["is_demo"]))


def load_quiet_hours() -> QuietHours | None:
    """QUIET_HOURS_START/END as QuietHours; None when they are not "HH:MM" times."""
    settings = get_settings()
    try:
        return parse_quiet_hours(settings.quiet_hours_start, settings.quiet_hours_end)
    except ValueError:
        return None


def load_audience(
    actor: Actor,
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    statuses: Sequence[str],
    staff: Sequence[int] = (),
    services: Sequence[int] = (),
) -> ReminderInputs:
    """Appointments starting in [start, end) with one of `statuses` (and, when given, one
    of the staff or service ids), their customers and what the outbox holds for them."""
    with read_conn(engine) as conn:
        inputs = load_reminder_inputs(conn, actor=actor, start=start, end=end)
    kept = [
        row for row in inputs.appointments
        if row["status"] in statuses
        and (not staff or row["staff_id"] in staff)
        and (not services or row["service_id"] in services)
    ]  # fmt: skip
    return ReminderInputs(kept, inputs.customers, inputs.already, inputs.reminded)


def load_reminder_templates(actor: Actor, engine: Engine) -> list[dict[str, Any]]:
    """The business's active "reminder" templates, the shipped defaults added if missing."""
    with write_tx(engine) as conn:
        ensure_default_templates(conn, actor=actor)
        rows = list_templates(conn, actor=actor, kind="reminder")
    return [row for row in rows if row["is_active"]]


def send_rows(
    actor: Actor,
    engine: Engine,
    *,
    rows: Sequence[dict[str, Any]],
    senders: Senders,
    progress: Progress | None = None,
) -> SendSummary:
    """Enqueue `rows` (a repeated key is a no-op), then dispatch the business's due
    messages through `senders`."""
    with write_tx(engine) as conn:
        result = enqueue_messages(conn, actor=actor, messages=rows)
    report = dispatch_business(actor, engine, senders=senders, progress=progress)
    held = {row["channel"] for row in rows} - set(senders.by_channel)
    return SendSummary(result.inserted, result.duplicates, result.inserted if held else 0, report)


def dispatch_business(
    actor: Actor, engine: Engine, *, senders: Senders, progress: Progress | None = None
) -> DispatchReport:
    """Send every due message of the actor's business on the channels with a sender."""
    if not senders.by_channel:
        return DispatchReport()
    return dispatch_pending(
        engine, senders=senders.by_channel, business_id=actor.business_id,
        rate_per_second=get_settings().send_rate_per_second, progress=progress,
    )  # fmt: skip


def retry_failed(
    actor: Actor,
    engine: Engine,
    *,
    message_ids: Sequence[int],
    senders: Senders,
    progress: Progress | None = None,
) -> tuple[int, DispatchReport]:
    """Requeue these failed rows of the business, then dispatch; (requeued, report)."""
    with write_tx(engine) as conn:
        requeued = requeue_failed(conn, actor=actor, message_ids=message_ids, now=utcnow())
    return requeued, dispatch_business(actor, engine, senders=senders, progress=progress)


def run_automatic(
    actor: Actor, engine: Engine, *, senders: Senders, progress: Progress | None = None
) -> tuple[ScheduleReport, DispatchReport]:
    """The business's reminder rules now (as `cli.py remind run --once` does)."""
    schedule = schedule_reminders(
        engine, actor=actor, now=utcnow(), quiet=load_quiet_hours(),
        models_dir=get_settings().models_dir,
    )  # fmt: skip
    return schedule, dispatch_business(actor, engine, senders=senders, progress=progress)


def load_rule_labels(business: dict[str, Any]) -> list[str]:
    """ "24 h before by SMS", with " (off)" for inactive rules; ValueError if unreadable."""
    settings = parse_rule_settings(business["reminder_rules"])
    return [s.label + ("" if s.active else " (off)") for s in settings]

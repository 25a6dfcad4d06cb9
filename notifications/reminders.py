"""Automatic reminders: plan what the business's rules make due, render it with the
business's templates and put it in the outbox, and withdraw queued reminders whose
appointment was cancelled or moved. The dispatcher sends what is due. No Streamlit:
`cli.py remind schedule|run` and the Notifications panel call this.

Every run is idempotent: a reminder's key depends only on the appointment's start and the
rule (notifications.planning), and the outbox ignores a key it has seen, so running the
schedule every few minutes never enqueues anything twice.

High no-show risk: with a models folder, appointments whose no-show risk is in the high
band (reports.noshow.score_noshow_risk: the stored model, else each customer's own rate)
get one extra SMS 2 hours before (RISK_RULE, kind "reminder_risk"). The score is computed
with the business's operator rights: staff may run the schedule without seeing scores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from auth.roles import Actor, Permission
from data.business import load_business
from data.db import read_conn, write_tx
from data.outbox import enqueue_messages, record_withdrawn
from data.reminders import load_appointment_states, load_queued_reminders, load_reminder_inputs
from data.templates import ensure_default_templates, list_templates
from notifications.planning import (
    BusinessContext,
    PlannedMessage,
    QuietHours,
    ReminderRule,
    plan_reminders,
)
from notifications.rules import active_rules, parse_rule_settings
from notifications.templates import (
    TemplateProblem,
    build_variables,
    choose_variant,
    render_template,
)
from notifications.withdrawals import plan_withdrawals

DEFAULT_HORIZON = timedelta(hours=48)  # reminders due within this are queued ahead
RISK_RULE = ReminderRule(
    channel="sms", offset=timedelta(hours=2), name="extra: high no-show risk", kind="reminder_risk"
)
SKIP_TEMPLATE = "template error"
SKIP_NO_TEMPLATE = "no active template"


@dataclass(frozen=True)
class ScheduleReport:
    planned: int
    enqueued: int
    duplicates: int
    withdrawn: int
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    extra_for_risk: int = 0  # extra reminders planned for high no-show risk


def parse_quiet_hours(start: str, end: str) -> QuietHours:
    """ "21:00", "08:00" -> QuietHours; ValueError for another shape."""
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def schedule_reminders(
    engine: Engine,
    *,
    actor: Actor,
    now: datetime,
    quiet: QuietHours | None,
    horizon: timedelta = DEFAULT_HORIZON,
    models_dir: Path | None = None,
) -> ScheduleReport:
    """Withdraw stale reminders, then enqueue those the rules make due within `horizon`
    (plus the extra one for high no-show risk when `models_dir` is given)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    with write_tx(engine) as conn:
        business = load_business(conn, business_id=actor.business_id)
        rules = active_rules(parse_rule_settings(business["reminder_rules"]))
        context = BusinessContext(actor.business_id, business["timezone"], business["country"])
        withdrawn = _withdraw(conn, actor, [*rules, RISK_RULE], context)
        ensure_default_templates(conn, actor=actor)
    if not rules:
        return ScheduleReport(0, 0, 0, withdrawn)
    latest = max(rule.offset for rule in rules) + horizon + timedelta(days=1)
    with read_conn(engine) as conn:
        inputs = load_reminder_inputs(conn, actor=actor, start=now, end=now + latest)
        templates = list_templates(conn, actor=actor, kind="reminder")
    plan = plan_reminders(
        inputs.appointments, inputs.customers, rules, business=context, now=now,
        already=inputs.already, quiet=quiet, horizon=horizon,
    )  # fmt: skip
    doubled = any((r.channel, r.offset) == (RISK_RULE.channel, RISK_RULE.offset) for r in rules)
    risky = set() if doubled else _high_risk(engine, actor, models_dir, now, now + latest)
    extra = plan_reminders(
        [row for row in inputs.appointments if row["id"] in risky], inputs.customers,
        [RISK_RULE], business=context, now=now, already=inputs.already, quiet=quiet,
        horizon=horizon,
    )  # fmt: skip
    plan.messages.extend(extra.messages)
    skipped = Counter(skip.reason for skip in plan.skipped)
    by_id = {row["id"]: row for row in inputs.appointments}
    messages = []
    for planned in plan.messages:
        message = _render(planned, by_id[planned.appointment_id], inputs, business, templates)
        if isinstance(message, str):
            skipped[message] += 1
        else:
            messages.append(message)
    with write_tx(engine) as conn:
        result = enqueue_messages(conn, actor=actor, messages=messages)
    return ScheduleReport(
        len(plan.messages), result.inserted, result.duplicates, withdrawn,
        dict(skipped.most_common()), len(extra.messages),
    )  # fmt: skip


def _high_risk(
    engine: Engine, actor: Actor, models_dir: Path | None, start: datetime, end: datetime
) -> set[int]:
    """Ids of booked or confirmed appointments in [start, end) with high no-show risk."""
    if models_dir is None:
        return set()
    from reports.noshow import score_noshow_risk  # scikit-learn only when used

    operator = Actor.operator(business_id=actor.business_id, label="system:reminders")
    scoring = score_noshow_risk(
        engine, actor=operator, models_dir=models_dir, start=start, end=end, now=start
    )
    high = scoring.scores[scoring.scores["band"] == "high"]
    return {int(i) for i in high["appointment_id"]}


def _withdraw(conn: Any, actor: Actor, rules: list[Any], context: BusinessContext) -> int:
    queued = load_queued_reminders(conn, actor=actor)
    if not queued:
        return 0
    ids = [row["appointment_id"] for row in queued]
    states = load_appointment_states(conn, actor=actor, appointment_ids=ids)
    withdrawals = plan_withdrawals(queued, states, rules=rules, business=context)
    by_reason: dict[str, list[int]] = {}
    for withdrawal in withdrawals:
        by_reason.setdefault(withdrawal.reason, []).append(withdrawal.outbox_id)
    return sum(
        record_withdrawn(conn, message_ids=message_ids, reason=reason)
        for reason, message_ids in by_reason.items()
    )


def _render(
    planned: PlannedMessage,
    appointment: dict[str, Any],
    inputs: Any,
    business: dict[str, Any],
    templates: list[dict[str, Any]],
) -> dict[str, Any] | str:
    """The outbox row for a planned reminder, or the reason it can't be made."""
    active = [t for t in templates if t["channel"] == planned.channel and t["is_active"]]
    if not active:
        return SKIP_NO_TEMPLATE
    variants = {t["variant"]: t for t in active}
    template = variants[choose_variant(sorted(variants), planned.idempotency_key)]
    customer = inputs.customers.get(planned.customer_id, {})
    variables = build_variables({**appointment, "first_name": customer.get("first_name")}, business)
    try:
        rendered = render_template(template["body"], variables, subject=template["subject"])
    except TemplateProblem:
        return SKIP_TEMPLATE
    return {
        "channel": planned.channel, "recipient": planned.recipient,
        "subject": rendered.subject, "body": rendered.body, "template_id": template["id"],
        "template_kind": planned.kind, "variant": template["variant"],
        "appointment_id": planned.appointment_id, "customer_id": planned.customer_id,
        "idempotency_key": planned.idempotency_key, "scheduled_at": planned.scheduled_at,
    }  # fmt: skip

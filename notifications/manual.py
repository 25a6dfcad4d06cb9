"""Hand-picked sends from the Notifications panel: who gets the message, why not, and the
rendered outbox rows. Pure (no I/O).

A manual send has a `send_id`, a short hash of (template id, variant, sorted appointment
ids, the business's local date): pressing Send twice on the same audience the same day
gives the same id, so the same idempotency keys, and the outbox ignores the second press.
Keys are "b{business}:m{send_id}:a{appointment}:{channel}", a shape the automatic
reminders never use, so their withdrawals never touch a manual message.

Skip reasons, by precedence (the first that applies): the appointment is cancelled
(SKIP_CANCELLED) or not upcoming (SKIP_NOT_UPCOMING: completed, no-show, or already
started); the key is in the outbox already, or the appointment already has a message of
the same kind on the same channel queued or sent, by an automatic rule or an earlier send
to another audience (SKIP_ALREADY_REMINDED); it is quiet hours now
in the business's zone (SKIP_QUIET_HOURS: a manual send is not postponed, the user is
told before sending); no customer record (SKIP_NO_CUSTOMER); then the recipient's own
reasons from `notifications.contacts.check_recipient` (consent, address).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from notifications.contacts import CHANNELS, check_recipient
from notifications.planning import (
    SKIP_ALREADY_REMINDED,
    SKIP_CANCELLED,
    SKIP_NO_CUSTOMER,
    SKIP_QUIET_HOURS,
    UPCOMING_STATUSES,
    BusinessContext,
    Plan,
    PlannedMessage,
    QuietHours,
    Skipped,
    as_utc,
)
from notifications.templates import TemplateProblem, build_variables, render_template

SKIP_NOT_UPCOMING = "not an upcoming appointment"
SKIP_TEMPLATE = "template error"
SEND_ID_LENGTH = 10


def build_send_id(
    *, template_id: int, variant: str, appointment_ids: Iterable[int], local_date: date
) -> str:
    """A short, stable hash of the send: the same inputs (in any order) give the same id."""
    ids = ",".join(str(i) for i in sorted({int(i) for i in appointment_ids}))
    text = f"{int(template_id)}|{variant}|{ids}|{local_date.isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SEND_ID_LENGTH]


def build_manual_key(business_id: int, send_id: str, appointment_id: int, channel: str) -> str:
    """ "b{business}:m{send_id}:a{appointment}:{channel}"."""
    return f"b{business_id}:m{send_id}:a{appointment_id}:{channel}"


def plan_manual_messages(
    appointments: Iterable[Mapping[str, Any]],
    customers: Mapping[int, Mapping[str, Any]],
    *,
    business: BusinessContext,
    channel: str,
    send_id: str,
    now: datetime,
    already: Collection[str] = (),
    reminded: Collection[tuple[int, str, str]] = (),
    quiet: QuietHours | None = None,
    kind: str = "reminder",
) -> Plan:
    """Who receives this send now (scheduled at `now`), and who is skipped and why.

    `appointments`: mappings with `id`, `customer_id` (None: walk-in), `starts_at`
    (tz-aware) and `status`; `customers` by id as in `notifications.contacts`;
    `already`: idempotency keys in the outbox; `reminded`: (appointment id, channel,
    kind) of messages queued or sent already. Output follows input order; a repeated
    appointment is planned once (then "already reminded"). Raises ValueError for an
    unknown channel or a naive `now`.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    now = as_utc(now)
    local_now = now.astimezone(ZoneInfo(business.timezone)).time()
    quiet_now = quiet is not None and quiet.contains(local_now)
    taken, plan = set(already), Plan()
    for appointment in appointments:
        appointment_id, customer_id = int(appointment["id"]), appointment["customer_id"]
        key = build_manual_key(business.id, send_id, appointment_id, channel)
        done = key in taken or (appointment_id, channel, kind) in reminded
        reason = _appointment_reason(appointment, now) or (SKIP_ALREADY_REMINDED if done else None)
        reason = reason or (SKIP_QUIET_HOURS if quiet_now else None)
        recipient, refusal = _recipient(customer_id, customers, channel, business.country)
        if reason is None and recipient is not None:
            taken.add(key)
            plan.messages.append(PlannedMessage(
                key, appointment_id, int(customer_id), channel, recipient, kind, now, "manual"
            ))  # fmt: skip
            continue
        why = reason or refusal or SKIP_NO_CUSTOMER
        plan.skipped.append(Skipped(appointment_id, customer_id, channel, kind, why, key))
    return plan


def _appointment_reason(appointment: Mapping[str, Any], now: datetime) -> str | None:
    if appointment["status"] == "cancelled":
        return SKIP_CANCELLED
    if appointment["status"] not in UPCOMING_STATUSES:
        return SKIP_NOT_UPCOMING
    return SKIP_NOT_UPCOMING if as_utc(appointment["starts_at"]) <= now else None


def _recipient(
    customer_id: int | None,
    customers: Mapping[int, Mapping[str, Any]],
    channel: str,
    country: str | None,
) -> tuple[str | None, str | None]:
    customer = customers.get(customer_id) if customer_id is not None else None
    if customer is None:
        return None, SKIP_NO_CUSTOMER
    return check_recipient(channel, customer, country=country)


def build_manual_rows(
    plan: Plan,
    appointments: Mapping[int, Mapping[str, Any]],
    customers: Mapping[int, Mapping[str, Any]],
    *,
    business: Mapping[str, Any],
    template: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The outbox rows (for `data.outbox.enqueue_messages`) of the planned messages, each
    rendered with `template` (id, variant, subject, body) and the appointment's variables
    (`appointments` by id, with starts_at, service_name, staff_name; `business` with name,
    timezone); and the messages whose rendering failed, skipped with SKIP_TEMPLATE."""
    rows: list[dict[str, Any]] = []
    failed: list[Skipped] = []
    for planned in plan.messages:
        first_name = customers.get(planned.customer_id, {}).get("first_name")
        appointment = {**appointments[planned.appointment_id], "first_name": first_name}
        try:
            rendered = render_template(
                template["body"], build_variables(appointment, business),
                subject=template.get("subject") if planned.channel == "email" else None,
            )  # fmt: skip
        except TemplateProblem:
            failed.append(Skipped(
                planned.appointment_id, planned.customer_id, planned.channel, planned.kind,
                SKIP_TEMPLATE, planned.idempotency_key,
            ))  # fmt: skip
            continue
        rows.append({
            "channel": planned.channel, "recipient": planned.recipient,
            "subject": rendered.subject, "body": rendered.body,
            "template_id": template["id"], "template_kind": planned.kind,
            "variant": template["variant"], "appointment_id": planned.appointment_id,
            "customer_id": planned.customer_id, "idempotency_key": planned.idempotency_key,
            "scheduled_at": planned.scheduled_at,
        })  # fmt: skip
    return rows, failed

"""Queued reminders that must not go out any more: the appointment was cancelled, moved
(its reminders' idempotency keys change with the start, see notifications.planning), is no
longer upcoming or gone, or the rule was removed. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from notifications.planning import (
    UPCOMING_STATUSES,
    BusinessContext,
    ReminderRule,
    build_idempotency_key,
    compute_send_time,
)

WITHDRAW_CANCELLED = "appointment cancelled"
WITHDRAW_RESCHEDULED = "rescheduled"
WITHDRAW_NOT_UPCOMING = "appointment no longer upcoming"
WITHDRAW_MISSING = "appointment not found"
WITHDRAW_RULE_REMOVED = "reminder rule removed"

_KEY = re.compile(r"^b(\d+):a(\d+):([^:]+):(sms|email):(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")


class Withdrawal(NamedTuple):
    outbox_id: int
    reason: str


def plan_withdrawals(
    queued: Iterable[Mapping[str, Any]],
    appointments: Iterable[Mapping[str, Any]],
    *,
    rules: Sequence[ReminderRule],
    business: BusinessContext,
) -> list[Withdrawal]:
    """Queued planned reminders that must not go out, with why.

    `queued`: outbox rows (`id`, `appointment_id`, `idempotency_key`, `status`). Only rows
    "queued" whose key has this module's shape, this business and a rule's kind (or
    "reminder") count, so campaign or manual messages (keys with another segment, e.g.
    "b1:c7:a42:...") are never touched. `appointments`: current rows (`id`, `starts_at`,
    `status`) of every appointment referred to; a missing one counts as deleted. A key no
    current rule gives for the current start means a reschedule (or a changed rule offset).
    """
    by_id = {int(row["id"]): row for row in appointments}
    kinds = {"reminder", *(rule.kind for rule in rules)}
    withdrawals = []
    for row in queued:
        match = _KEY.match(str(row.get("idempotency_key") or ""))
        if row.get("status") != "queued" or match is None:
            continue
        if match[1] != str(business.id) or match[3] not in kinds:
            continue  # a campaign, manual or other business's message
        appointment_id = row.get("appointment_id")
        appointment = by_id.get(int(appointment_id)) if appointment_id is not None else None
        reason = _withdrawal_reason(match, appointment, rules, business)
        if reason is not None:
            withdrawals.append(Withdrawal(int(row["id"]), reason))
    return withdrawals


def _withdrawal_reason(
    match: re.Match[str],
    appointment: Mapping[str, Any] | None,
    rules: Sequence[ReminderRule],
    business: BusinessContext,
) -> str | None:
    if appointment is None:
        return WITHDRAW_MISSING
    if appointment["status"] == "cancelled":
        return WITHDRAW_CANCELLED
    if appointment["status"] not in UPCOMING_STATUSES:
        return WITHDRAW_NOT_UPCOMING
    same = [rule for rule in rules if (rule.kind, rule.channel) == (match[3], match[4])]
    if not same:
        return WITHDRAW_RULE_REMOVED
    start, tz, appointment_id = appointment["starts_at"], business.timezone, int(appointment["id"])
    expected = {
        build_idempotency_key(business.id, appointment_id, match[3], match[4], at)
        for at in (compute_send_time(start, rule, timezone=tz) for rule in same)
    }
    return None if match[0] in expected else WITHDRAW_RESCHEDULED

"""Inbound SMS replies: apply a customer's reply to consent and to their next appointment.

`apply_inbound_reply` is what a webhook calls (docs/inbound_replies.md), in one
transaction (`write_tx`). There is no signed-in user: it acts as the operator
"system:inbound" of the business the reply was sent to, and touches only that business's
rows. The sender is found by the E.164 form of the From number among the business's
customers that are not merged into another record; several records with the number are
one person: consent changes apply to all of them, a confirm or cancel to the soonest
upcoming appointment among them (`notifications.inbound.plan_appointment_change`).

Effects, each an UPDATE guarded by the state it changes (so a repeat changes nothing)
with an audit entry that holds ids, the intent and the MessageSid, never the phone
number or the text:
- opt_out: consent-holders get sms_opt_in False, sms_opt_in_at = now (the last consent
  change, like the dispatcher's `mark_opted_out`; the panel then says "opted out");
- opt_in: those without consent get sms_opt_in True, sms_opt_in_at = now; a lone YES
  does the same for customers who had opted out (Twilio re-subscribes them);
- confirm: booked -> confirmed; cancel: booked or confirmed -> cancelled with
  `CANCEL_REASON` (the transitions of `scheduling.booking_rules`). Reminders already
  queued for a cancelled appointment need no work here: the dispatcher rechecks every
  appointment before sending and withdraws them.
An unknown or invalid sender number changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor
from data.audit import record_audit
from data.business import load_business
from data.schema import appointments, customers
from notifications.inbound import (
    CANCEL_REASON,
    Consent,
    ParsedReply,
    ReplyIntent,
    ReplyOutcome,
    build_reply_text,
    parse_reply,
    plan_appointment_change,
)
from scheduling.booking_rules import explain_transition
from scheduling.catalog import normalise_phone

ACTOR_LABEL = "system:inbound"
APPT = appointments.c
CUST = customers.c
_ACTIONS = {"confirmed": "confirm", "cancelled": "cancel"}
_CONSENT_OUTCOMES = {Consent.OPT_OUT: ReplyOutcome.OPTED_OUT, Consent.OPT_IN: ReplyOutcome.OPTED_IN}


@dataclass(frozen=True)
class InboundResult:
    """What a reply did. `reply_text` is the answer to send, unless `provider_replied`:
    Twilio answers that lone keyword itself, so the webhook should send nothing."""

    intent: ReplyIntent
    outcome: ReplyOutcome
    reply_text: str
    appointment_id: int | None = None
    changed: bool = False  # something was written
    provider_replied: bool = False


def apply_inbound_reply(
    conn: Connection,
    *,
    business_id: int,
    from_phone: str,
    body: str,
    now: datetime,
    message_sid: str | None = None,
) -> InboundResult:
    """Apply the reply `body` from `from_phone` to business `business_id` (module docstring).

    Runs in the caller's transaction. `now` (tz-aware) is when the reply arrived: it
    decides what is upcoming and stamps every change. `message_sid` (Twilio's id of the
    reply) only goes into the audit entries, to trace a change back to Twilio's log.
    Raises data.business.NotFound for an unknown business.
    """
    business = load_business(conn, business_id=business_id)
    parsed = parse_reply(body)
    ids = _find_customers(conn, business, from_phone)
    if not ids:
        return _result(parsed, ReplyOutcome.UNKNOWN_SENDER, business)
    actor = Actor.operator(business_id=business_id, label=ACTOR_LABEL)
    trace = {"via": f"sms reply: {parsed.intent}", "message_sid": message_sid}
    changed = 0
    if parsed.consent is not None:
        changed += _apply_consent(conn, actor, ids, parsed.consent, now=now, trace=trace)
    if parsed.intent in (ReplyIntent.CONFIRM, ReplyIntent.CANCEL):
        plan = plan_appointment_change(parsed.intent, _load_upcoming(conn, business_id, ids, now))
        if plan.new_status is not None and plan.appointment is not None:
            changed += _apply_status(conn, actor, plan.appointment, plan.new_status, now, trace)
        return _result(parsed, plan.outcome, business, plan.appointment, changed=changed > 0)
    outcome = _CONSENT_OUTCOMES.get(parsed.consent) if parsed.consent else None
    if outcome is None:
        help_asked = parsed.intent is ReplyIntent.HELP
        outcome = ReplyOutcome.HELP if help_asked else ReplyOutcome.UNRECOGNISED
    return _result(parsed, outcome, business, changed=changed > 0)


def _find_customers(conn: Connection, business: dict[str, Any], from_phone: str) -> list[int]:
    """Ids of the business's unmerged customers with this number (E.164), oldest first."""
    try:
        phone = normalise_phone(from_phone, business["country"])
    except ValueError:
        return []
    if phone is None:
        return []
    query = (
        sa.select(CUST.id)
        .where(CUST.business_id == business["id"], CUST.phone == phone)
        .where(CUST.merged_into_id.is_(None))
        .order_by(CUST.id)
    )
    return list(conn.execute(query).scalars())


def _apply_consent(
    conn: Connection,
    actor: Actor,
    ids: Sequence[int],
    consent: Consent,
    *,
    now: datetime,
    trace: dict[str, Any],
) -> int:
    """Turn SMS consent off or on for those of `ids` it changes; returns how many."""
    target = consent is not Consent.OPT_OUT
    query = sa.select(CUST.id).where(
        CUST.business_id == actor.business_id, CUST.id.in_(ids), CUST.sms_opt_in.is_(not target)
    )
    if consent is Consent.RESUBSCRIBE:  # only those who had consented and withdrew
        query = query.where(CUST.sms_opt_in_at.is_not(None))
    changing = list(conn.execute(query.order_by(CUST.id)).scalars())
    for customer_id in changing:
        conn.execute(
            customers.update()
            .where(CUST.business_id == actor.business_id, CUST.id == customer_id)
            .where(CUST.sms_opt_in.is_(not target))
            .values(sms_opt_in=target, sms_opt_in_at=now, updated_at=now)
        )
        record_audit(
            conn, actor=actor, action="update", entity="customers", entity_id=customer_id,
            before={"sms_opt_in": not target}, after={"sms_opt_in": target, **trace},
        )  # fmt: skip
    return len(changing)


def _load_upcoming(
    conn: Connection, business_id: int, customer_ids: Sequence[int], now: datetime
) -> list[dict[str, Any]]:
    """The customers' appointments after `now` that a confirm or cancel may be about:
    booked, confirmed, or cancelled by an earlier reply; soonest first, locked on
    PostgreSQL until commit so a concurrent change waits for us (or we for it)."""
    by_reply = sa.and_(APPT.status == "cancelled", APPT.cancellation_reason == CANCEL_REASON)
    query = (
        sa.select(APPT.id, APPT.status, APPT.starts_at, APPT.cancellation_reason)
        .where(APPT.business_id == business_id, APPT.customer_id.in_(customer_ids))
        .where(APPT.starts_at > now)
        .where(sa.or_(APPT.status.in_(("booked", "confirmed")), by_reply))
        .order_by(APPT.starts_at, APPT.id)
        .with_for_update()
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _apply_status(
    conn: Connection,
    actor: Actor,
    appointment: Mapping[str, Any],
    target: str,
    now: datetime,
    trace: dict[str, Any],
) -> int:
    """booked/confirmed -> `target`, guarded by the status it had; returns 1 or 0."""
    reason = CANCEL_REASON if target == "cancelled" else None
    current, starts_at = appointment["status"], appointment["starts_at"]
    if explain_transition(current, target, starts_at=starts_at, now=now, reason=reason):
        return 0
    changes: dict[str, Any] = {"status": target}
    if target == "cancelled":
        changes |= {"cancelled_at": now, "cancellation_reason": reason}
    updated = conn.execute(
        appointments.update()
        .where(APPT.business_id == actor.business_id, APPT.id == appointment["id"])
        .where(APPT.status == current)
        .values(**changes, updated_at=now)
    )
    if updated.rowcount != 1:
        return 0
    record_audit(
        conn, actor=actor, action=_ACTIONS[target], entity="appointments",
        entity_id=appointment["id"], before={"status": current}, after={**changes, **trace},
    )  # fmt: skip
    return 1


def _result(
    parsed: ParsedReply,
    outcome: ReplyOutcome,
    business: dict[str, Any],
    appointment: Mapping[str, Any] | None = None,
    *,
    changed: bool = False,
) -> InboundResult:
    starts_at = appointment["starts_at"] if appointment is not None else None
    text = build_reply_text(
        outcome, business_name=business["name"], starts_at=starts_at,
        timezone=business["timezone"],
    )  # fmt: skip
    return InboundResult(
        intent=parsed.intent, outcome=outcome, reply_text=text,
        appointment_id=None if appointment is None else int(appointment["id"]),
        changed=changed, provider_replied=parsed.provider_replied,
    )  # fmt: skip

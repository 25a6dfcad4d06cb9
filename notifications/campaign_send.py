"""Sending a campaign: one message per customer of a segment (a win-back draft from the
Retention page, or customers picked by tag), not tied to an appointment. Pure (no I/O).

Keys are "b{business}:c{campaign}:u{customer}:{channel}": sending the same campaign again
(a second press, a retry after a crash, another member of staff) enqueues nothing twice,
and a customer is messaged once per campaign and channel, whoever is added later.

Skip reasons, by precedence (the first that applies): no customer record (deleted or
merged since the segment was made: SKIP_NO_CUSTOMER); already sent in this campaign
(SKIP_ALREADY_SENT); a win-back to someone who has booked again since the segment was
made (SKIP_BOOKED_AGAIN); quiet hours now in the business's zone (SKIP_QUIET_HOURS: the
user is told before sending); then the recipient's own reasons from
`notifications.contacts.check_recipient` (consent, address).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from notifications.contacts import CHANNELS, check_recipient
from notifications.planning import (
    SKIP_NO_CUSTOMER,
    SKIP_QUIET_HOURS,
    BusinessContext,
    QuietHours,
    as_utc,
)
from notifications.templates import (
    TemplateProblem,
    build_variables,
    choose_variant,
    render_template,
)

SKIP_ALREADY_SENT = "already sent in this campaign"
SKIP_BOOKED_AGAIN = "has booked again"
SKIP_TEMPLATE = "template error"
# Campaign kind -> the template kind its messages use (kinds without one cannot be sent).
TEMPLATE_KIND_OF = {"win_back": "win_back"}


@dataclass(frozen=True)
class CampaignMessage:
    idempotency_key: str
    customer_id: int
    channel: str
    recipient: str


@dataclass(frozen=True)
class CampaignSkip:
    customer_id: int
    channel: str
    reason: str
    idempotency_key: str


@dataclass
class CampaignPlan:
    messages: list[CampaignMessage] = field(default_factory=list)
    skipped: list[CampaignSkip] = field(default_factory=list)


def build_campaign_key(business_id: int, campaign_id: int, customer_id: int, channel: str) -> str:
    """ "b{business}:c{campaign}:u{customer}:{channel}"."""
    return f"b{business_id}:c{campaign_id}:u{customer_id}:{channel}"


def plan_campaign_messages(
    customer_ids: Iterable[int],
    customers: Mapping[int, Mapping[str, Any]],
    *,
    business: BusinessContext,
    campaign_id: int,
    channel: str,
    now: datetime,
    kind: str = "win_back",
    already: Collection[str] = (),
    booked: Collection[int] = (),
    quiet: QuietHours | None = None,
) -> CampaignPlan:
    """Who of the segment receives the campaign now, and who is skipped and why.

    `customers`: the segment's customers that still exist, by id (contact columns as in
    `notifications.contacts`); `already`: idempotency keys in the outbox; `booked`:
    customers with an upcoming booking (a win-back skips them). Output follows input
    order; a repeated id is planned once. Raises ValueError for an unknown channel or a
    naive `now`."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    now = as_utc(now)
    quiet_now = quiet is not None and quiet.contains(
        now.astimezone(ZoneInfo(business.timezone)).time()
    )
    taken, seen, plan = set(already), set(), CampaignPlan()
    for customer_id in customer_ids:
        if customer_id in seen:
            continue
        seen.add(customer_id)
        key = build_campaign_key(business.id, campaign_id, customer_id, channel)
        customer = customers.get(customer_id)
        reason = _reason(customer, key in taken, kind == "win_back" and customer_id in booked,
                         quiet_now)  # fmt: skip
        recipient = None
        if reason is None and customer is not None:
            recipient, reason = check_recipient(channel, customer, country=business.country)
        if recipient is None:
            plan.skipped.append(CampaignSkip(customer_id, channel, reason or SKIP_NO_CUSTOMER, key))
            continue
        plan.messages.append(CampaignMessage(key, customer_id, channel, recipient))
    return plan


def _reason(
    customer: Mapping[str, Any] | None, sent: bool, booked: bool, quiet_now: bool
) -> str | None:
    if customer is None:
        return SKIP_NO_CUSTOMER
    if sent:
        return SKIP_ALREADY_SENT
    if booked:
        return SKIP_BOOKED_AGAIN
    return SKIP_QUIET_HOURS if quiet_now else None


def build_campaign_rows(
    plan: CampaignPlan,
    customers: Mapping[int, Mapping[str, Any]],
    *,
    business: Mapping[str, Any],
    templates: Sequence[Mapping[str, Any]],
    campaign_id: int,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[CampaignSkip]]:
    """The outbox rows (for `data.outbox.enqueue_messages`) of the planned messages, each
    rendered with one of `templates` (id, kind, variant, subject, body) and the
    customer's contact variables (`business` with name; no appointment variables); and
    the messages whose rendering failed, skipped with SKIP_TEMPLATE. With several
    templates (an A/B test), each message's variant is drawn by `choose_variant` from
    its key: an even, random split that a retry or a second press keeps, recorded in the
    row's `variant`. ValueError when `templates` is empty."""
    if not templates:
        raise ValueError("a campaign send needs a template")
    by_variant = {str(t["variant"]): t for t in templates}
    variants = sorted(by_variant)
    rows: list[dict[str, Any]] = []
    failed: list[CampaignSkip] = []
    for planned in plan.messages:
        template = by_variant[choose_variant(variants, planned.idempotency_key)]
        first_name = customers.get(planned.customer_id, {}).get("first_name")
        try:
            rendered = render_template(
                template["body"], build_variables({"first_name": first_name}, business),
                subject=template.get("subject") if planned.channel == "email" else None,
            )  # fmt: skip
        except TemplateProblem:
            failed.append(CampaignSkip(planned.customer_id, planned.channel, SKIP_TEMPLATE,
                                       planned.idempotency_key))  # fmt: skip
            continue
        rows.append({
            "channel": planned.channel, "recipient": planned.recipient,
            "subject": rendered.subject, "body": rendered.body,
            "template_id": template["id"], "template_kind": template["kind"],
            "variant": template["variant"], "campaign_id": campaign_id,
            "customer_id": planned.customer_id, "idempotency_key": planned.idempotency_key,
            "scheduled_at": as_utc(now),
        })  # fmt: skip
    return rows, failed

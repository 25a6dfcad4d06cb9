"""Delivery status write-back: what became of recent Twilio sends.

`refresh_delivery_statuses` lists this business's rows still "sent" by provider "twilio"
(sent at or after `since`), asks Twilio for each message's current status (one GET per
sid, outside any transaction; `notifications.twilio_sms.fetch_delivery_status`), and
records the final ones in one write transaction: delivered (delivered_at = Twilio's
date_updated, else now) or failed (undelivered / failed / canceled, with Twilio's error
code). Rows Twilio still reports as queued / sending / sent stay "sent" for a later
refresh; a sid that cannot be fetched is counted as unknown and left alone. Each write
is guarded (only from "sent"), so a refresh racing another one records each row once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from twilio.rest import Client

from auth.roles import Actor, Permission
from data.db import read_conn, write_tx
from data.outbox import load_recent_sent, record_delivery
from data.types import utcnow
from notifications.twilio_sms import DeliveryStatus, TwilioSender, fetch_delivery_status

PROVIDER = "twilio"


@dataclass(frozen=True)
class DeliveryRefresh:
    """Counts of one refresh: `checked` rows asked about; `delivered` and `failed`
    recorded; `pending` still on their way; `unknown` not fetched (or an unmapped
    status); `stale` no longer "sent" when the answer was recorded."""

    checked: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    unknown: int = 0
    stale: int = 0


def refresh_delivery_statuses(
    engine: Engine,
    *,
    actor: Actor,
    sender_or_client: TwilioSender | Client,
    since: datetime,
    limit: int = 200,
    now_fn: Callable[[], datetime] = utcnow,
) -> DeliveryRefresh:
    """Fetch and record the delivery status of up to `limit` of this business's recent
    Twilio sends (newest first); see the module docstring. Needs MANAGE_BOOKINGS. Never
    raises for a Twilio error (those sids count as unknown); database errors propagate."""
    actor.require(Permission.MANAGE_BOOKINGS)
    with read_conn(engine) as conn:
        sent = load_recent_sent(conn, actor=actor, provider=PROVIDER, since=since, limit=limit)
    if not sent:
        return DeliveryRefresh()
    found = fetch_delivery_status(sender_or_client, [row["provider_message_id"] for row in sent])
    counts = dict.fromkeys(("delivered", "failed", "pending", "unknown", "stale"), 0)
    with write_tx(engine) as conn:
        for row in sent:
            status = found.get(row["provider_message_id"]) or DeliveryStatus("unknown")
            outcome = status.outbox_status
            if outcome is None or outcome == "sent":
                counts["unknown" if outcome is None else "pending"] += 1
                continue
            recorded = record_delivery(
                conn, message_id=row["id"], status=outcome, error=_error(status),
                at=status.updated_at or now_fn(),
            )  # fmt: skip
            counts[outcome if recorded else "stale"] += 1
    return DeliveryRefresh(checked=len(sent), **counts)


def _error(status: DeliveryStatus) -> str | None:
    """The failure text kept in last_error (no personal data: status and code only)."""
    if status.outbox_status != "failed":
        return None
    code = f", error {status.error_code}" if status.error_code is not None else ""
    return f"Twilio status {status.status}{code}"

"""Glue behind the Notifications page's customer-segment sends: campaigns to pick from,
customer tags, a new campaign from tags, the templates of a campaign's kind, and the
send itself (enqueue and record, in one transaction, then dispatch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.campaigns import create_campaign_draft, list_campaigns, record_campaign_sent
from data.db import read_conn, write_tx
from data.outbox import enqueue_messages
from data.segments import (
    CampaignAudience,
    count_customer_tags,
    customers_for_window,
    customers_with_tags,
    load_campaign_audience,
)
from data.templates import ensure_default_templates, list_templates
from data.types import utcnow
from notifications.campaign_send import TEMPLATE_KIND_OF
from notifications.dispatcher import DispatchReport
from notifications.senders import Senders
from ui.notifications_data import Progress, dispatch_business

SENDABLE_STATUSES = ("draft", "scheduled", "running", "done")


@dataclass(frozen=True)
class CampaignSendSummary:
    enqueued: int
    duplicates: int
    held: int  # new rows waiting in the outbox: their channel has no sender
    report: DispatchReport


def load_sendable_campaigns(actor: Actor, engine: Engine) -> list[dict[str, Any]]:
    """The business's campaigns that can be sent: of a kind with a template kind
    (TEMPLATE_KIND_OF), not cancelled, naming customers; newest first."""
    with read_conn(engine) as conn:
        rows = list_campaigns(conn, actor=actor, limit=200)
    return [row for row in rows if row["kind"] in TEMPLATE_KIND_OF
            and row["status"] in SENDABLE_STATUSES and row["audience"]]  # fmt: skip


def load_audience(actor: Actor, engine: Engine, *, campaign_id: int) -> CampaignAudience:
    with read_conn(engine) as conn:
        return load_campaign_audience(conn, actor=actor, campaign_id=campaign_id, now=utcnow())


def load_tags(actor: Actor, engine: Engine) -> dict[str, int]:
    with read_conn(engine) as conn:
        return count_customer_tags(conn, actor=actor)


def create_tag_campaign(
    actor: Actor, engine: Engine, *, name: str, tags: Sequence[str], channel: str
) -> tuple[int, int]:
    """A win-back draft for the customers carrying any of `tags` now (the segment keeps
    the tags and a snapshot of the ids); (campaign id, customers). ValueError when no
    tag is picked or nobody carries them, or for a bad name or channel."""
    if not tags:
        raise ValueError("pick at least one tag")
    with write_tx(engine) as conn:
        ids = customers_with_tags(conn, actor=actor, tags=tags)
        if not ids:
            raise ValueError("no customer carries these tags")
        segment = {"source": "tags", "tags": sorted(tags), "customer_ids": ids}
        campaign_id = create_campaign_draft(
            conn, actor=actor, name=name, kind="win_back", channel=channel, segment=segment
        )
    return campaign_id, len(ids)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WINDOW_LOOKBACK = timedelta(days=365)


def window_audience(
    actor: Actor, engine: Engine, *, window: dict[str, Any], tz: str
) -> tuple[int, int, int, list[int]]:
    """(weekday, start hour, end hour, customers) of a window handed over by a
    Recommendations link ("Tue", "14:00", "17:00"): who came then in the last year and
    holds no booking. ValueError for a malformed window."""
    try:
        weekday = WEEKDAYS.index(str(window["weekday"]))
        start = int(str(window["start"]).split(":")[0])
        end = int(str(window["end"]).split(":")[0]) or 24
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a weekday window: {window}") from exc
    now = utcnow()
    hours = {"weekday": weekday, "start_hour": start, "end_hour": end}
    with read_conn(engine) as conn:
        ids = customers_for_window(conn, actor=actor, **hours, tz=tz,
                                   since=now - WINDOW_LOOKBACK, now=now)  # fmt: skip
    return weekday, start, end, ids


def create_window_campaign(
    actor: Actor, engine: Engine, *, name: str, window: dict[str, Any], ids: list[int],
    channel: str,
) -> int:  # fmt: skip
    """A draft inviting these customers back to fill the window (kind win_back)."""
    segment = {"source": "recommendation", "window": window, "customer_ids": ids}
    with write_tx(engine) as conn:
        return create_campaign_draft(
            conn, actor=actor, name=name, kind="win_back", channel=channel, segment=segment
        )


def load_campaign_templates(actor: Actor, engine: Engine, *, kind: str) -> list[dict[str, Any]]:
    """The business's active templates of the template kind a campaign kind uses (the
    shipped defaults added if missing)."""
    with write_tx(engine) as conn:
        ensure_default_templates(conn, actor=actor)
        rows = list_templates(conn, actor=actor, kind=TEMPLATE_KIND_OF[kind])
    return [row for row in rows if row["is_active"]]


def send_campaign(
    actor: Actor,
    engine: Engine,
    *,
    campaign_id: int,
    rows: Sequence[dict[str, Any]],
    skipped: int,
    senders: Senders,
    progress: Progress | None = None,
) -> CampaignSendSummary:
    """Enqueue the campaign's rows (a repeated key is a no-op) and record the send on the
    campaign in one transaction, then dispatch the business's due messages."""
    with write_tx(engine) as conn:
        result = enqueue_messages(conn, actor=actor, messages=rows)
        record_campaign_sent(conn, actor=actor, campaign_id=campaign_id,
                             enqueued=result.inserted, skipped=skipped)  # fmt: skip
    report = dispatch_business(actor, engine, senders=senders, progress=progress)
    held = {row["channel"] for row in rows} - set(senders.by_channel)
    return CampaignSendSummary(
        result.inserted, result.duplicates, result.inserted if held else 0, report
    )

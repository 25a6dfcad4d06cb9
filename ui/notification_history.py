"""The history half of the Notifications page: the outbox (filtered, recipients masked)
with a retry of its failed rows, campaigns with their messages by status, the delivery
status refresh from Twilio, and reminder effectiveness.

`render_history(actor, engine, business=..., senders=..., progress_factory=...)` draws
all four sections; the page has checked MANAGE_BOOKINGS and calls `show_flash()` first
(writes leave their summary through `after_write` and rerun). Outbox reads are not
cached (a send must show at once); the effectiveness tables are, for ten minutes per
business, period and hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from analytics.reminder_effect import MIN_GROUP, ReminderEffect
from auth.roles import Actor
from data.campaigns import list_campaigns
from data.db import read_conn
from data.notification_stats import campaign_message_counts, load_outbox_page
from data.outbox import count_by_status
from data.schema import CHANNELS, NOTIFICATION_STATUSES
from data.types import utcnow
from notifications.masking import mask_recipient
from notifications.senders import CHANNEL_LABELS, Senders
from notifications.templates import TEMPLATE_KINDS
from reports.reminder_effect import build_reminder_effect
from ui.notifications_data import Progress, retry_failed
from ui.send_widgets import describe
from ui.session import after_write

ProgressFactory = Callable[[], Progress]
ALL = "all"
OUTBOX_LIMIT = 200
CAMPAIGN_LIMIT = 50
DELIVERY_WINDOW = timedelta(days=7)
CREATED_WITHIN = {"last 24 h": timedelta(hours=24), "last 7 days": timedelta(days=7),
                  "last 30 days": timedelta(days=30), ALL: None}  # fmt: skip
EFFECT_PERIODS = {"last 30 days": 30, "last 90 days": 90, "last 365 days": 365}
OUTBOX_COLUMNS = {"id": "Id", "created_at": "Created", "channel": "Channel",
                  "recipient": "Recipient", "template_kind": "Kind", "variant": "Variant",
                  "campaign": "Campaign", "status": "Status", "status_reason": "Reason",
                  "attempts": "Attempts", "provider": "Provider", "sent_at": "Sent",
                  "delivered_at": "Delivered", "last_error": "Last error"}  # fmt: skip
EFFECT_CAPTION = (
    "Past appointments only. Observational: reminders were not randomised against no "
    "reminder, so the baseline differs in more than the reminder (for example, customers "
    "without SMS consent). The baseline holds only appointments booked at least 24 h ahead "
    "and not walk-ins, the ones a reminder could have reached. Variants were randomised: "
    "compare them within one channel. An appointment reminded on several channels counts "
    "once in each channel's row. No-show rate = no-shows ÷ (completed + no-shows), with a "
    "95 % interval. Only the latest status is stored, so a confirmed appointment that was "
    "then attended reads as completed: 'Confirmed or completed' is not a pure confirmation "
    "rate; cancellation and no-show are the outcomes to compare. Groups under "
    f"{MIN_GROUP} appointments are too few to compare."
)


def render_history(
    actor: Actor,
    engine: Engine,
    *,
    business: dict[str, Any],
    senders: Senders,
    progress_factory: ProgressFactory,
) -> None:
    """The outbox, campaigns, delivery status and reminder effectiveness sections."""
    with read_conn(engine) as conn:
        campaigns = list_campaigns(conn, actor=actor, limit=CAMPAIGN_LIMIT)
    names = {int(row["id"]): str(row["name"]) for row in campaigns}
    render_outbox(actor, engine, tz=business["timezone"], campaign_names=names,
                  senders=senders, progress_factory=progress_factory)  # fmt: skip
    render_campaigns(actor, engine, campaigns, tz=business["timezone"])
    render_delivery(actor, engine, senders)
    render_reminder_effect(actor, engine)


def render_outbox(
    actor: Actor,
    engine: Engine,
    *,
    tz: str,
    campaign_names: dict[int, str],
    senders: Senders,
    progress_factory: ProgressFactory,
) -> None:
    st.subheader("Outbox")
    with read_conn(engine) as conn:
        counts = count_by_status(conn, actor=actor)
    for column, (name, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(name.capitalize(), f"{count:,}")
    filters = render_outbox_filters(campaign_names)
    with read_conn(engine) as conn:
        rows = load_outbox_page(conn, actor=actor, limit=OUTBOX_LIMIT, **filters)
    if not rows:
        st.caption("No messages match.")
        return
    st.caption(f"The newest {len(rows)} matching messages (at most {OUTBOX_LIMIT}), {tz}.")
    st.dataframe(build_outbox_table(rows, tz=tz, campaign_names=campaign_names), hide_index=True)
    failed = [int(row["id"]) for row in rows if row["status"] == "failed"]
    if st.button(f"Retry failed ({len(failed)})", key="nh_retry", disabled=not failed):
        requeued, report = retry_failed(actor, engine, message_ids=failed, senders=senders,
                                        progress=progress_factory())  # fmt: skip
        after_write(f"{requeued} failed messages queued again. "
                    f"Dispatch: {describe(report)}.")  # fmt: skip
        st.rerun()


def render_outbox_filters(campaign_names: dict[int, str]) -> dict[str, Any]:
    """The filter widgets; returns load_outbox_page's keyword filters."""
    cols = st.columns(5)
    status = cols[0].selectbox("Status", [ALL, *NOTIFICATION_STATUSES], key="nh_status")
    channel = cols[1].selectbox("Channel", [ALL, *CHANNELS], key="nh_channel",
                                format_func=lambda c: CHANNEL_LABELS.get(c, c))  # fmt: skip
    kind = cols[2].selectbox("Kind", [ALL, *TEMPLATE_KINDS], key="nh_kind")
    campaign = cols[3].selectbox("Campaign", [ALL, *campaign_names], key="nh_campaign",
                                 format_func=lambda c: campaign_names.get(c, c))  # fmt: skip
    within = cols[4].selectbox("Created", list(CREATED_WITHIN), index=3, key="nh_within")
    window = CREATED_WITHIN[within or ALL]
    return {
        "status": None if status == ALL else status,
        "channel": None if channel == ALL else channel,
        "kind": None if kind == ALL else kind,
        "campaign_id": None if campaign == ALL else campaign,
        "since": None if window is None else utcnow() - window,
    }


def build_outbox_table(
    rows: list[dict[str, Any]], *, tz: str, campaign_names: dict[int, str]
) -> pd.DataFrame:
    """The rows as displayed: recipients masked, campaign names, local times."""
    table = pd.DataFrame(rows)
    table["recipient"] = table["recipient"].map(mask_recipient)
    table["campaign"] = table["campaign_id"].map(
        lambda c: "" if pd.isna(c) else campaign_names.get(int(c), f"#{int(c)}")
    )
    for column in ("created_at", "sent_at", "delivered_at"):
        table[column] = pd.to_datetime(table[column], utc=True).dt.tz_convert(tz)
    return table[list(OUTBOX_COLUMNS)].rename(columns=OUTBOX_COLUMNS)


def render_campaigns(
    actor: Actor, engine: Engine, campaigns: list[dict[str, Any]], *, tz: str
) -> None:
    st.subheader("Campaigns")
    if not campaigns:
        st.caption("No campaigns yet (Retention turns a risk segment into a draft).")
        return
    with read_conn(engine) as conn:
        counts = campaign_message_counts(conn, actor=actor)
    st.dataframe(build_campaign_table(campaigns, counts, tz=tz), hide_index=True)


def build_campaign_table(
    campaigns: list[dict[str, Any]], counts: dict[int, dict[str, int]], *, tz: str
) -> pd.DataFrame:
    """One row per campaign: name, kind, channel, status, created, audience, then its
    outbox messages by status."""
    none = dict.fromkeys(NOTIFICATION_STATUSES, 0)
    rows = [
        {"Name": c["name"], "Kind": c["kind"], "Channel": CHANNEL_LABELS.get(c["channel"]),
         "Status": c["status"], "Created": c["created_at"], "Audience": c["audience"],
         **{s.capitalize(): n for s, n in counts.get(int(c["id"]), none).items()}}
        for c in campaigns
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    table["Created"] = pd.to_datetime(table["Created"], utc=True).dt.tz_convert(tz)
    return table


def render_delivery(actor: Actor, engine: Engine, senders: Senders) -> None:
    st.subheader("Delivery status")
    sms = senders.by_channel.get("sms")
    if sms is None or getattr(sms, "name", None) != "twilio":
        st.caption("Delivery receipts need Twilio; none is in use. "
                   f"{senders.paths.get('sms', 'SMS: no path')}.")  # fmt: skip
        return
    days = DELIVERY_WINDOW.days
    st.caption(f"Asks Twilio what became of the SMS sent in the last {days} days that have "
               "no delivery report yet.")  # fmt: skip
    if st.button("Refresh delivery status", key="nh_delivery"):
        from notifications.delivery import refresh_delivery_statuses  # loads the Twilio SDK

        refresh = refresh_delivery_statuses(
            engine, actor=actor, sender_or_client=sms, since=utcnow() - DELIVERY_WINDOW
        )
        after_write(
            f"Delivery status: {refresh.checked} checked, {refresh.delivered} delivered, "
            f"{refresh.failed} not delivered, {refresh.pending} still on their way, "
            f"{refresh.unknown} unknown, {refresh.stale} already recorded."
        )
        st.rerun()


def render_reminder_effect(actor: Actor, engine: Engine) -> None:
    st.subheader("Reminder effectiveness")
    period = st.selectbox("Appointments that started in the", list(EFFECT_PERIODS), index=1,
                          key="nh_effect_period")  # fmt: skip
    effect = load_reminder_effect(actor, engine, days=EFFECT_PERIODS[period or "last 90 days"])
    st.caption(EFFECT_CAPTION)
    tables = (("By channel", effect.by_channel),
              ("By variant (compare within one channel)", effect.by_variant),
              ("By timing (time from sending to the start)", effect.by_timing))  # fmt: skip
    for title, table in tables:
        st.markdown(f"**{title}**")
        st.dataframe(build_effect_table(table), hide_index=True)


def load_reminder_effect(actor: Actor, engine: Engine, *, days: int) -> ReminderEffect:
    """The effectiveness tables of the last `days` days, up to the current hour."""
    until = utcnow().replace(minute=0, second=0, microsecond=0)
    return _cached_effect(actor.business_id, str(engine.url), days, until, actor, engine)


@st.cache_data(ttl=600, max_entries=32, show_spinner="Reading outcomes…")
def _cached_effect(
    business_id: int, url: str, days: int, until: datetime, _actor: Actor, _engine: Engine
) -> ReminderEffect:
    with read_conn(_engine) as conn:
        return build_reminder_effect(
            conn, actor=_actor, since=until - timedelta(days=days), until=until, now=until
        )


def build_effect_table(table: pd.DataFrame) -> pd.DataFrame:
    """Rates as percentages, the no-show interval as one text, small groups noted."""
    shown = table.drop(columns=["no_show_low", "no_show_high", "too_few"]).rename(columns={
        "channel": "Channel", "variant": "Variant", "timing": "Timing",
        "appointments": "Appointments", "confirmed_or_completed_rate": "Confirmed or completed",
        "cancellation_rate": "Cancelled", "no_show_rate": "No-show"})  # fmt: skip
    if "Channel" in shown:
        shown["Channel"] = shown["Channel"].map(lambda c: CHANNEL_LABELS.get(c, c))
    for column in ("Confirmed or completed", "Cancelled", "No-show"):
        shown[column] = shown[column].map(_percent)
    shown["No-show 95 % interval"] = [
        "–" if pd.isna(low) else f"{low:.1%} – {high:.1%}"
        for low, high in zip(table["no_show_low"], table["no_show_high"], strict=True)
    ]
    shown["Note"] = table["too_few"].map({True: "too few to compare", False: ""})
    return shown


def _percent(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.1%}"

"""The Notifications page's customer-segment send: pick a campaign (a win-back draft
from the Retention page, or one made here from customer tags), a template variant or an
A/B split, preview, see who is skipped and why, and send with a progress bar. Planning
and rendering are notifications.campaign_send's; reads and writes ui/campaign_data's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.campaigns import MAX_NAME_LENGTH
from data.schema import CHANNELS
from data.types import utcnow
from notifications.campaign_send import (
    build_campaign_rows,
    plan_campaign_messages,
)
from notifications.planning import BusinessContext, QuietHours
from notifications.senders import CHANNEL_LABELS, Senders
from notifications.templates import build_variables
from ui import campaign_data as cd
from ui.send_widgets import describe, progress_bar, render_before_sending
from ui.send_widgets import render_preview as show_preview
from ui.session import after_write

SPLIT = "split"  # the variant choice that splits the audience between every active variant


@dataclass(frozen=True)
class SendContext:
    actor: Actor
    engine: Engine
    business: dict[str, Any]
    context: BusinessContext
    senders: Senders
    quiet: QuietHours | None


def render_campaign_send(ctx: SendContext) -> None:
    """The whole segment path of the page."""
    render_window_offer(ctx)
    campaigns = cd.load_sendable_campaigns(ctx.actor, ctx.engine)
    render_new_from_tags(ctx)
    if not campaigns:
        st.info("No campaign to send yet. Create a win-back campaign on the Retention page, "
                "or one from customer tags above.")  # fmt: skip
        return
    by_id = {row["id"]: row for row in campaigns}
    chosen = st.selectbox("Campaign", list(by_id), key="nt_campaign",
                          format_func=lambda i: _label(by_id[i]))  # fmt: skip
    campaign = by_id[chosen if chosen in by_id else next(iter(by_id))]
    audience = cd.load_audience(ctx.actor, ctx.engine, campaign_id=campaign["id"])
    channel = campaign["channel"]
    st.caption(f"{len(audience.customer_ids)} customers in the segment; "
               f"sent by {CHANNEL_LABELS[channel]} (the campaign's channel).")  # fmt: skip
    templates = render_template_choice(ctx, campaign["kind"], channel)
    if not templates:
        return
    plan = plan_campaign_messages(
        audience.customer_ids, audience.customers, business=ctx.context,
        campaign_id=campaign["id"], channel=channel, now=utcnow(), kind=campaign["kind"],
        already=audience.already, booked=audience.booked, quiet=ctx.quiet,
    )  # fmt: skip
    rows, failed = build_campaign_rows(
        plan, audience.customers, business=ctx.business, templates=templates,
        campaign_id=campaign["id"], now=utcnow(),
    )  # fmt: skip
    render_preview(ctx, templates, channel, audience.customers.get(_first(plan)))
    reasons = [skip.reason for skip in [*plan.skipped, *failed]]
    render_before_sending(len(rows), reasons, quiet=ctx.quiet, tz=ctx.context.timezone,
                          now=utcnow())  # fmt: skip
    render_send(ctx, campaign["id"], rows, len(reasons))


def _label(row: dict[str, Any]) -> str:
    kind = "Win-back" if row["kind"] == "win_back" else row["kind"]
    return (f"{row['name']} · {kind} · {CHANNEL_LABELS[row['channel']]} · "
            f"{row['audience']} customers · {row['status']}")  # fmt: skip


def _first(plan: Any) -> int | None:
    return plan.messages[0].customer_id if plan.messages else None


def render_template_choice(ctx: SendContext, kind: str, channel: str) -> list[dict[str, Any]]:
    """The templates the send uses: one variant, or every active one for an A/B split."""
    found = cd.load_campaign_templates(ctx.actor, ctx.engine, kind=kind)
    templates = {t["variant"]: t for t in found if t["channel"] == channel}
    if not templates:
        st.warning(f"No active template of this kind for {CHANNEL_LABELS[channel]}: "
                   "add or switch one on in Message templates.")  # fmt: skip
        return []
    options = [*templates, SPLIT] if len(templates) > 1 else list(templates)
    labels = {v: f"{v} – {t['name']}" for v, t in templates.items()}
    labels[SPLIT] = f"A/B test: split evenly between {', '.join(templates)}"
    picked = st.selectbox("Variant", options, key=f"nt_campaign_variant_{kind}_{channel}",
                          format_func=labels.get)  # fmt: skip
    if picked == SPLIT:
        st.caption("Each customer gets one variant at random, recorded on the message; the "
                   "history compares them.")  # fmt: skip
        return list(templates.values())
    return [templates.get(picked or "", next(iter(templates.values())))]


def render_preview(
    ctx: SendContext, templates: list[dict[str, Any]], channel: str, customer: dict | None
) -> None:
    """Each variant rendered for the first customer who will receive it (or a sample)."""
    first_name = (customer or {}).get("first_name")
    variables = build_variables({"first_name": first_name}, ctx.business)
    who = "the first recipient" if customer else "no recipient: a sample name"
    for template in templates:
        caption = f"variant {template['variant']}, {who}"
        show_preview(template, variables, channel, caption=caption)


def render_send(
    ctx: SendContext, campaign_id: int, rows: list[dict[str, Any]], skipped: int
) -> None:
    if not st.button("Send campaign", key="nt_campaign_send", type="primary", disabled=not rows):
        return
    summary = cd.send_campaign(
        ctx.actor, ctx.engine, campaign_id=campaign_id, rows=rows, skipped=skipped,
        senders=ctx.senders, progress=progress_bar(),
    )  # fmt: skip
    held = f", {summary.held} held in the outbox" if summary.held else ""
    after_write(f"{summary.enqueued} campaign messages queued ({summary.duplicates} were "
                f"already in the outbox){held}. Dispatch: {describe(summary.report)}.")  # fmt: skip
    st.rerun()


def render_new_from_tags(ctx: SendContext) -> None:
    """A form that makes a win-back campaign of the customers carrying some tags."""
    tags = cd.load_tags(ctx.actor, ctx.engine)
    with st.expander("New campaign from customer tags"):
        if not tags:
            st.caption("No customer has a tag yet: tags are set on the Customers page.")
            return
        with st.form("nt_tag_campaign"):
            name = st.text_input("Campaign name", max_chars=MAX_NAME_LENGTH, key="nt_tag_name")
            picked = st.multiselect("Customers tagged", list(tags), key="nt_tags",
                                    format_func=lambda t: f"{t} ({tags[t]})")  # fmt: skip
            channel = st.radio("Channel", CHANNELS, format_func=CHANNEL_LABELS.get,
                               horizontal=True, key="nt_tag_channel")  # fmt: skip
            submitted = st.form_submit_button("Create campaign")
        if not submitted:
            return
        if not name.strip():
            st.error("Give the campaign a name.")
            return
        try:
            _, count = cd.create_tag_campaign(ctx.actor, ctx.engine, name=name, tags=picked,
                                              channel=channel or CHANNELS[0])  # fmt: skip
        except ValueError as exc:
            st.error(f"The campaign was not created: {exc}")
            return
        after_write(f"Campaign “{name.strip()}” created for {count} customers.")
        st.rerun()


WINDOW_KEY = "nt_window"  # a window handed over by a Recommendations action link


def render_window_offer(ctx: SendContext) -> None:
    """A draft to fill a quiet window, offered when Recommendations sent the user here."""
    window = st.session_state.get(WINDOW_KEY)
    if not window:
        return
    try:
        _, _, _, ids = cd.window_audience(ctx.actor, ctx.engine, window=window,
                                          tz=ctx.context.timezone)  # fmt: skip
    except ValueError as exc:
        st.error(f"The window from Recommendations cannot be used: {exc}")
        st.session_state.pop(WINDOW_KEY, None)
        return
    span = f"{window['weekday']} {window['start']}–{window['end']}"
    with st.container(border=True):
        st.markdown(f"**From Recommendations: fill {span}.** {len(ids)} customers came in "
                    "this window in the last year and hold no booking now.")  # fmt: skip
        channel = st.radio("Channel", CHANNELS, format_func=CHANNEL_LABELS.get,
                           horizontal=True, key="nt_window_channel")  # fmt: skip
        left, right = st.columns(2)
        create = left.button("Create the campaign draft", key="nt_window_create",
                             type="primary", disabled=not ids)  # fmt: skip
        if right.button("Not now", key="nt_window_close"):
            st.session_state.pop(WINDOW_KEY, None)
            st.rerun()
    if not create:
        return
    campaign_id = cd.create_window_campaign(
        ctx.actor, ctx.engine, name=f"Fill {span}", window=window, ids=ids,
        channel=channel or CHANNELS[0],
    )  # fmt: skip
    st.session_state.pop(WINDOW_KEY, None)
    st.session_state["nt_campaign"] = campaign_id
    after_write(f"Campaign “Fill {span}” created for {len(ids)} customers: review and send it.")
    st.rerun()

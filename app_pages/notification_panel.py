"""Notifications (owner, staff): send a reminder to hand-picked upcoming appointments, or
a campaign to a customer segment (ui/campaign_panel.py), with a live preview and a
"before sending" count; watch the outbox, retry failures and run the automatic reminder
rules. Planning and rendering live in notifications/, reads and sends in
ui/notifications_data.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from auth.roles import Permission
from data.catalog import list_services, list_staff
from data.db import read_conn
from data.reminders import ReminderInputs
from data.types import utcnow
from notifications.manual import build_manual_rows, build_send_id, plan_manual_messages
from notifications.planning import UPCOMING_STATUSES, BusinessContext, Skipped
from notifications.senders import CHANNEL_LABELS
from notifications.templates import build_variables
from scheduling.timezones import local_day_bounds, local_today
from ui import notifications_data as nd
from ui.campaign_panel import WINDOW_KEY, SendContext, render_campaign_send
from ui.notification_history import render_history
from ui.send_widgets import describe, progress_bar, render_before_sending
from ui.send_widgets import render_preview as show_preview
from ui.session import (
    after_write,
    current_business,
    get_engine,
    require_permission,
    show_flash,
    take_handoff,
)


def render_paths() -> None:
    """Where each channel's messages go: a real provider, the console or held."""
    for channel, path in SENDERS.paths.items():
        (st.info if channel in SENDERS.offline_channels else st.success)(path)


def render_audience() -> ReminderInputs | None:
    st.subheader("Audience")
    with read_conn(ENGINE) as conn:
        staff_names = {s["id"]: s["display_name"] for s in list_staff(conn, actor=ACTOR)}
        service_names = {s["id"]: s["name"] for s in list_services(conn, actor=ACTOR)}
    tomorrow = local_today(TZ) + timedelta(days=1)
    top = st.columns([2, 2, 2, 2])
    period = top[0].date_input("Appointments on", value=(tomorrow, tomorrow), key="nt_dates")
    staff = top[1].multiselect("Staff", list(staff_names), format_func=staff_names.get,
                               key="nt_staff")  # fmt: skip
    services = top[2].multiselect("Services", list(service_names),
                                  format_func=service_names.get, key="nt_services")  # fmt: skip
    statuses = top[3].multiselect("Status", UPCOMING_STATUSES, default=list(UPCOMING_STATUSES),
                                  key="nt_status")  # fmt: skip
    if not isinstance(period, tuple) or len(period) != 2:
        st.info("Pick a first and a last day.")
        return None
    start, end = local_day_bounds(period[0], TZ)[0], local_day_bounds(period[1], TZ)[1]
    inputs = nd.load_audience(ACTOR, ENGINE, start=start, end=end, statuses=statuses,
                              staff=staff, services=services)  # fmt: skip
    st.caption(f"{len(inputs.appointments)} appointments match ({TZ}).")
    return inputs


def render_message(inputs: ReminderInputs) -> tuple[str, dict[str, Any] | None]:
    """Channel and template picked; shows the preview. (channel, template or None)."""
    st.subheader("Message")
    channel = st.radio("Channel", list(CHANNEL_LABELS), format_func=CHANNEL_LABELS.get,
                       horizontal=True, key="nt_channel")  # fmt: skip
    templates = [t for t in nd.load_reminder_templates(ACTOR, ENGINE) if t["channel"] == channel]
    if not templates:
        st.warning(f"No active reminder template for {CHANNEL_LABELS[channel]}.")
        return channel, None
    by_variant = {t["variant"]: t for t in templates}
    variant = st.selectbox("Variant", list(by_variant), key=f"nt_variant_{channel}",
                           format_func=lambda v: f"{v} – {by_variant[v]['name']}")  # fmt: skip
    template = by_variant[variant or next(iter(by_variant))]
    render_preview(inputs, template, channel)
    return channel, template


def render_preview(inputs: ReminderInputs, template: dict[str, Any], channel: str) -> None:
    if not inputs.appointments:
        st.caption("No appointment to preview.")
        return
    first = inputs.appointments[0]
    customer = inputs.customers.get(first["customer_id"], {})
    variables = build_variables({**first, "first_name": customer.get("first_name")}, BUSINESS)
    show_preview(template, variables, channel, caption="the first appointment")


def build_send(
    inputs: ReminderInputs, channel: str, template: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The outbox rows this send would enqueue, and the skipped messages with reasons."""
    ids = [row["id"] for row in inputs.appointments]
    send_id = build_send_id(template_id=template["id"], variant=template["variant"],
                            appointment_ids=ids, local_date=local_today(TZ))  # fmt: skip
    plan = plan_manual_messages(
        inputs.appointments, inputs.customers, business=CONTEXT, channel=channel,
        send_id=send_id, now=utcnow(), already=inputs.already, reminded=inputs.reminded,
        quiet=QUIET,
    )  # fmt: skip
    by_id = {row["id"]: row for row in inputs.appointments}
    rows, failed = build_manual_rows(plan, by_id, inputs.customers, business=BUSINESS,
                                     template=template)  # fmt: skip
    return rows, [*plan.skipped, *failed]


def render_send(rows: list[dict[str, Any]]) -> None:
    if not st.button("Send", key="nt_send", type="primary", disabled=not rows):
        return
    summary = nd.send_rows(ACTOR, ENGINE, rows=rows, senders=SENDERS, progress=progress_bar())
    held = f", {summary.held} held in the outbox" if summary.held else ""
    after_write(f"{summary.enqueued} messages queued ({summary.duplicates} were already in the "
                f"outbox){held}. Dispatch: {describe(summary.report)}.")  # fmt: skip
    st.rerun()


def render_automatic() -> None:
    st.subheader("Automatic reminders")
    try:
        labels = nd.load_rule_labels(BUSINESS)
    except ValueError as exc:
        st.error(f"The reminder rules cannot be read: {exc}")
        return
    st.markdown("\n".join(f"- {label}" for label in labels) or "No reminder rules.")
    quiet = f"{QUIET.start:%H:%M}–{QUIET.end:%H:%M}" if QUIET else "none (unreadable setting)"
    st.caption(f"Quiet hours: {quiet} ({TZ}). The rules run from `cli.py remind run` too.")
    if st.button("Run automatic reminders now", key="nt_auto"):
        schedule, report = nd.run_automatic(ACTOR, ENGINE, senders=SENDERS,
                                            progress=progress_bar())  # fmt: skip
        skipped = ", ".join(f"{n} {why}" for why, n in schedule.skipped_by_reason.items())
        after_write(f"Reminders: {schedule.enqueued} queued, {schedule.withdrawn} withdrawn, "
                    f"skipped: {skipped or 'none'}. Dispatch: {describe(report)}.")  # fmt: skip
        st.rerun()


ACTOR = require_permission(Permission.MANAGE_BOOKINGS)
ENGINE, BUSINESS = get_engine(), current_business(ACTOR)
TZ = BUSINESS["timezone"]
CONTEXT = BusinessContext(ACTOR.business_id, TZ, BUSINESS["country"])
SENDERS, QUIET = nd.load_senders(BUSINESS), nd.load_quiet_hours()
st.title("Notifications")
show_flash()
render_paths()
if (handed := take_handoff("app_pages/notification_panel.py")).get("weekday"):
    st.session_state["nt_source"] = "segment"  # a Recommendations link: fill a quiet window
    st.session_state[WINDOW_KEY] = handed
SOURCES = {"appointments": "Upcoming appointments", "segment": "A customer segment (campaign)"}
source = st.radio("Send to", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                  key="nt_source")  # fmt: skip
if source == "segment":
    st.subheader("Customer segment")
    render_campaign_send(SendContext(ACTOR, ENGINE, BUSINESS, CONTEXT, SENDERS, QUIET))
elif (audience := render_audience()) is not None:
    channel, template = render_message(audience)
    rows, skipped = build_send(audience, channel, template) if template else ([], [])
    render_before_sending(len(rows), [skip.reason for skip in skipped], quiet=QUIET, tz=TZ,
                          now=utcnow())  # fmt: skip
    render_send(rows)
render_history(ACTOR, ENGINE, business=BUSINESS, senders=SENDERS, progress_factory=progress_bar)
render_automatic()

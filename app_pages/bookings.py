"""Bookings (owner, staff): a filterable, sortable table with bulk status changes."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from auth.roles import Permission
from data.bookings import bulk_set_status, load_bookings
from data.catalog import list_services, list_staff
from data.db import read_conn
from scheduling.booking_rules import STATUS_LABELS
from scheduling.booking_table import BULK_STATUSES, build_bookings_table
from scheduling.timezones import local_day_bounds, local_today
from ui.booking_widgets import render_appointment_panel, run_booking_action
from ui.session import current_business, get_engine, require_permission, show_flash

LIMIT = 2000
actor = require_permission(Permission.MANAGE_BOOKINGS)
business = current_business(actor)
tz, engine = business["timezone"], get_engine()
today = local_today(tz)

st.title("Bookings")
show_flash()
with read_conn(engine) as conn:
    staff_names = {s["id"]: s["display_name"] for s in list_staff(conn, actor=actor)}
    service_names = {s["id"]: s["name"] for s in list_services(conn, actor=actor)}

top = st.columns([2, 2, 2])
period = top[0].date_input(
    "Dates", value=(today - timedelta(days=7), today + timedelta(days=14)), key="bk_dates"
)
query = top[1].text_input("Customer (name, phone or e-mail)", key="bk_query")
statuses = top[2].multiselect(
    "Status", list(STATUS_LABELS), format_func=STATUS_LABELS.get, key="bk_status"
)
row2 = st.columns(2)
staff_ids = row2[0].multiselect(
    "Staff", list(staff_names), format_func=staff_names.get, key="bk_staff"
)
service_ids = row2[1].multiselect(
    "Services", list(service_names), format_func=service_names.get, key="bk_services"
)
if not isinstance(period, tuple) or len(period) != 2:
    st.info("Pick a start and an end date.")
    st.stop()

start, end = local_day_bounds(period[0], tz)[0], local_day_bounds(period[1], tz)[1]
with read_conn(engine) as conn:
    rows = load_bookings(
        conn, actor=actor, start=start, end=end, staff_ids=staff_ids or None,
        service_ids=service_ids or None, statuses=statuses or None,
        customer_query=query.strip() or None, limit=LIMIT,
    )  # fmt: skip
if not rows:
    st.info("No bookings match these filters.")
    st.stop()
table = build_bookings_table(rows, tz=tz, currency=business["currency"])
if len(rows) == LIMIT:
    st.warning(f"Showing the first {LIMIT} bookings; narrow the filters to see the rest.")
picked = st.dataframe(
    table.drop(columns=["id"]), hide_index=True, width="stretch",
    on_select="rerun", selection_mode="multi-row", key="bk_table",
)  # fmt: skip
selected_ids = [int(table.iloc[i]["id"]) for i in picked.selection.rows]
st.caption(f"{len(table)} booking(s); {len(selected_ids)} selected. Click a header to sort.")

if len(selected_ids) == 1:
    render_appointment_panel(actor, selected_ids[0], business)
if selected_ids:
    with st.form("bk_bulk"):
        st.markdown(f"**Change the status of {len(selected_ids)} booking(s)**")
        new_status = st.selectbox(
            "New status", BULK_STATUSES, format_func=STATUS_LABELS.get, key="bk_new_status"
        )
        reason = st.text_input("Reason (needed for cancelling)", key="bk_reason", max_chars=200)
        sure = st.checkbox(f"Yes, change {len(selected_ids)} booking(s)", key="bk_confirm")
        if st.form_submit_button("Apply"):
            if not sure:
                st.error("Tick the confirmation box first.")
            else:
                run_booking_action(
                    lambda: bulk_set_status(
                        engine,
                        actor=actor,
                        appointment_ids=selected_ids,
                        status=new_status,
                        reason=reason.strip() or None,
                    ),  # fmt: skip
                    f"{len(selected_ids)} booking(s) now {STATUS_LABELS[new_status].lower()}.",
                )

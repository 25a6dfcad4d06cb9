"""Calendar (owner, staff): day and week views, live, with booking actions."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st
from streamlit_calendar import calendar

from auth.roles import Permission
from data.bookings import load_data_version, reschedule_appointment
from data.catalog import list_services, list_staff
from data.db import read_conn
from scheduling.calendar_view import calendar_options, parse_calendar_time
from scheduling.timezones import local_today
from ui.booking_widgets import render_appointment_panel, render_new_booking, run_booking_action
from ui.calendar_data import load_calendar_events
from ui.session import current_business, get_engine, require_permission, show_flash

actor = require_permission(Permission.MANAGE_BOOKINGS)
business = current_business(actor)
tz = business["timezone"]
engine = get_engine()

st.title("Calendar")
show_flash()
with read_conn(engine) as conn:
    staff_rows = list_staff(conn, actor=actor, include_inactive=False)
    service_rows = list_services(conn, actor=actor, include_inactive=False)

staff_names = {s["id"]: s["display_name"] for s in staff_rows}
service_names = {s["id"]: s["name"] for s in service_rows}
cols = st.columns([2, 2, 1, 1])
staff_ids = cols[0].multiselect(
    "Staff", list(staff_names), format_func=staff_names.get, key="cal_staff"
)
service_ids = cols[1].multiselect(
    "Services", list(service_names), format_func=service_names.get, key="cal_services"
)
day = cols[2].date_input("Date", value=local_today(tz), key="cal_date")
view = cols[3].radio("View", ["Week", "Day"], horizontal=True, key="cal_view")
st.caption(f"Times in {tz}. The calendar refreshes itself when anyone changes a booking.")


def _handle(state: dict) -> None:
    """React once to each click or drag the calendar reports."""
    if not state or state == st.session_state.get("cal_last_event"):
        return
    st.session_state["cal_last_event"] = state
    kind = state.get("callback")
    if kind == "eventClick":
        st.session_state["cal_selected"] = int(state["eventClick"]["event"]["id"])
        st.rerun()
    elif kind in ("dateClick", "select"):
        value = state[kind].get("date") or state[kind].get("start")
        st.session_state["cal_new_start"] = parse_calendar_time(value, tz)
        st.session_state.pop("cal_selected", None)
        st.rerun()
    elif kind == "eventChange":
        moved = state["eventChange"]["event"]
        start = parse_calendar_time(moved["start"], tz)
        run_booking_action(
            lambda: reschedule_appointment(
                engine, actor=actor, appointment_id=int(moved["id"]), start=start
            ),
            "Appointment moved.",
        )


@st.fragment(run_every=timedelta(seconds=5))
def _live_calendar() -> None:
    with read_conn(engine) as conn:
        version = load_data_version(conn, actor=actor)
    week = view == "Week"
    start_day = day - timedelta(days=day.weekday()) if week else day
    events, hours = load_calendar_events(
        actor, engine, tz=tz, start_day=start_day, days=7 if week else 1,
        staff_ids=tuple(staff_ids), service_ids=tuple(service_ids), version=version,
    )  # fmt: skip
    options = calendar_options(
        view="timeGridWeek" if week else "timeGridDay", initial_date=day.isoformat(),
        slot_min=hours[0], slot_max=hours[1],
    )  # fmt: skip
    _handle(calendar(events=events, options=options, key=f"cal_{view}_{day}"))


_live_calendar()

left, right = st.columns(2)
with left:
    if selected := st.session_state.get("cal_selected"):
        render_appointment_panel(actor, selected, business)
    else:
        st.info("Click an appointment for its details, or an empty slot to book there.")
with right, st.expander("New booking", expanded="cal_new_start" in st.session_state):
    render_new_booking(
        actor, business, staff_rows, service_rows, prefill=st.session_state.get("cal_new_start")
    )

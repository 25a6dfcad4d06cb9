"""Team & services (owners): staff, services, working hours and time off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from auth.roles import Permission
from data.business import NotFound
from data.catalog import (
    create_service,
    create_staff,
    create_time_off,
    delete_time_off,
    list_services,
    list_staff,
    list_time_off,
    load_working_hours,
    save_working_hours,
    update_service,
    update_staff,
)
from data.db import read_conn, write_tx
from scheduling.business import first_error
from scheduling.catalog import (
    DEFAULT_COLOR,
    WEEKDAYS,
    ServiceInput,
    StaffInput,
    TimeOffInput,
    build_service_table,
    build_staff_table,
    build_week,
    describe_time_off,
    to_local,
    week_rows,
)
from ui.session import after_write, current_business, get_engine, require_permission, show_flash

actor = require_permission(Permission.MANAGE_BUSINESS)
engine = get_engine()
business = current_business(actor)
TZ = business["timezone"]
NEW = 0  # the "add new" / "whole business" choice in selectboxes; real ids start at 1


def save(write: Callable[[Any], object], done: str, *, clear: str | None = None) -> None:
    """Run one write transaction; show the error, or forget the `clear` inputs and rerun."""
    try:
        with write_tx(engine) as conn:
            write(conn)
    except (ValueError, NotFound) as exc:
        st.error(first_error(exc))
        return
    for key in [k for k in st.session_state if clear and (k == clear or k.startswith(f"{clear}_"))]:
        del st.session_state[key]
    after_write(done)
    st.rerun()


def pick(label: str, rows: list[dict], name: str, key: str, *, new: str) -> int:
    labels = {NEW: new, **{row["id"]: row[name] for row in rows}}
    return st.selectbox(label, list(labels), format_func=labels.get, key=key)


def render_staff(staff_rows: list[dict], service_rows: list[dict]) -> None:
    names = {row["id"]: row["name"] for row in service_rows}
    st.dataframe(build_staff_table(staff_rows, names), hide_index=True)
    staff_id = pick("Add or edit", staff_rows, "display_name", "staff_pick", new="New staff member")
    row = next((r for r in staff_rows if r["id"] == staff_id), {})
    p = f"staff_{staff_id or 'new'}"
    with st.form(f"{p}_form"):
        fields = {
            "display_name": st.text_input("Name", row.get("display_name", ""), key=f"{p}_name"),
            "email": st.text_input("E-mail", row.get("email") or "", key=f"{p}_email"),
            "phone": st.text_input(
                "Phone",
                row.get("phone") or "",
                key=f"{p}_phone",
                help=f"Local numbers: {business['country']}",
            ),
            "color": st.color_picker(
                "Calendar colour", row.get("color", DEFAULT_COLOR), key=f"{p}_color"
            ),
            "is_active": st.checkbox(
                "Active (bookable)", row.get("is_active", True), key=f"{p}_active"
            ),
            "service_ids": st.multiselect(
                "Services",
                list(names),
                row.get("service_ids", []),
                format_func=names.get,
                key=f"{p}_services",
            ),
        }
        submitted = st.form_submit_button("Save staff member", key=f"{p}_save")
    if submitted:

        def write(conn: Any) -> None:
            data = StaffInput.from_form(region=business["country"], **fields)
            if staff_id == NEW:
                create_staff(conn, actor=actor, data=data)
            else:
                update_staff(conn, actor=actor, staff_id=staff_id, data=data)

        save(write, f"{fields['display_name'].strip()} saved.", clear=p)


def render_services(service_rows: list[dict]) -> None:
    st.dataframe(build_service_table(service_rows, business["currency"]), hide_index=True)
    service_id = pick("Add or edit", service_rows, "name", "service_pick", new="New service")
    row = next((r for r in service_rows if r["id"] == service_id), {})
    p = f"service_{service_id or 'new'}"
    with st.form(f"{p}_form"):
        fields = {
            "name": st.text_input("Name", row.get("name", ""), key=f"{p}_name"),
            "category": st.text_input(
                "Category", row.get("category", "General"), key=f"{p}_category"
            ),
            "duration_min": st.number_input(
                "Duration (min)", 5, 600, row.get("duration_min", 30), step=5, key=f"{p}_duration"
            ),
            "buffer_min": st.number_input(
                "Buffer after (min)", 0, 120, row.get("buffer_min", 0), step=5, key=f"{p}_buffer"
            ),
            "price": st.number_input(
                f"Price ({business['currency']})",
                min_value=0.0,
                value=row.get("price_cents", 0) / 100,
                step=1.0,
                format="%.2f",
                key=f"{p}_price",
            ),
            "is_active": st.checkbox(
                "Active (bookable)", row.get("is_active", True), key=f"{p}_active"
            ),
        }
        submitted = st.form_submit_button("Save service", key=f"{p}_save")
    if submitted:

        def write(conn: Any) -> None:
            data = ServiceInput(**{**fields, "price": round(fields["price"], 2)})
            if service_id == NEW:
                create_service(conn, actor=actor, data=data)
            else:
                update_service(conn, actor=actor, service_id=service_id, data=data)

        save(write, f"{fields['name'].strip()} saved.", clear=p)


def render_hours(staff_rows: list[dict]) -> None:
    if not staff_rows:
        st.info("Add a staff member first.")
        return
    names = {row["id"]: row["display_name"] for row in staff_rows}
    staff_id = st.selectbox("Staff member", list(names), format_func=names.get, key="hours_staff")
    with read_conn(engine) as conn:
        week = load_working_hours(conn, actor=actor, staff_id=staff_id)
    st.caption(f"Local time ({TZ}). Add a row per shift; two rows on one day make a split shift.")
    edited = st.data_editor(
        pd.DataFrame(week_rows(week), columns=["weekday", "start", "end"]),
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "weekday": st.column_config.SelectboxColumn("Weekday", options=WEEKDAYS, required=True),
            "start": st.column_config.TimeColumn("Start", format="HH:mm", step=300, required=True),
            "end": st.column_config.TimeColumn("End", format="HH:mm", step=300, required=True),
        },
        key=f"hours_editor_{staff_id}",
    )
    if st.button("Save week", key="hours_save"):

        def write(conn: Any) -> None:
            shifts = build_week(edited.to_dict("records"))
            save_working_hours(conn, actor=actor, staff_id=staff_id, shifts=shifts)

        save(write, f"Working hours of {names[staff_id]} saved.", clear=f"hours_editor_{staff_id}")


def render_time_off(staff_rows: list[dict]) -> None:
    now = datetime.now(UTC)
    with read_conn(engine) as conn:
        rows = list_time_off(conn, actor=actor, start=now)
    labels = {row["id"]: describe_time_off(row, TZ) for row in rows}
    st.caption(f"Upcoming, in local time ({TZ}).")
    st.dataframe([{"Time off": label} for label in labels.values()], hide_index=True)
    today = to_local(now, TZ).date()
    with st.form("timeoff_form"):
        who = pick("Who", staff_rows, "display_name", "timeoff_staff", new="Whole business")
        left, right = st.columns(2)
        start_date = left.date_input("From", today, key="timeoff_start_date")
        start_time = right.time_input("at", time(0), step=300, key="timeoff_start_time")
        end_date = left.date_input("Until", today + timedelta(days=1), key="timeoff_end_date")
        end_time = right.time_input("at ", time(0), step=300, key="timeoff_end_time")
        reason = st.text_input("Reason", key="timeoff_reason")
        submitted = st.form_submit_button("Add time off", key="timeoff_save")
    if submitted:
        data = {
            "staff_id": who or None,
            "start_local": datetime.combine(start_date, start_time),
            "end_local": datetime.combine(end_date, end_time),
            "reason": reason,
        }
        done = "Time off added."
        save(
            lambda conn: create_time_off(conn, actor=actor, data=TimeOffInput(**data), timezone=TZ),
            done,
            clear="timeoff",
        )
    if labels:
        doomed = st.selectbox(
            "Delete time off", list(labels), format_func=labels.get, key="timeoff_delete_pick"
        )
        sure = st.checkbox("Yes, delete this time off", key="timeoff_delete_confirm")
        if st.button("Delete", key="timeoff_delete", disabled=not sure):
            save(
                lambda conn: delete_time_off(conn, actor=actor, time_off_id=doomed),
                "Time off deleted.",
                clear="timeoff_delete",
            )


st.title("Team & services")
show_flash()
with read_conn(engine) as conn:
    staff_rows = list_staff(conn, actor=actor)
    service_rows = list_services(conn, actor=actor)
staff_tab, services_tab, hours_tab, off_tab = st.tabs(
    ["Staff", "Services", "Working hours", "Time off"]
)
with staff_tab:
    render_staff(staff_rows, service_rows)
with services_tab:
    render_services(service_rows)
with hours_tab:
    render_hours(staff_rows)
with off_tab:
    render_time_off(staff_rows)

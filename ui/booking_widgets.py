"""Booking widgets shared by the Calendar and Bookings pages: details with actions, new booking.

UI only: every decision is in scheduling/, every write in data.bookings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import streamlit as st

from auth.roles import Actor
from data.bookings import (
    BookingRejected,
    BookingRequest,
    SlotTaken,
    book_appointment,
    find_slots,
    load_appointment,
    reschedule_appointment,
    set_appointment_status,
)
from data.business import NotFound
from data.customers import search_customers
from data.db import read_conn
from scheduling.catalog import format_money, to_local, to_utc
from scheduling.timezones import local_today
from ui.session import after_write, get_engine
from ui.slot_suggestions import render_slot_suggestions

BOOKING_ERRORS = (BookingRejected, SlotTaken, NotFound, ValueError, LookupError)
ANY_STAFF = 0


def run_booking_action(action: Callable[[], object], done: str) -> bool:
    """Run one booking write; on success flash `done` and rerun, else show why."""
    try:
        action()
    except BOOKING_ERRORS as exc:
        st.error(str(exc))
        return False
    after_write(done)
    st.rerun()
    return True  # pragma: no cover - st.rerun() does not return


def _when(instant: datetime, tz: str) -> str:
    return f"{to_local(instant, tz):%a %d %b %Y, %H:%M}"


def render_appointment_panel(actor: Actor, appointment_id: int, business: dict[str, Any]) -> None:
    """Details of one appointment with the actions its status allows."""
    tz, engine = business["timezone"], get_engine()
    try:
        with read_conn(engine) as conn:
            appt = load_appointment(conn, actor=actor, appointment_id=appointment_id)
    except NotFound:
        st.warning("That appointment no longer exists.")
        return
    st.subheader(f"{appt['customer_name'] or 'Walk-in'} · {appt['service_name']}")
    st.markdown(
        f"**{_when(appt['starts_at'], tz)}–{to_local(appt['ends_at'], tz):%H:%M}** with "
        f"**{appt['staff_name']}** · status **{appt['status']}** · "
        f"{format_money(appt['price_cents'], business['currency'])}"
    )
    if appt.get("cancellation_reason"):
        st.caption(f"Cancelled: {appt['cancellation_reason']}")
    if appt["status"] not in ("booked", "confirmed"):
        return

    def status(new: str, reason: str | None = None) -> Callable[[], None]:
        return lambda: set_appointment_status(
            engine, actor=actor, appointment_id=appointment_id, status=new, reason=reason
        )

    cols = st.columns(3)
    if appt["status"] == "booked" and cols[0].button("Confirm", key="appt_confirm"):
        run_booking_action(status("confirmed"), "Appointment confirmed.")
    if cols[1].button("Complete", key="appt_complete"):
        run_booking_action(status("completed"), "Appointment completed.")
    if cols[2].button("No-show", key="appt_no_show"):
        run_booking_action(status("no_show"), "Marked as no-show.")
    _render_cancel(status)
    _render_reschedule(actor, appt, business)


def _render_cancel(status: Callable[..., Callable[[], None]]) -> None:
    with st.form("appt_cancel_form"):
        reason = st.text_input("Reason for cancelling", key="appt_cancel_reason", max_chars=200)
        if st.form_submit_button("Cancel appointment"):
            if not reason.strip():
                st.error("Give a reason for cancelling.")
            else:
                run_booking_action(status("cancelled", reason.strip()), "Appointment cancelled.")


def _render_reschedule(actor: Actor, appt: dict[str, Any], business: dict[str, Any]) -> None:
    tz, local = business["timezone"], to_local(appt["starts_at"], business["timezone"])
    with st.form("appt_reschedule_form"):
        cols = st.columns(2)
        day = cols[0].date_input("New date", value=local.date(), key="appt_new_date")
        at = cols[1].time_input("New time", value=local.time(), step=300, key="appt_new_time")
        if st.form_submit_button("Reschedule"):
            start = to_utc(datetime.combine(day, at), tz)
            run_booking_action(
                lambda: reschedule_appointment(
                    get_engine(), actor=actor, appointment_id=appt["id"], start=start
                ),
                f"Moved to {_when(start, tz)}.",
            )


def render_customer_picker(actor: Actor, *, key: str) -> int | None:
    """Search by name, phone or e-mail and pick one; None means a walk-in."""
    query = st.text_input("Customer (name, phone or e-mail)", key=f"{key}_query")
    if not query.strip():
        return None
    with read_conn(get_engine()) as conn:
        found = search_customers(conn, actor=actor, query=query, limit=20)
    if not found:
        st.caption("No customer matches; the booking will be a walk-in.")
        return None
    labels = {
        c["id"]: f"{c['first_name']} {c['last_name']} · {c.get('phone') or ''}" for c in found
    }
    return st.selectbox("Matches", list(labels), format_func=labels.get, key=f"{key}_pick")


def render_new_booking(
    actor: Actor,
    business: dict[str, Any],
    staff_rows: list[dict[str, Any]],
    service_rows: list[dict[str, Any]],
    *,
    prefill: datetime | None = None,
) -> None:
    """Find the next free slots for a service (one or any staff member) and book one."""
    tz = business["timezone"]
    services = {s["id"]: f"{s['name']} ({s['duration_min']} min)" for s in service_rows}
    if not services:
        st.info("Add services on the Team & services page first.")
        return
    staff_names = {
        ANY_STAFF: "Any qualified staff",
        **{s["id"]: s["display_name"] for s in staff_rows},
    }
    service_id = st.selectbox("Service", list(services), format_func=services.get, key="nb_service")
    staff_id = st.selectbox("Staff", list(staff_names), format_func=staff_names.get, key="nb_staff")
    customer_id = render_customer_picker(actor, key="nb_customer")
    if customer_id is not None:
        render_slot_suggestions(
            actor, business, customer_id=customer_id, service_id=service_id,
            staff_id=staff_id or None, staff_names=staff_names,
        )  # fmt: skip
    start_local = to_local(prefill, tz) if prefill else None
    after_day = st.date_input(
        "From", value=start_local.date() if start_local else local_today(tz), key="nb_after"
    )
    after_time = st.time_input(
        "at", value=start_local.time() if start_local else time(9), step=900, key="nb_after_time"
    )
    after = to_utc(datetime.combine(after_day, after_time), tz)
    with read_conn(get_engine()) as conn:
        slots = find_slots(
            conn, actor=actor, service_id=service_id,
            staff_id=staff_id or None, after=after - timedelta(seconds=1), limit=10,
        )  # fmt: skip
    if not slots:
        st.warning("No free slot for this service in the bookable period.")
        return
    labels = {
        i: f"{_when(s.start, tz)} · {staff_names.get(s.staff_id, '?')}" for i, s in enumerate(slots)
    }
    pick = st.radio("Next free slots", list(labels), format_func=labels.get, key="nb_slot")
    notes = st.text_input("Notes", key="nb_notes", max_chars=500)
    if st.button("Book", type="primary", key="nb_book"):
        slot = slots[pick]
        request = BookingRequest(
            staff_id=slot.staff_id, service_id=service_id, start=slot.start,
            customer_id=customer_id, notes=notes.strip(),
        )  # fmt: skip
        run_booking_action(
            lambda: book_appointment(get_engine(), actor=actor, request=request),
            f"Booked {labels[pick]}.",
        )

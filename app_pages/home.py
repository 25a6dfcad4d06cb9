"""Home: today's and this week's bookings at a glance, for every role."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.agenda import load_agenda_counts
from data.db import read_conn
from scheduling.booking_rules import STATUS_LABELS
from scheduling.timezones import local_day_bounds, local_today
from ui.session import current_business, get_engine, require_permission

actor = require_permission()
business = current_business(actor)
tz = business["timezone"]
today = local_today(tz)

st.title(business["name"])
st.caption(f"{today:%A %d %B %Y} · times in {tz} · prices in {business['currency']}")

day_start, day_end = local_day_bounds(today, tz)
week_end = local_day_bounds(today, tz, days=7)[1]
with read_conn(get_engine()) as conn:
    day = load_agenda_counts(conn, actor=actor, start=day_start, end=day_end)
    week = load_agenda_counts(conn, actor=actor, start=day_start, end=week_end)


def _summary(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["staff", "status", "appointments", "value_cents"])
    table = frame.pivot_table(
        index="staff", columns="status", values="appointments", aggfunc="sum", fill_value=0
    )
    present = [status for status in STATUS_LABELS if status in table.columns]
    return table[present].rename(columns=STATUS_LABELS).rename_axis(index="Staff", columns=None)


active = {"booked", "confirmed", "completed"}
cols = st.columns(3)
cols[0].metric("Appointments today", sum(r["appointments"] for r in day if r["status"] in active))
cols[1].metric("Next 7 days", sum(r["appointments"] for r in week if r["status"] in active))
cols[2].metric("Cancelled today", sum(r["appointments"] for r in day if r["status"] == "cancelled"))

st.subheader("Today by staff member")
if day:
    st.dataframe(_summary(day), key="home_today")
else:
    st.info("No appointments today.")
st.subheader("Next 7 days by staff member")
if week:
    st.dataframe(_summary(week), key="home_week")
else:
    st.info("No appointments in the next 7 days.")

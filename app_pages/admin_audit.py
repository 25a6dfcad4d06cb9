"""Audit log (owner): who changed what, filterable, read-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import streamlit as st

from auth.roles import Permission
from data.audit import load_audit_facets, load_audit_log
from data.db import read_conn
from scheduling.timezones import local_day_bounds, local_today
from ui.session import current_business, get_engine, require_permission

actor = require_permission(Permission.VIEW_AUDIT_LOG)
tz = current_business(actor)["timezone"]
today = local_today(tz)

st.title("Audit log")
st.caption(f"Every change, newest first. Times in {tz}. Read-only.")

with read_conn(get_engine()) as conn:
    facets = load_audit_facets(conn, actor=actor)

cols = st.columns([2, 1, 1, 1])
period = cols[0].date_input(
    "Dates", value=(today - timedelta(days=30), today), max_value=today, key="audit_dates"
)
entity = cols[1].selectbox("Table", ["(all)", *facets["entity"]], key="audit_entity")
action = cols[2].selectbox("Action", ["(all)", *facets["action"]], key="audit_action")
limit = cols[3].number_input("Rows", 10, 5000, 500, step=100, key="audit_limit")

if not isinstance(period, tuple) or len(period) != 2:
    st.info("Pick a start and an end date.")
    st.stop()
start = local_day_bounds(period[0], tz)[0]
end = local_day_bounds(period[1], tz)[1]
with read_conn(get_engine()) as conn:
    rows = load_audit_log(
        conn,
        actor=actor,
        start=start,
        end=end,
        entity=None if entity == "(all)" else entity,
        action=None if action == "(all)" else action,
        limit=int(limit),
    )

if not rows:
    st.info("No changes in this period.")
    st.stop()
frame = pd.DataFrame(rows)
frame["when"] = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(tz)
frame["changes"] = frame["diff"].map(lambda d: json.dumps(d, ensure_ascii=False, default=str))
st.dataframe(
    frame[["when", "by", "action", "entity", "entity_id", "changes"]],
    hide_index=True,
    width="stretch",
    key="audit_table",
    column_config={
        "when": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
        "by": "By",
        "action": "Action",
        "entity": "Table",
        "entity_id": "Row",
        "changes": st.column_config.TextColumn("Changes (field: [old, new])", width="large"),
    },
)
st.caption(f"{len(frame)} row(s) shown.")

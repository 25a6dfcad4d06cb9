"""Team usage (owner): page views and exports over the last 7, 30 or 90 days."""

from __future__ import annotations

import streamlit as st

from auth.roles import Permission
from ui.session import current_business, require_permission
from ui.usage import (
    build_exports_table,
    build_page_views_table,
    clear_usage_cache,
    load_usage,
    make_page_views_chart,
)

PERIODS = (7, 30, 90)
ROLE_COLUMNS = {
    "owner": st.column_config.NumberColumn("Owners"),
    "staff": st.column_config.NumberColumn("Staff"),
    "analyst": st.column_config.NumberColumn("Analysts"),
    "accounts": st.column_config.NumberColumn("Accounts", help="Distinct accounts"),
    "last_seen": st.column_config.DatetimeColumn("Last", format="YYYY-MM-DD HH:mm"),
}

actor = require_permission(Permission.VIEW_AUDIT_LOG)
tz = current_business(actor)["timezone"]

st.title("Team usage")
st.caption(
    "Which pages the team opens and what it exports. Only the account and its role are "
    f"recorded: no names, e-mails or customer data. Times in {tz}."
)
cols = st.columns([4, 1])
days = cols[0].radio(
    "Period", PERIODS, index=1, format_func=lambda d: f"Last {d} days", horizontal=True,
    key="usage_days",
)  # fmt: skip
if cols[1].button("Refresh", key="usage_refresh", icon=":material/refresh:"):
    clear_usage_cache()

rows = load_usage(actor, days=int(days), tz=tz)
pages = build_page_views_table(rows, tz)
exports = build_exports_table(rows, tz)
if pages.empty and exports.empty:
    st.info(f"No page views or exports in the last {days} days yet.")
    st.stop()

metrics = st.columns(3)
metrics[0].metric("Page views", f"{int(pages['views'].sum()):,}")
metrics[1].metric("Exports", f"{int(exports['exports'].sum()):,}")
metrics[2].metric("Rows exported", f"{int(exports['rows'].sum()):,}")

st.subheader("Page views by page and role")
if pages.empty:
    st.info("No page views in this period.")
else:
    st.plotly_chart(make_page_views_chart(pages), key="usage_chart", width="stretch")
    st.dataframe(
        pages, hide_index=True, width="stretch", key="usage_pages",
        column_config={"page": "Page", "views": "Views", **ROLE_COLUMNS},
    )  # fmt: skip

st.subheader("Exports by format and table")
if exports.empty:
    st.info("No exports in this period.")
else:
    st.dataframe(
        exports, hide_index=True, width="stretch", key="usage_exports",
        column_config={"format": "Format", "tables": "Tables", "where": "From",
                       "exports": "Exports", "rows": "Rows", **ROLE_COLUMNS},
    )  # fmt: skip

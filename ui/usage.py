"""Usage telemetry glue: the page-view recorder app.py calls, and the Team usage readers.

`track_page_view` records a page view once per page change per session, in its own short
write transaction, and never breaks the page: a failure is logged (its exception type
only, no personal data) and swallowed. The rest shapes `load_usage_summary` for the
Team usage page: a cached reader, two display tables and a bar chart.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor, Role
from data.analytics_events import load_usage_summary, record_event
from data.db import read_conn, write_tx
from scheduling.timezones import local_day_bounds, local_today
from ui.session import get_engine

LAST_PAGE_KEY = "slotboard_usage_last_page"
ROLES = [r.value for r in Role]
log = logging.getLogger(__name__)


def track_page_view(actor: Actor, page_title: str) -> None:
    """Record that `actor` opened `page_title`, unless it is the page this session is on."""
    current = (actor.account_id, page_title)
    if st.session_state.get(LAST_PAGE_KEY) == current:
        return
    st.session_state[LAST_PAGE_KEY] = current  # also on failure: no retry on every rerun
    try:
        with write_tx(get_engine()) as conn:
            record_event(conn, actor=actor, event_type="page_view", data={"page": page_title})
    except Exception as exc:  # noqa: BLE001 - telemetry must never break the page
        log.warning("page view not recorded (%s)", type(exc).__name__)


def load_usage(actor: Actor, *, days: int, tz: str) -> list[dict[str, Any]]:
    """The usage summary for the last `days` local days, today included (cached 60 s)."""
    engine = get_engine()
    return _cached_usage(
        actor.business_id, str(engine.url), days, local_today(tz), tz, actor, engine
    )


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def _cached_usage(
    business_id: int, url: str, days: int, today: date, tz: str, _actor: Actor, _engine: Engine
) -> list[dict[str, Any]]:
    since = local_day_bounds(today - timedelta(days=days - 1), tz)[0]
    with read_conn(_engine) as conn:
        return load_usage_summary(conn, actor=_actor, since=since)


def clear_usage_cache() -> None:
    _cached_usage.clear()


def _frame(rows: list[dict[str, Any]], tz: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for role in ROLES:
        frame[role] = frame["by_role"].map(lambda counts, role=role: counts.get(role, 0))
    frame["last_seen"] = pd.to_datetime(frame["last_seen"], utc=True).dt.tz_convert(tz)
    return frame


def build_page_views_table(rows: list[dict[str, Any]], tz: str) -> pd.DataFrame:
    """One row per page: page, views, accounts, a column per role, last_seen (local)."""
    views = [r for r in rows if r["event_type"] == "page_view"]
    columns = ["page", "views", "accounts", *ROLES, "last_seen"]
    if not views:
        return pd.DataFrame(columns=columns)
    frame = _frame(views, tz).rename(columns={"events": "views"})
    return frame[columns].sort_values(["views", "page"], ascending=[False, True], ignore_index=True)


def build_exports_table(rows: list[dict[str, Any]], tz: str) -> pd.DataFrame:
    """One row per place, format and set of tables, with exports, rows, accounts and roles."""
    exports = [r for r in rows if r["event_type"] == "export"]
    columns = ["format", "tables", "where", "exports", "rows", "accounts", *ROLES, "last_seen"]
    if not exports:
        return pd.DataFrame(columns=columns)
    frame = _frame(exports, tz).rename(columns={"events": "exports"})
    frame["tables"] = frame["tables"].map(lambda names: ", ".join(names) or "-")
    frame["where"] = frame["page"].fillna("command line")
    frame["format"] = frame["format"].fillna("-")
    return frame[columns].sort_values(
        ["exports", "format"], ascending=[False, True], ignore_index=True
    )


def make_page_views_chart(pages: pd.DataFrame) -> go.Figure:
    """Horizontal bars: views per page, stacked by role, busiest page on top."""
    long = pages.melt(id_vars="page", value_vars=ROLES, var_name="role", value_name="count")
    long = long[long["count"] > 0]
    figure = px.bar(
        long,
        x="count",
        y="page",
        color="role",
        orientation="h",
        category_orders={"page": list(pages["page"]), "role": ROLES},
        labels={"count": "Page views", "page": "", "role": "Role"},
    )
    figure.update_traces(hovertemplate="%{y}<br>%{fullData.name}: %{x} views<extra></extra>")
    figure.update_layout(height=80 + 32 * len(pages), margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return figure

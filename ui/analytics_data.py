"""Cached readers behind the Overview page (and the Exports' HTML report).

Every reader is keyed by business, database, filters and the analytics data version
(`data.analytics.load_analytics_version`: one cheap query, read on every render). A
booking changed anywhere, by any session, changes the version, so the next render
recomputes instead of showing stale numbers; an unchanged version is a cache hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from analytics.report import Overview, ReportFilter
from auth.roles import Actor
from data.analytics import load_analytics_version, load_report_catalog
from data.db import read_conn
from reports.overview import build_overview

Version = tuple[Any, ...]


@dataclass(frozen=True)
class FilterOptions:
    """Filter choices: id -> label (inactive ones marked), in display order."""

    staff: dict[int, str]
    services: dict[int, str]


def read_analytics_version(actor: Actor, engine: Engine) -> Version:
    """The current data version; not cached (that is the point)."""
    with read_conn(engine) as conn:
        return load_analytics_version(conn, actor=actor)


def load_overview(
    actor: Actor,
    engine: Engine,
    filters: ReportFilter,
    rebook_days: int,
    *,
    version: Version | None = None,
) -> Overview:
    """The Overview for `filters`, recomputed only when the data version changes.
    Pass `version` when the page has just read it, to save the query."""
    if version is None:
        version = read_analytics_version(actor, engine)
    return _cached_overview(
        actor.business_id, str(engine.url), filters.start, filters.end, filters.staff_ids,
        filters.service_ids, rebook_days, version, actor, engine,
    )  # fmt: skip


@st.cache_data(ttl=600, max_entries=32, show_spinner="Crunching the numbers…")
def _cached_overview(
    business_id: int,
    url: str,
    start: date,
    end: date,
    staff_ids: tuple[int, ...],
    service_ids: tuple[int, ...],
    rebook_days: int,
    version: Version,
    _actor: Actor,
    _engine: Engine,
) -> Overview:
    filters = ReportFilter(start, end, staff_ids, service_ids)
    with read_conn(_engine) as conn:
        return build_overview(conn, actor=_actor, filters=filters, rebook_days=rebook_days)


def load_filter_options(
    actor: Actor, engine: Engine, *, version: Version | None = None
) -> FilterOptions:
    """Staff and services of the business for the filters (the version covers renames)."""
    if version is None:
        version = read_analytics_version(actor, engine)
    return _cached_options(actor.business_id, str(engine.url), version, actor, engine)


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _cached_options(
    business_id: int, url: str, version: Version, _actor: Actor, _engine: Engine
) -> FilterOptions:
    with read_conn(_engine) as conn:
        catalog = load_report_catalog(conn, actor=_actor)
    return FilterOptions(
        staff=_labels(catalog["staff"], "staff_id", "staff"),
        services=_labels(catalog["services"], "service_id", "service"),
    )


def _labels(frame: pd.DataFrame, id_column: str, name_column: str) -> dict[int, str]:
    """Active rows first, each group by name; inactive ones say so."""
    rows = sorted(
        frame.to_dict("records"), key=lambda r: (not r["is_active"], str(r[name_column]).lower())
    )
    return {
        int(row[id_column]): str(row[name_column]) + ("" if row["is_active"] else " (inactive)")
        for row in rows
    }

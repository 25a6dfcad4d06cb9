"""Cached readers behind the Peak times page.

A stored forecast run is found by the series' data fingerprint, so reading it means
building the series (a few SQL aggregates). That read is cached by business, request,
day and the analytics data version: a warm page is a cache hit, and a booking changed
anywhere changes the version, so the next render looks for a run on the new data.
"""

from __future__ import annotations

from dataclasses import astuple
from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor
from reports.forecasts import ForecastOutcome, ForecastRequest, find_stored_forecast, run_forecasts

Version = tuple[Any, ...]


def load_stored_forecast(
    actor: Actor, engine: Engine, request: ForecastRequest, *, today: date, version: Version
) -> ForecastOutcome | None:
    """The stored forecast for the request's current data, or None (then fit it)."""
    return _cached(
        actor.business_id, str(engine.url), request.scope, request.scope_id,
        astuple(request.settings), today, version, actor, engine, request,
    )  # fmt: skip


@st.cache_data(ttl=600, max_entries=16, show_spinner="Reading the forecast…")
def _cached(
    business_id: int,
    url: str,
    scope: str,
    scope_id: int | None,
    settings: tuple[Any, ...],
    today: date,
    version: Version,
    _actor: Actor,
    _engine: Engine,
    _request: ForecastRequest,
) -> ForecastOutcome | None:
    return find_stored_forecast(_engine, actor=_actor, request=_request, today=today)


def fit_forecast(actor: Actor, engine: Engine, request: ForecastRequest, *, today: date) -> None:
    """Fit, backtest and store the request's forecast with a progress bar, then forget
    the cached "nothing stored" answer."""
    bar = st.progress(0.0, text="Fitting the forecast and backtesting it against baselines…")

    def show(done: int, total: int, label: str) -> None:
        share = done / total if total else 1.0
        bar.progress(min(share, 1.0), text=f"Fitting: {label}")

    run_forecasts(engine, actor=actor, requests=[request], today=today, n_jobs=1, progress=show)
    bar.empty()
    _cached.clear()

"""Peak times (owner, analyst): when the coming weeks will be busy, how sure we are, how
the forecast did against simple baselines, and whether the rota fits. The modelling
lives in forecasting/, the orchestration in reports/forecasts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth.roles import Permission
from forecasting import figures, peaks
from forecasting.figures import HEATMAP_BANDS, MODEL_NAMES
from forecasting.models import ForecastSettings
from reports.forecasts import ForecastOutcome, ForecastRequest
from scheduling.timezones import local_today
from ui.analytics_data import load_filter_options, read_analytics_version
from ui.forecast_data import fit_forecast, load_stored_forecast
from ui.session import current_business, get_engine, require_permission, take_handoff

SCOPES = {"business": "Whole business", "staff": "Staff member", "service": "Service"}
PRIOR_SCALES = (0.01, 0.05, 0.1, 0.3, 0.5)


def choose_request(options) -> ForecastRequest:  # type: ignore[no-untyped-def]
    left, middle, right = st.columns([2, 2, 2])
    scope = left.segmented_control(
        "Forecast for", list(SCOPES), format_func=SCOPES.get, default="business",
        required=True, key="pk_scope",
    ) or "business"  # fmt: skip
    scope_id = None
    if scope != "business":
        choices = options.staff if scope == "staff" else options.services
        scope_id = middle.selectbox(
            SCOPES[scope], list(choices), format_func=choices.get, key=f"pk_{scope}_id"
        )
        if scope_id is None:
            st.info(f"There is no {SCOPES[scope].lower()} to forecast yet.")
            st.stop()
    weeks = right.slider("Weeks ahead", 1, 6, 4, key="pk_weeks")
    with st.expander("Model settings (for experts)"):
        prior = st.select_slider(
            "Trend flexibility (changepoint prior scale)", PRIOR_SCALES, value=0.05,
            key="pk_prior", help="Higher follows recent changes faster, and overreacts more.",
        )  # fmt: skip
        mode = st.radio(
            "Seasonality", ["auto", "additive", "multiplicative"], horizontal=True, key="pk_mode",
            help="Auto picks by backtest.",
        )  # fmt: skip
    settings = ForecastSettings(
        horizon_days=weeks * 7, changepoint_prior_scale=prior, seasonality_mode=mode
    )
    return ForecastRequest(scope, scope_id, settings)


def render_verdict(outcome: ForecastOutcome) -> None:
    result = outcome.result
    for note in result.notes:
        st.warning(note)
    if result.metrics.empty:
        return
    metrics = result.metrics.set_index("model")
    winner = MODEL_NAMES.get(result.winner, result.winner)
    if result.winner == "prophet":
        best_baseline = metrics.drop(index="prophet")["mase"].min()
        gain = 1 - metrics.loc["prophet", "mase"] / best_baseline
        st.success(f"The forecast beats the best simple baseline by {gain:.0%} in the backtest.")
    else:
        st.warning(
            f"In the backtest the Prophet model did not beat the simple baselines, so the "
            f"forecast shown is “{winner}”, the one with the smallest error."
        )


def render_heatmap_and_peaks(outcome: ForecastOutcome) -> None:
    st.subheader("When it will be busy")
    band = st.segmented_control(
        "Show", list(HEATMAP_BANDS), format_func=HEATMAP_BANDS.get, default="yhat",
        required=True, key="pk_band",
    ) or "yhat"  # fmt: skip
    grid = peaks.build_forecast_heatmap(outcome.result.forecast)
    st.plotly_chart(figures.make_forecast_heatmap(grid, band=band), key="pk_heatmap")
    windows = peaks.find_peak_windows(outcome.result.forecast)
    if not windows.empty:
        st.markdown("**Busiest windows**")
        table = windows[["label", "bookings_per_hour", "bookings"]].rename(columns={
            "label": "Window", "bookings_per_hour": "Bookings per hour",
            "bookings": "Bookings in the window (per week)",
        })  # fmt: skip
        st.dataframe(table.round(1), hide_index=True, key="pk_peaks")
    daily = peaks.build_daily_forecast(outcome.history, outcome.result.forecast)
    st.plotly_chart(figures.make_daily_forecast_figure(daily), key="pk_daily")


def render_staffing(outcome: ForecastOutcome) -> None:
    st.subheader("Does the rota fit?")
    focus = st.session_state.pop("pk_focus", {})  # left by a Recommendations action link
    if focus.get("weekday"):
        span = f"{focus['weekday']} {focus.get('start', '')}–{focus.get('end', '')}".strip("–")
        st.info(f"From Recommendations: look at {span} below.")
    staffing, suggestions = outcome.staffing()
    if not suggestions:
        st.info("Scheduled hours match the expected demand: no shift changes suggested.")
    for suggestion in suggestions:
        st.markdown(f"- {suggestion.text}")
    st.plotly_chart(figures.make_staffing_figure(staffing), key="pk_staffing")


def render_backtest(outcome: ForecastOutcome) -> None:
    st.subheader("How good is the forecast?")
    result = outcome.result
    if result.metrics.empty:
        st.info("Not enough history for a backtest yet.")
        return
    table = result.metrics.assign(model=result.metrics["model"].map(MODEL_NAMES))
    st.dataframe(
        table.rename(columns={"model": "Model", "mae": "MAE (bookings/hour)", "mase": "MASE",
                              "coverage": "Interval coverage", "n_points": "Hours scored"}),
        hide_index=True, key="pk_metrics",
    )  # fmt: skip
    st.caption(
        "Rolling-origin backtest over recent weeks: each model forecasts a week it has not "
        "seen. MASE below 1 beats “same hour last week”; coverage is the share of actual "
        f"hours inside the {outcome.request.settings.interval_width:.0%} interval."
    )
    st.plotly_chart(figures.make_backtest_figure(result.per_origin), key="pk_backtest")


actor = require_permission(Permission.VIEW_ANALYTICS)
business = current_business(actor)
engine, today = get_engine(), local_today(business["timezone"])
version = read_analytics_version(actor, engine)
st.title("Peak times")
if handed := take_handoff("app_pages/peak_times.py"):
    st.session_state["pk_focus"] = handed  # shown once the forecast is on screen
st.caption(f"Local time ({business['timezone']}); holidays of {business['country']}.")
request = choose_request(load_filter_options(actor, engine, version=version))
outcome = load_stored_forecast(actor, engine, request, today=today, version=version)
if outcome is None:
    fit_forecast(actor, engine, request, today=today)
    st.rerun()
assert outcome is not None
if float(pd.to_numeric(outcome.history["y"]).sum()) == 0:
    st.info("No bookings yet for this choice, so there is nothing to forecast.")
    st.stop()
st.caption(
    f"{outcome.label}: forecast made "
    f"{'earlier (data unchanged since)' if outcome.reused else 'just now'}."
)
render_verdict(outcome)
render_heatmap_and_peaks(outcome)
render_staffing(outcome)
render_backtest(outcome)

"""The two baselines every forecast must beat, with empirical prediction intervals. Pure.

- seasonal_naive: the same local hour last week. When that hour was closed (a holiday)
  or never existed (the spring-forward hour), the same hour one more week back, up to
  eight weeks. Beyond the first week of the horizon, the last known week repeats.
- hour_of_week_mean: the mean of each weekday x hour over the last `profile_weeks`
  weeks of open hours (all history for a slot not open in that window).

Intervals come from each baseline's own in-sample residuals, by hour of week (pooled
over all hours for a slot with fewer than four residuals), over the last 26 weeks.
Seasonal-naive widths grow with the square root of the weeks between the forecast and
the value it copies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import WEEK, hour_of_week, last_open_week, open_values
from forecasting.frames import finish_forecast
from forecasting.settings import ForecastSettings

INTERVAL_WEEKS = 26
MIN_CELL_RESIDUALS = 4
MAX_WEEKS_BACK = 8


def forecast_seasonal_naive(
    history: pd.DataFrame, future: pd.DataFrame, settings: ForecastSettings
) -> pd.DataFrame:
    known = open_values(history)
    rows = future[future["is_open"].to_numpy(dtype=bool)]
    ahead = _weeks_ahead(rows["ds"], history["ds"].max())
    yhat, weeks = last_open_week(known, rows["ds"], first_week=ahead, max_weeks=MAX_WEEKS_BACK)
    missing = np.isnan(yhat)
    if missing.any():  # no open week in reach: the hour-of-week profile instead
        profile = _profile(known, settings.profile_weeks)
        yhat[missing] = profile.reindex(hour_of_week(rows["ds"])[missing]).to_numpy()
        weeks[missing] = 1
    residuals = _seasonal_naive_residuals(known)
    low, high = _quantiles_by_slot(residuals, rows["ds"], settings.interval_width)
    spread = np.sqrt(np.maximum(weeks, 1))
    return finish_forecast(future, yhat, yhat + low * spread, yhat + high * spread)


def forecast_hour_of_week_mean(
    history: pd.DataFrame, future: pd.DataFrame, settings: ForecastSettings
) -> pd.DataFrame:
    known = open_values(history)
    rows = future[future["is_open"].to_numpy(dtype=bool)]
    profile = _profile(known, settings.profile_weeks)
    yhat = profile.reindex(hour_of_week(rows["ds"])).to_numpy()
    recent = known[known.index > known.index.max() - settings.profile_weeks * WEEK]
    fitted = profile.reindex(hour_of_week(recent.index.to_series())).to_numpy()
    residuals = pd.Series(recent.to_numpy() - fitted, index=recent.index)
    low, high = _quantiles_by_slot(residuals, rows["ds"], settings.interval_width)
    return finish_forecast(future, yhat, yhat + low, yhat + high)


def seasonal_naive_scale(history: pd.DataFrame) -> float:
    """In-sample MAE of 'same hour last week' over open hours whose hour a week before
    was open too: the MASE denominator. NaN when no such pair exists."""
    known = open_values(history)
    if known.empty:
        return float("nan")
    lagged = known.reindex(known.index - WEEK).to_numpy()
    errors = np.abs(known.to_numpy() - lagged)
    errors = errors[np.isfinite(errors)]
    return float(errors.mean()) if len(errors) else float("nan")


def _weeks_ahead(ds: pd.Series, last: pd.Timestamp) -> np.ndarray:
    """1 for the first week after `last`, 2 for the second, ..."""
    gap = (ds - last).to_numpy() / np.timedelta64(7, "D")
    return np.maximum(np.ceil(gap - 1e-9).astype(int), 1)


def _profile(known: pd.Series, weeks: int) -> pd.Series:
    """Mean per hour of week: the recent window first, then all history, then the
    recent overall mean (or 0 for an empty history)."""
    slots = pd.RangeIndex(168)
    if known.empty:
        return pd.Series(0.0, index=slots)
    recent = known[known.index > known.index.max() - weeks * WEEK]
    by_slot = recent.groupby(hour_of_week(recent.index.to_series())).mean().reindex(slots)
    everything = known.groupby(hour_of_week(known.index.to_series())).mean().reindex(slots)
    return by_slot.fillna(everything).fillna(float(recent.mean()))


def _seasonal_naive_residuals(known: pd.Series) -> pd.Series:
    window = known[known.index > known.index.max() - INTERVAL_WEEKS * WEEK]
    lagged, _ = last_open_week(known, window.index.to_series(), max_weeks=MAX_WEEKS_BACK)
    residuals = pd.Series(window.to_numpy() - lagged, index=window.index)
    return residuals.dropna()


def _quantiles_by_slot(
    residuals: pd.Series, ds: pd.Series, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper residual quantiles for each ds's hour of week."""
    levels = [(1 - width) / 2, (1 + width) / 2]
    if residuals.empty:
        return np.zeros(len(ds)), np.zeros(len(ds))
    pooled = np.quantile(residuals.to_numpy(), levels)
    slots = hour_of_week(residuals.index.to_series())
    groups = residuals.groupby(slots)
    table = groups.quantile(levels[0]).to_frame("low").assign(high=groups.quantile(levels[1]))
    table = table[groups.size() >= MIN_CELL_RESIDUALS]
    wanted = hour_of_week(ds)
    low = table["low"].reindex(wanted).fillna(pooled[0]).to_numpy()
    high = table["high"].reindex(wanted).fillna(pooled[1]).to_numpy()
    return low, high

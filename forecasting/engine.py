"""Forecast ONE series end to end: a pure function, so any mapper can run many.

`forecast_series(task)` takes plain data in (frames, a country code, settings) and gives
plain data out (frames, dicts, JSON text), so joblib (`forecast_many`), Spark's
`applyInPandas`, Ray or Dask can map it over staff, services or businesses unchanged.

Steps: drop the hours before the first booking (the business or person had not
started); all zeros -> a zero forecast; under `min_history_weeks` of history -> the
hour-of-week profile, no backtest; else backtest every model, refit each on the whole
history, calibrate its intervals by the backtest, and show the backtest's winner. Prophet
failing anywhere falls back to the best baseline with a note, never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from forecasting.backtest import BacktestResult, best_baseline, run_backtest
from forecasting.calendar import WEEK, check_country
from forecasting.frames import prepare_future, prepare_history
from forecasting.intervals import scale_intervals
from forecasting.models import (
    MODELS,
    ForecastFailed,
    ForecastSettings,
    fit_prophet,
    make_forecast,
    predict_prophet,
    serialise_model,
)
from forecasting.results import SeriesResult, empty_metrics, empty_per_origin
from forecasting.settings import MODEL_LABELS

PROFILE = "hour_of_week_mean"


@dataclass(frozen=True, eq=False)
class SeriesTask:
    label: str  # e.g. "business", "staff:3", "service:7"
    history: pd.DataFrame  # ds, y, is_open
    future: pd.DataFrame  # ds, is_open
    country: str | None = None
    settings: ForecastSettings = field(default_factory=ForecastSettings)
    origins: int = 4
    horizon_days: int = 7  # of each backtest block


def forecast_series(task: SeriesTask) -> SeriesResult:
    started = time.perf_counter()
    notes: list[str] = []
    history, future = prepare_history(task.history), prepare_future(task.future)
    country = task.country
    if (problem := check_country(country)) is not None:
        notes.append(f"{problem}: fitted without public holidays")
        country = None
    history = _from_first_booking(history)
    if history.empty:
        notes.append("no bookings in the history: the forecast is zero")
        return _profile_only(task, history, future, notes, started)
    weeks = (history["ds"].max() - history["ds"].min()) / WEEK
    if weeks < task.settings.min_history_weeks:
        notes.append(
            f"too little history: under {task.settings.min_history_weeks} weeks"
            " — showing the hour-of-week profile"
        )
        return _profile_only(task, history, future, notes, started)
    return _backtested(task, history, future, country, notes, started)


def forecast_many(tasks: Sequence[SeriesTask], *, n_jobs: int = 1) -> list[SeriesResult]:
    """`forecast_series` over many tasks: in order, serially or in joblib worker processes."""
    if n_jobs == 1:
        return [forecast_series(task) for task in tasks]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=n_jobs)(delayed(forecast_series)(task) for task in tasks))


def _backtested(
    task: SeriesTask,
    history: pd.DataFrame,
    future: pd.DataFrame,
    country: str | None,
    notes: list[str],
    started: float,
) -> SeriesResult:
    clock = time.perf_counter()
    backtest = run_backtest(
        history,
        country=country,
        settings=task.settings,
        origins=task.origins,
        horizon_days=task.horizon_days,
        models=MODELS,
    )
    seconds = {"backtest": time.perf_counter() - clock}
    refit = _refit(backtest, history, future, country, task.settings, seconds)
    notes.extend(refit.notes)
    scales = backtest.metrics.set_index("model")["interval_scale"]
    forecasts = {
        name: scale_intervals(frame, float(scales[name])) for name, frame in refit.forecasts.items()
    }
    seconds["total"] = time.perf_counter() - started
    return SeriesResult(
        label=task.label,
        winner=refit.winner,
        reason=refit.reason,
        forecast=forecasts[refit.winner],
        forecasts=forecasts,
        metrics=backtest.metrics,
        per_origin=backtest.per_origin,
        model_json=refit.model_json,
        notes=tuple(notes),
        seconds=seconds,
    )


@dataclass
class _Refit:
    forecasts: dict[str, pd.DataFrame]
    winner: str
    reason: str
    model_json: str | None = None
    notes: list[str] = field(default_factory=list)


def _refit(
    backtest: BacktestResult,
    history: pd.DataFrame,
    future: pd.DataFrame,
    country: str | None,
    settings: ForecastSettings,
    seconds: dict[str, float],
) -> _Refit:
    """Every model on the whole history; Prophet failing falls back to the best baseline."""
    refit = _Refit(
        _baseline_forecasts(history, future, country, settings), backtest.winner, backtest.reason
    )
    if "prophet" in backtest.failures:
        failure = backtest.failures["prophet"]
        refit.notes.append(f"Prophet failed: {failure} — showing {MODEL_LABELS[refit.winner]}")
        return refit
    try:
        refit.forecasts["prophet"], refit.model_json = _final_prophet(
            history, future, country, settings, seconds
        )
    except ForecastFailed as exc:
        if refit.winner == "prophet":
            refit.winner = best_baseline(backtest.metrics)
            refit.reason = (
                f"Prophet won the backtest but failed on the whole history; {refit.reason}"
            )
        refit.notes.append(f"Prophet failed: {exc} — showing {MODEL_LABELS[refit.winner]}")
    return refit


def _final_prophet(
    history: pd.DataFrame,
    future: pd.DataFrame,
    country: str | None,
    settings: ForecastSettings,
    seconds: dict[str, float],
) -> tuple[pd.DataFrame, str]:
    clock = time.perf_counter()
    fitted = fit_prophet(history, country=country, settings=settings)
    seconds["fit"] = time.perf_counter() - clock
    clock = time.perf_counter()
    forecast = predict_prophet(fitted, future)
    seconds["predict"] = time.perf_counter() - clock
    return forecast, serialise_model(fitted)


def _baseline_forecasts(
    history: pd.DataFrame, future: pd.DataFrame, country: str | None, settings: ForecastSettings
) -> dict[str, pd.DataFrame]:
    return {
        name: make_forecast(history, future, model=name, country=country, settings=settings)
        for name in MODELS
        if name != "prophet"
    }


def _profile_only(
    task: SeriesTask,
    history: pd.DataFrame,
    future: pd.DataFrame,
    notes: list[str],
    started: float,
) -> SeriesResult:
    profile = make_forecast(history, future, model=PROFILE, country=None, settings=task.settings)
    return SeriesResult(
        label=task.label,
        winner=PROFILE,
        reason="",
        forecast=profile,
        forecasts={PROFILE: profile},
        metrics=empty_metrics(),
        per_origin=empty_per_origin(),
        model_json=None,
        notes=tuple(notes),
        seconds={"total": time.perf_counter() - started},
    )


def _from_first_booking(history: pd.DataFrame) -> pd.DataFrame:
    booked = history["is_open"] & (history["y"] > 0)
    if not booked.any():
        return history.iloc[0:0]
    first_day = history.loc[booked.idxmax(), "ds"].normalize()
    return history[history["ds"] >= first_day].reset_index(drop=True)

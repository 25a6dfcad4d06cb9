"""Prophet for booking counts, shaped by what won the benchmarks (bench/forecast_bench.py).

- Only open hours are fitted; closed hours are forecast as exactly 0 by the caller.
- Counts are transformed, fitted with linear growth, and transformed back, so a
  forecast is never negative: log1p (effects multiply: busy months scale every hour) or
  sqrt (variance-stabilised counts), see `choose_transform`.
- Hourly series get one daily profile per weekday and one for public holidays
  (conditional seasonalities), on top of weekly seasonality: a Saturday is not a short
  Tuesday, and a holiday looks like neither. Yearly seasonality only with more than a
  year of history. The country's public holidays as Prophet holiday effects.
- Re-centring: the median in-sample residual of the last `recent_weeks` weeks per day
  type x hour is added back. The fit's mean on the transformed scale sits below the
  median count (rainy days pull it down), and the median is what minimises MAE; the
  recent window also lets the daily shape follow the season.
- Intervals: the spread of those recent residuals (its quantiles around their median)
  plus Prophet's trend uncertainty, on the transformed scale.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from cmdstanpy.utils import get_logger as get_cmdstanpy_logger
from prophet import Prophet
from prophet.serialize import model_from_json, model_to_json

from forecasting.calendar import (
    DAYTYPES,
    HOLIDAY,
    WEEK,
    daytype_index,
    holiday_dates,
    hour_of_week,
    is_hourly,
    years_of,
)
from forecasting.frames import finish_forecast, zero_forecast
from forecasting.settings import ForecastFailed, ForecastSettings

FORMAT = "slotboard-prophet/1"
Transform = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]
TRANSFORMS: dict[str, Transform] = {
    "log1p": (np.log1p, np.expm1),
    "sqrt": (np.sqrt, lambda values: np.square(np.clip(values, 0.0, None))),
}
MIN_DAYTYPE_ROWS = 24  # a day type needs about a day of open hours for its own profile
MIN_CELL_RESIDUALS = 3
LOG_SLOPE = 0.75  # spread ~ level ** slope: >= this is multiplicative noise


@dataclass(frozen=True, eq=False)
class ProphetForecaster:
    """A fitted Prophet plus what turns its output into count forecasts."""

    model: Prophet
    transform: str
    country: str | None
    daytypes: tuple[str, ...]  # the daily profiles fitted (hourly series only)
    correction: dict[int, float]  # day type * 24 + hour -> shift on the transformed scale
    residual_low: float
    residual_high: float
    seed: int


def fit_prophet(
    history: pd.DataFrame, *, country: str | None, settings: ForecastSettings
) -> ProphetForecaster:
    """Fit on the open hours of a prepared history. Raises ForecastFailed."""
    train = history[history["is_open"].to_numpy(dtype=bool)]
    if len(train) < 2:
        raise ForecastFailed("Prophet needs at least two open hours of history")
    transform = choose_transform(train, settings.seasonality_mode)
    forward, _ = TRANSFORMS[transform]
    frame = pd.DataFrame({"ds": train["ds"].to_numpy(), "y": forward(train["y"].to_numpy())})
    daytypes = _fitted_daytypes(frame["ds"], country) if is_hourly(history["ds"]) else ()
    frame = _with_conditions(frame, daytypes, country)
    model = _new_model(frame["ds"], country=country, daytypes=daytypes, settings=settings)
    with _quiet():
        try:
            model.fit(frame)
            correction, low, high = _recent_residuals(model, frame, daytypes, country, settings)
        except Exception as exc:  # Prophet and Stan raise many kinds; callers get one
            raise ForecastFailed(f"Prophet could not fit this series: {exc}") from exc
    return ProphetForecaster(
        model, transform, country, daytypes, correction, low, high, settings.random_seed
    )


def predict_prophet(fitted: ProphetForecaster, future: pd.DataFrame) -> pd.DataFrame:
    """The forecast frame for a prepared future. Raises ForecastFailed."""
    rows = future[future["is_open"].to_numpy(dtype=bool)]
    if rows.empty:
        return zero_forecast(future)
    frame = _with_conditions(
        pd.DataFrame({"ds": rows["ds"].to_numpy()}), fitted.daytypes, fitted.country
    )
    with _quiet(), _seeded(fitted.seed):
        try:
            predicted = fitted.model.predict(frame).set_index("ds").reindex(frame["ds"])
        except Exception as exc:
            raise ForecastFailed(f"Prophet could not predict: {exc}") from exc
    keys = _cell_keys(frame["ds"], fitted.daytypes, fitted.country)
    shift = pd.Series(fitted.correction, dtype=float).reindex(keys).fillna(0.0).to_numpy()
    point = predicted["yhat"].to_numpy() + shift
    trend_low, trend_high = _trend_spread(predicted)
    _, inverse = TRANSFORMS[fitted.transform]
    return finish_forecast(
        future,
        inverse(point),
        inverse(point + fitted.residual_low + trend_low),
        inverse(point + fitted.residual_high + trend_high),
    )


def choose_transform(train: pd.DataFrame, mode: str) -> str:
    """log1p for "multiplicative", sqrt for "additive". "auto" regresses log spread on
    log level across hour-of-week slots of the last 16 weeks (Guerrero's idea): a slope
    near 1 means multiplicative noise (log1p), near 0.5 Poisson-like counts (sqrt)."""
    if mode != "auto":
        return "log1p" if mode == "multiplicative" else "sqrt"
    recent = train[train["ds"] >= train["ds"].max() - 16 * WEEK]
    stats = recent["y"].groupby(hour_of_week(recent["ds"])).agg(["mean", "std"])
    finite = np.isfinite(stats["mean"]) & np.isfinite(stats["std"])
    stats = stats[finite & (stats["mean"] > 0) & (stats["std"] > 0)]
    if len(stats) < 5:
        return "sqrt"
    slope = np.polyfit(np.log(stats["mean"]), np.log(stats["std"]), 1)[0]
    return "log1p" if slope >= LOG_SLOPE else "sqrt"


def serialise_prophet(fitted: ProphetForecaster) -> str:
    """JSON text: Prophet's own `model_to_json` plus the count-scale settings."""
    return json.dumps(
        {
            "format": FORMAT,
            "prophet": model_to_json(fitted.model),
            "transform": fitted.transform,
            "country": fitted.country,
            "daytypes": list(fitted.daytypes),
            "correction": {str(key): value for key, value in fitted.correction.items()},
            "residual_low": fitted.residual_low,
            "residual_high": fitted.residual_high,
            "seed": fitted.seed,
        }
    )


def load_prophet(text: str) -> ProphetForecaster:
    """The inverse of `serialise_prophet`. Raises ValueError on other text."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} model")
    return ProphetForecaster(
        model=model_from_json(data["prophet"]),
        transform=data["transform"],
        country=data["country"],
        daytypes=tuple(data["daytypes"]),
        correction={int(key): float(value) for key, value in data["correction"].items()},
        residual_low=float(data["residual_low"]),
        residual_high=float(data["residual_high"]),
        seed=int(data["seed"]),
    )


def _new_model(
    ds: pd.Series, *, country: str | None, daytypes: tuple[str, ...], settings: ForecastSettings
) -> Prophet:
    model = Prophet(
        growth="linear",
        daily_seasonality=False,
        weekly_seasonality=True,
        yearly_seasonality=bool(ds.max() - ds.min() > pd.Timedelta(days=365)),
        changepoint_prior_scale=settings.changepoint_prior_scale,
        changepoint_range=settings.changepoint_range,
        interval_width=settings.interval_width,
        uncertainty_samples=settings.uncertainty_samples,
    )
    if country:
        model.add_country_holidays(country_name=country)
    for name in daytypes:
        model.add_seasonality(
            name=f"daily_{name}",
            period=1,
            fourier_order=settings.daily_fourier_order,
            condition_name=f"on_{name}",
        )
    return model


def _fitted_daytypes(ds: pd.Series, country: str | None) -> tuple[str, ...]:
    """Day types with enough open hours for a daily profile of their own. Holidays get
    one only if the business opens on them; else they count as their weekday."""
    index = daytype_index(ds, holiday_dates(country, years_of(ds)))
    counts = np.bincount(index, minlength=len(DAYTYPES))
    return tuple(name for i, name in enumerate(DAYTYPES) if counts[i] >= MIN_DAYTYPE_ROWS)


def _daytypes_of(ds: pd.Series, daytypes: tuple[str, ...], country: str | None) -> np.ndarray:
    index = daytype_index(ds, holiday_dates(country, years_of(ds)))
    if "holiday" not in daytypes:
        weekday = ds.dt.day_of_week.to_numpy()
        index = np.where(index == HOLIDAY, weekday, index)
    return index


def _with_conditions(
    frame: pd.DataFrame, daytypes: tuple[str, ...], country: str | None
) -> pd.DataFrame:
    if not daytypes:
        return frame
    index = _daytypes_of(frame["ds"], daytypes, country)
    conditions = {f"on_{name}": index == DAYTYPES.index(name) for name in daytypes}
    return frame.assign(**conditions)


def _cell_keys(ds: pd.Series, daytypes: tuple[str, ...], country: str | None) -> np.ndarray:
    return _daytypes_of(ds, daytypes, country) * 24 + ds.dt.hour.to_numpy()


def _recent_residuals(
    model: Prophet,
    frame: pd.DataFrame,
    daytypes: tuple[str, ...],
    country: str | None,
    settings: ForecastSettings,
) -> tuple[dict[int, float], float, float]:
    """Median residual per day type x hour, and the residuals' quantiles around their
    median, over the last `recent_weeks` weeks of the fit."""
    recent = frame[frame["ds"] >= frame["ds"].max() - settings.recent_weeks * WEEK]
    samples, model.uncertainty_samples = model.uncertainty_samples, 0
    try:
        fitted = model.predict(recent.drop(columns="y"))["yhat"].to_numpy()
    finally:
        model.uncertainty_samples = samples
    residuals = pd.Series(recent["y"].to_numpy() - fitted)
    cells = residuals.groupby(_cell_keys(recent["ds"], daytypes, country))
    medians = cells.median()[cells.size() >= MIN_CELL_RESIDUALS]
    correction = {int(key): float(value) for key, value in medians.items()}
    width = settings.interval_width
    low, high = np.quantile(residuals - residuals.median(), [(1 - width) / 2, (1 + width) / 2])
    return correction, float(low), float(high)


def _trend_spread(predicted: pd.DataFrame) -> tuple[np.ndarray | float, np.ndarray | float]:
    if "trend_lower" not in predicted:  # uncertainty_samples = 0
        return 0.0, 0.0
    trend = predicted["trend"].to_numpy()
    return predicted["trend_lower"].to_numpy() - trend, predicted["trend_upper"].to_numpy() - trend


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Prophet samples from numpy's global generator: seed it for repeatable intervals,
    then put the caller's state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class _KnownYearlyWarning(logging.Filter):
    """Prophet warns when yearly seasonality is on with under two years of history. Issue
    5 asks for it from one year on, on purpose, and the backtest judges the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Yearly seasonality is enabled with less")


_YEARLY_FILTER = _KnownYearlyWarning()


@contextmanager
def _quiet() -> Iterator[None]:
    """No cmdstanpy INFO lines ("Chain [1] start processing") in logs or the CLI, and no
    warning about the yearly seasonality chosen on purpose. cmdstanpy sets its logger up
    lazily (to DEBUG) on first use: do that first."""
    logger = get_cmdstanpy_logger()
    prophet_logger = logging.getLogger("prophet")
    level = logger.level
    logger.setLevel(logging.WARNING)
    prophet_logger.addFilter(_YEARLY_FILTER)
    try:
        yield
    finally:
        logger.setLevel(level)
        prophet_logger.removeFilter(_YEARLY_FILTER)

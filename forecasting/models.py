"""One entry point for every demand model: `make_forecast(history, future, model=...)`. Pure.

Models (MODELS): "prophet" (forecasting/prophet_model.py), "seasonal_naive" and
"hour_of_week_mean" (forecasting/baselines.py). Frames follow forecasting/frames.py:
closed hours are never fitted and are forecast as exactly 0; nothing is negative.
"""

from __future__ import annotations

import pandas as pd

from forecasting.baselines import forecast_hour_of_week_mean, forecast_seasonal_naive
from forecasting.frames import prepare_future, prepare_history
from forecasting.prophet_model import (
    ProphetForecaster,
    fit_prophet,
    load_prophet,
    predict_prophet,
    serialise_prophet,
)
from forecasting.settings import (
    BASELINES,
    MODELS,
    SEASONALITY_MODES,
    ForecastFailed,
    ForecastSettings,
)

__all__ = [
    "BASELINES",
    "MODELS",
    "SEASONALITY_MODES",
    "ForecastFailed",
    "ForecastSettings",
    "ProphetForecaster",
    "fit_prophet",
    "load_model",
    "make_forecast",
    "predict_prophet",
    "serialise_model",
]


def make_forecast(
    history: pd.DataFrame,
    future: pd.DataFrame,
    *,
    model: str,
    country: str | None,
    settings: ForecastSettings | None = None,
) -> pd.DataFrame:
    """Forecast frame (ds, yhat, yhat_lower, yhat_upper) for `future` from `history`.

    Raises ValueError for an unknown model or malformed frames, ForecastFailed when
    Prophet or Stan fails (for one, Prophet refuses an infinite y; the baselines skip
    non-finite values).
    """
    settings = settings or ForecastSettings()
    history, future = prepare_history(history), prepare_future(future)
    if model == "prophet":
        fitted = fit_prophet(history, country=country, settings=settings)
        return predict_prophet(fitted, future)
    if model == "seasonal_naive":
        return forecast_seasonal_naive(history, future, settings)
    if model == "hour_of_week_mean":
        return forecast_hour_of_week_mean(history, future, settings)
    raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")


def serialise_model(model: ProphetForecaster) -> str:
    """JSON text (Prophet's `model_to_json` inside; never pickle) for forecast_runs."""
    return serialise_prophet(model)


def load_model(text: str) -> ProphetForecaster:
    """A model saved by `serialise_model`; predict with `predict_prophet(model, future)`."""
    return load_prophet(text)

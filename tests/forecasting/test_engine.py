"""forecast_series end to end: the winner's forecast, fallbacks and notes, bad input
(all zeros, too little history, a closure, an outlier, a Prophet failure), real series."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import SeriesTask, forecast_many, forecast_series
from forecasting.intervals import scale_intervals
from forecasting.models import ForecastSettings, load_model, make_forecast, predict_prophet
from forecasting.results import SeriesResult
from forecasting.settings import MODEL_LABELS
from tests.forecasting.realdata import bike_sharing_hourly, peyton_manning_daily
from tests.forecasting.synthetic import future_after, hourly_frame, seasonal_series

FAST = ForecastSettings(uncertainty_samples=20)


def _task(history: pd.DataFrame, days: int = 14, **kwargs: object) -> SeriesTask:
    return SeriesTask("test", history, future_after(history, days), settings=FAST, **kwargs)


def test_the_shown_forecast_is_the_winners_with_calibrated_intervals() -> None:
    history = seasonal_series(10, level=20.0, growth_per_week=0.06, seed=0)
    result = forecast_series(_task(history, country="DE"))
    assert result.winner == "prophet" and result.notes == ()
    assert set(result.forecasts) == {"prophet", "seasonal_naive", "hour_of_week_mean"}
    pd.testing.assert_frame_equal(result.forecast, result.forecasts["prophet"])
    assert result.model_json is not None
    raw = predict_prophet(load_model(result.model_json), future_after(history, 14))
    scale = result.metrics.set_index("model").at["prophet", "interval_scale"]
    pd.testing.assert_frame_equal(result.forecast, scale_intervals(raw, scale))
    assert {"backtest", "fit", "predict", "total"} <= set(result.seconds)


def test_a_result_survives_its_json_form() -> None:
    history = seasonal_series(9, level=5.0, growth_per_week=0.0, seed=3)
    result = forecast_series(_task(history))
    data = json.loads(json.dumps(result.to_json()))  # what forecast_runs stores
    again = SeriesResult.from_json(data)
    assert again.winner == result.winner and again.notes == result.notes
    pd.testing.assert_frame_equal(again.forecast, result.forecast)
    pd.testing.assert_frame_equal(again.metrics, result.metrics, check_dtype=False)
    pd.testing.assert_frame_equal(again.per_origin, result.per_origin, check_dtype=False)
    assert json.loads(json.dumps(result.metrics_json()))["winner"] == result.winner


def test_an_all_zero_series_forecasts_zero_with_a_note() -> None:
    history = hourly_frame(12)
    result = forecast_series(_task(history))
    assert result.forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy().max() == 0.0
    assert len(result.forecast) == 14 * 24
    assert result.metrics.empty and result.per_origin.empty
    assert result.notes == ("no bookings in the history: the forecast is zero",)


def test_too_little_history_shows_the_hour_of_week_profile_and_says_so() -> None:
    history = seasonal_series(5, level=4.0, growth_per_week=0.0, seed=5)
    task = _task(history)
    result = forecast_series(task)
    assert result.winner == "hour_of_week_mean" and result.metrics.empty
    assert result.notes == ("too little history: under 8 weeks — showing the hour-of-week profile",)
    profile = make_forecast(
        history, task.future, model="hour_of_week_mean", country=None, settings=FAST
    )
    pd.testing.assert_frame_equal(result.forecast, profile)
    assert result.forecast["yhat"].sum() > 0


def test_a_prophet_failure_falls_back_to_the_best_baseline_with_a_note() -> None:
    history = seasonal_series(10, level=20.0, growth_per_week=0.06, seed=0)
    history.loc[history["is_open"].idxmax() + 30, "y"] = np.inf  # Prophet refuses infinity
    result = forecast_series(_task(history))
    assert result.winner in {"seasonal_naive", "hour_of_week_mean"}
    assert "prophet" not in result.forecasts and result.model_json is None
    [note] = result.notes
    assert note.startswith("Prophet failed: Prophet could not fit this series")
    assert note.endswith(f"showing {MODEL_LABELS[result.winner]}")
    assert MODEL_LABELS["seasonal_naive"] == "seasonal naive (same hour last week)"
    assert np.isfinite(result.forecast[["yhat", "yhat_upper"]].to_numpy()).all()


def test_an_unknown_country_is_noted_and_fitted_without_holidays() -> None:
    history = seasonal_series(9, level=5.0, growth_per_week=0.0, seed=6)
    result = forecast_series(_task(history, country="XX"))
    assert (
        result.notes[0]
        == "no public holidays are known for country code 'XX': fitted without public holidays"
    )
    assert not result.metrics.empty


def test_a_two_week_closure_and_an_outlier_give_a_sensible_forecast() -> None:
    history = seasonal_series(12, level=6.0, growth_per_week=0.0, seed=7)
    closure = (history["ds"] >= "2025-02-10") & (history["ds"] < "2025-02-24")
    history.loc[closure, ["is_open", "y"]] = [False, 0.0]
    spike = history.index[history["is_open"]][-200]
    history.loc[spike, "y"] = 500.0  # a data-entry slip: 100 times the usual
    result = forecast_series(_task(history))
    forecast = result.forecast[future_after(history, 14)["is_open"].to_numpy()]
    typical = history.loc[history["is_open"] & (history["ds"] >= "2025-03-10"), "y"]
    assert forecast["yhat"].max() < 5 * typical.quantile(0.99)
    assert 0.5 < forecast["yhat"].mean() / typical.mean() < 1.5
    assert not result.metrics.empty


def test_real_daily_series_with_gaps_and_outliers_peyton_manning() -> None:
    series = peyton_manning_daily()
    history = series[series["ds"] >= "2014-01-01"].reset_index(drop=True)
    assert (~history["is_open"]).any()  # the file has missing days
    history.loc[(history["ds"] >= "2015-06-01") & (history["ds"] < "2015-06-15"), "is_open"] = False
    days = pd.date_range(history["ds"].max() + pd.Timedelta(days=1), periods=28)
    future = pd.DataFrame({"ds": days, "is_open": True})
    result = forecast_series(SeriesTask("peyton", history, future, "US", FAST))
    recent = history.loc[history["is_open"], "y"].tail(56)
    values = result.forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert 0.5 < result.forecast["yhat"].median() / recent.median() < 2.0
    assert set(result.metrics["model"]) == {"prophet", "seasonal_naive", "hour_of_week_mean"}


def test_many_series_in_worker_processes_match_the_serial_results() -> None:
    tasks = [_task(seasonal_series(5, level=4.0, growth_per_week=0.0, seed=s)) for s in (1, 2)]
    serial, parallel = forecast_many(tasks, n_jobs=1), forecast_many(tasks, n_jobs=2)
    for one, other in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(one.forecast, other.forecast)
    assert not serial[0].forecast.equals(serial[1].forecast)


@pytest.mark.slow
def test_bike_sharing_december_prophet_beats_seasonal_naive_by_ten_percent() -> None:
    """The issue's hardest case: the last four weeks of 2012, Christmas included."""
    history = bike_sharing_hourly()
    future = pd.DataFrame(
        {"ds": pd.date_range("2013-01-01", periods=7 * 24, freq="h"), "is_open": True}
    )
    result = forecast_series(SeriesTask("bike", history, future, "US", FAST))
    metrics = result.metrics.set_index("model")
    assert metrics.at["prophet", "mae_ratio"] <= 0.90
    assert abs(metrics.at["prophet", "coverage"] - 0.8) <= 0.05

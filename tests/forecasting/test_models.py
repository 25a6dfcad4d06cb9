"""Models: baselines by hand, Prophet's guarantees (never negative, closed hours 0,
holidays, JSON round trip) and its failure mode."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from forecasting.models import (
    MODELS,
    ForecastFailed,
    ForecastSettings,
    fit_prophet,
    load_model,
    make_forecast,
    predict_prophet,
    serialise_model,
)
from forecasting.prophet_model import choose_transform
from tests.forecasting.synthetic import MONDAY, future_after, hourly_frame, seasonal_series

FAST = ForecastSettings(uncertainty_samples=20)


def _at(forecast: pd.DataFrame, stamp: str) -> pd.Series:
    return forecast.set_index("ds").loc[pd.Timestamp(stamp)]


def _weekly_steps(weeks: int) -> pd.DataFrame:
    """y = 100 x week + hour of day at open hours (9-17, Mon-Sat): every week is the week
    before plus 100, so 'same hour last week' is off by exactly 100."""
    frame = hourly_frame(weeks)
    week = (frame["ds"] - MONDAY) // pd.Timedelta(weeks=1)
    y = 100.0 * week + frame["ds"].dt.hour
    return frame.assign(y=np.where(frame["is_open"], y, 0.0))


def test_seasonal_naive_copies_the_same_hour_last_week_and_skips_a_closed_one() -> None:
    history = _weekly_steps(3)
    closed = history["ds"] == pd.Timestamp("2025-01-20 11:00")  # week 2, Monday 11:00
    history.loc[closed, "is_open"] = False
    future = future_after(history, 14)
    forecast = make_forecast(history, future, model="seasonal_naive", country=None, settings=FAST)
    assert _at(forecast, "2025-01-27 10:00")["yhat"] == 210.0  # week 2's Monday 10:00
    assert _at(forecast, "2025-01-27 11:00")["yhat"] == 111.0  # week 2 closed: week 1's
    assert _at(forecast, "2025-02-03 10:00")["yhat"] == 210.0  # week 2 ahead: last week again
    # in-sample residuals are all +100: the interval reaches 100 above, widening by sqrt(2)
    assert _at(forecast, "2025-01-27 10:00")["yhat_upper"] == pytest.approx(310.0)
    assert _at(forecast, "2025-02-03 10:00")["yhat_upper"] == pytest.approx(210 + 100 * 2**0.5)


def test_hour_of_week_mean_averages_recent_open_weeks() -> None:
    history = _weekly_steps(3)
    closed = history["ds"] == pd.Timestamp("2025-01-20 11:00")
    history.loc[closed, "is_open"] = False
    future = future_after(history, 14)  # open like two weeks before: Monday 11:00 open
    settings = ForecastSettings(profile_weeks=8)
    forecast = make_forecast(
        history, future, model="hour_of_week_mean", country=None, settings=settings
    )
    assert _at(forecast, "2025-01-27 10:00")["yhat"] == pytest.approx((10 + 110 + 210) / 3)
    assert _at(forecast, "2025-01-27 11:00")["yhat"] == pytest.approx((11 + 111) / 2)
    last_week = make_forecast(
        history, future, model="hour_of_week_mean", country=None,
        settings=ForecastSettings(profile_weeks=1),
    )  # fmt: skip
    assert _at(last_week, "2025-01-27 10:00")["yhat"] == pytest.approx(210.0)


@pytest.mark.parametrize("model", ["seasonal_naive", "hour_of_week_mean"])
def test_baselines_forecast_closed_hours_as_exact_zero(model: str) -> None:
    history = _weekly_steps(3)
    future = future_after(history, 7)
    forecast = make_forecast(history, future, model=model, country=None, settings=FAST)
    closed = ~future["is_open"].to_numpy()
    values = forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()
    assert closed.any() and (values[closed] == 0).all()
    assert (values[~closed] > 0).all()


@pytest.mark.parametrize("mode", ["additive", "multiplicative"])
def test_prophet_never_forecasts_below_zero_on_a_collapsing_series(mode: str) -> None:
    history = hourly_frame(4)
    elapsed = np.arange(len(history)) / len(history)
    rng = np.random.default_rng(3)
    y = rng.poisson(np.clip(8 * (1 - elapsed) ** 2, 0.05, None)).astype(float)
    history = history.assign(y=np.where(history["is_open"], y, 0.0))
    open_rows = history[history["is_open"]]
    slope, intercept = np.polyfit(np.arange(len(open_rows)), open_rows["y"], 1)
    assert intercept + slope * (len(open_rows) + 200) < 0  # a straight line goes negative
    future = future_after(history, 14)
    settings = ForecastSettings(uncertainty_samples=20, seasonality_mode=mode)
    forecast = make_forecast(history, future, model="prophet", country=None, settings=settings)
    values = forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (forecast["yhat_lower"] <= forecast["yhat"]).all()
    assert (forecast["yhat"] <= forecast["yhat_upper"]).all()


def test_prophet_forecasts_closed_hours_as_exact_zero_and_open_ones_above() -> None:
    history = seasonal_series(4, level=3.0, growth_per_week=0.0, seed=1)
    future = future_after(history, 7)
    wednesday = future["ds"].dt.day_of_week == 2
    future.loc[wednesday, "is_open"] = False  # closed for a day the history had open
    forecast = make_forecast(history, future, model="prophet", country=None, settings=FAST)
    values = forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()
    closed = ~future["is_open"].to_numpy()
    assert (values[closed] == 0).all()
    assert (forecast.loc[~closed, "yhat"] > 0.5).all()


def _holiday_business() -> pd.DataFrame:
    """Open 9-18 every day, Mar-May 2025; public holidays (DE) have a fifth of the demand."""
    frame = hourly_frame(13, start=pd.Timestamp("2025-03-03"), open_days=tuple(range(7)))
    holidays = pd.to_datetime(["2025-04-18", "2025-04-21", "2025-05-01", "2025-05-29"])
    quiet = frame["ds"].dt.normalize().isin(holidays).to_numpy()
    rng = np.random.default_rng(5)
    counts = rng.poisson(np.where(quiet, 1.0, 6.0)).astype(float)
    return frame.assign(y=np.where(frame["is_open"], counts, 0.0))


def _day_total(forecast: pd.DataFrame, day: str) -> float:
    return float(forecast.loc[forecast["ds"].dt.normalize() == pd.Timestamp(day), "yhat"].sum())


def test_the_countrys_public_holidays_shape_the_forecast() -> None:
    history = _holiday_business()
    future = future_after(history, 14)  # 2 Jun - 15 Jun; 9 Jun is Whit Monday in DE
    fitted = fit_prophet(history, country="DE", settings=FAST)
    assert {"Good Friday", "Easter Monday", "Labor Day"} <= set(fitted.model.train_holiday_names)
    assert "holiday" in fitted.daytypes
    with_holidays = predict_prophet(fitted, future)
    assert _day_total(with_holidays, "2025-06-09") < 0.5 * _day_total(with_holidays, "2025-06-02")
    without = make_forecast(history, future, model="prophet", country=None, settings=FAST)
    assert _day_total(without, "2025-06-09") > 0.8 * _day_total(without, "2025-06-02")


def test_a_serialised_model_predicts_the_same_values() -> None:
    history = seasonal_series(4, level=3.0, growth_per_week=0.02, seed=2)
    future = future_after(history, 7)
    fitted = fit_prophet(history, country="DE", settings=FAST)
    text = serialise_model(fitted)
    assert json.loads(text)["format"] == "slotboard-prophet/1"  # plain JSON, not a pickle
    loaded = load_model(text)
    before, after = predict_prophet(fitted, future), predict_prophet(loaded, future)
    pd.testing.assert_frame_equal(before, after)
    assert before["yhat"].sum() > 0
    with pytest.raises(ValueError, match="slotboard-prophet"):
        load_model(json.dumps({"format": "something else"}))


def test_prophet_failure_is_a_forecast_failed_and_baselines_skip_the_bad_value() -> None:
    history = seasonal_series(4, level=3.0, growth_per_week=0.0, seed=4)
    history.loc[history["is_open"].idxmax(), "y"] = np.inf
    future = future_after(history, 7)
    with pytest.raises(ForecastFailed, match="Prophet could not fit"):
        make_forecast(history, future, model="prophet", country=None, settings=FAST)
    for model in ("seasonal_naive", "hour_of_week_mean"):
        forecast = make_forecast(history, future, model=model, country=None, settings=FAST)
        assert np.isfinite(forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()).all()


def test_unknown_models_and_frames_without_the_contract_columns_are_refused() -> None:
    history = _weekly_steps(2)
    future = future_after(history, 7)
    with pytest.raises(ValueError, match="unknown model"):
        make_forecast(history, future, model="arima", country=None)
    with pytest.raises(ValueError, match="is_open"):
        make_forecast(history.drop(columns="is_open"), future, model=MODELS[1], country=None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"changepoint_prior_scale": 0.0}, "changepoint_prior_scale"),
        ({"seasonality_mode": "cubic"}, "seasonality_mode"),
        ({"interval_width": 1.0}, "interval_width"),
        ({"uncertainty_samples": -1}, "uncertainty_samples"),
    ],
)
def test_settings_refuse_out_of_range_values(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ForecastSettings(**change)


def test_auto_mode_picks_log_for_multiplicative_noise_and_sqrt_for_counts() -> None:
    frame = hourly_frame(8)
    rng = np.random.default_rng(6)
    level = 5 * np.exp(np.sin(np.arange(len(frame)) * 2 * np.pi / 24) * 1.5) + 1
    counts = frame.assign(y=rng.poisson(level).astype(float))[frame["is_open"]]
    scaled = frame.assign(y=level * rng.lognormal(0, 0.4, len(frame)))[frame["is_open"]]
    assert choose_transform(counts, "auto") == "sqrt"
    assert choose_transform(scaled, "auto") == "log1p"
    assert choose_transform(counts, "multiplicative") == "log1p"


def test_yearly_seasonality_from_one_year_on_without_prophets_two_year_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    days = pd.date_range("2024-01-01", periods=420, freq="D")
    seasonal = 10 + 3 * np.sin(2 * np.pi * days.day_of_year / 365.25)
    history = pd.DataFrame(
        {"ds": days.astype("datetime64[ns]"), "y": np.round(seasonal), "is_open": True}
    )
    with caplog.at_level("INFO", logger="prophet"):
        fitted = fit_prophet(history, country=None, settings=FAST)
    assert "yearly" in fitted.model.seasonalities  # on with 420 days, as issue 5 asks
    assert not [r for r in caplog.records if "Yearly seasonality is enabled" in r.getMessage()]
    assert not logging.getLogger("prophet").filters  # the filter is gone after the fit

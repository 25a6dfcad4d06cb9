"""Rolling-origin backtests: metrics by hand, the winner rule on known seasonality and on
pure noise, interval calibration, and wall-clock lags across DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import plan_origins, run_backtest
from forecasting.intervals import (
    fit_scale,
    leave_one_out_coverage,
    needed_scales,
    scale_intervals,
)
from forecasting.models import ForecastSettings, make_forecast
from tests.forecasting.synthetic import MONDAY, hourly_frame, noise_series, seasonal_series

FAST = ForecastSettings(uncertainty_samples=20)
BASELINES_ONLY = ("seasonal_naive", "hour_of_week_mean")


def _one_more_each_week(weeks: int) -> pd.DataFrame:
    """y = 10 + hour of day + week number: last week is always off by exactly 1, the mean
    of the last 8 weeks by exactly 4.5."""
    frame = hourly_frame(weeks)
    week = (frame["ds"] - MONDAY) // pd.Timedelta(weeks=1)
    y = 10.0 + frame["ds"].dt.hour + week
    return frame.assign(y=np.where(frame["is_open"], y, 0.0))


def test_metrics_by_hand_on_a_series_growing_by_one_each_week() -> None:
    history = _one_more_each_week(13)
    result = run_backtest(
        history, country=None, settings=ForecastSettings(profile_weeks=8), models=BASELINES_ONLY
    )
    metrics = result.metrics.set_index("model")
    assert len(result.origins) == 4 and result.origins[-1] == history["ds"].max() + pd.Timedelta(
        hours=1
    ) - pd.Timedelta(days=7)
    assert metrics.loc["seasonal_naive", ["mae", "mase", "mae_ratio"]].tolist() == [1, 1, 1]
    assert metrics.loc["hour_of_week_mean", "mae"] == pytest.approx(4.5)
    assert metrics.loc["hour_of_week_mean", "mase"] == pytest.approx(4.5)
    assert metrics.loc["hour_of_week_mean", "mae_ratio"] == pytest.approx(4.5)
    assert metrics["n_points"].tolist() == [4 * 6 * 9] * 2  # origins x open days x hours
    assert metrics.loc["seasonal_naive", "raw_coverage"] == 1.0  # residuals all +1
    assert metrics.loc["hour_of_week_mean", "raw_coverage"] == 0.0  # 4.5 beyond +-3.5
    ratios = result.per_origin.pivot(index="origin", columns="model", values="mae_ratio")
    assert ratios["hour_of_week_mean"].round(6).tolist() == [4.5] * 4
    assert result.winner == "seasonal_naive" and "Prophet did not run" in result.reason


def test_prophet_wins_on_strong_daily_and_weekly_seasonality_with_growth() -> None:
    history = seasonal_series(10, level=20.0, growth_per_week=0.06, seed=0)
    result = run_backtest(history, country=None, settings=FAST)
    metrics = result.metrics.set_index("model")
    assert metrics.loc["prophet", "mase"] < 0.8 * metrics.loc["seasonal_naive", "mase"]
    assert result.winner == "prophet", result.reason
    assert result.reason.startswith("Prophet beats")
    assert 0.7 <= metrics.loc["prophet", "coverage"] <= 0.9


@pytest.mark.parametrize("seed", [11, 12])
def test_prophet_is_not_named_the_winner_on_pure_noise(seed: int) -> None:
    history = noise_series(10, level=5.0, seed=seed)
    result = run_backtest(history, country=None, settings=FAST)
    assert set(result.metrics["model"]) == {"prophet", "seasonal_naive", "hour_of_week_mean"}
    assert result.winner == "hour_of_week_mean", result.reason
    assert "does not beat" in result.reason


def test_origins_need_four_weeks_of_history_before_them() -> None:
    assert len(plan_origins(hourly_frame(5), origins=4, horizon_days=7)) == 1
    assert len(plan_origins(hourly_frame(8), origins=4, horizon_days=7)) == 4
    with pytest.raises(ValueError, match="too little history"):
        run_backtest(hourly_frame(4), country=None, models=BASELINES_ONLY)


def _points(y: list[float], yhat: float, lower: float, upper: float) -> pd.DataFrame:
    n = len(y)
    return pd.DataFrame(
        {"y": y, "yhat": [yhat] * n, "yhat_lower": [lower] * n, "yhat_upper": [upper] * n}
    )


def test_needed_scale_is_the_stretch_of_the_log_half_width_that_covers_the_value() -> None:
    center, high = np.log1p(10.0), np.log1p(20.0)
    above = float(np.expm1(center + 2 * (high - center)))  # needs twice the upper half-width
    needed = needed_scales(_points([10.0, 5.0, above, 7.5], 10.0, 5.0, 20.0))
    assert needed[:3] == pytest.approx([0.0, 1.0, 2.0])
    assert 0 < needed[3] < 1
    # the ceil(0.8 x 5) = 4th... "higher" quantile: with 5 points, the largest
    assert fit_scale(np.array([1.0, 1.5, 2.0, 2.5, 3.0]), 0.8) == pytest.approx(3.0)
    assert fit_scale(np.linspace(1.0, 3.0, 11), 0.8) == pytest.approx(2.6)
    assert fit_scale(np.array([0.1, 0.2, 0.3, 0.4, 0.45]), 0.8) == 0.5  # floor
    assert fit_scale(np.array([1.0, 1.5, 2.0, 2.5, 9.0]), 0.8) == 4.0  # cap


def test_leave_one_out_coverage_scores_each_origin_with_the_others_scale() -> None:
    needed = np.array([0.5, 0.5, 0.5, 0.5, 3.0, 3.0, 3.0, 3.0])
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # scored on the other origin only: origin 0 gets scale 3 (covered), origin 1 gets 0.5
    assert leave_one_out_coverage(needed, groups, 0.8) == 0.5
    assert fit_scale(needed, 0.8) == 3.0


def test_scaled_intervals_keep_closed_hours_at_zero() -> None:
    forecast = pd.DataFrame(
        {
            "ds": pd.date_range("2025-01-06", periods=2, freq="h"),
            "yhat": [0.0, 10.0],
            "yhat_lower": [0.0, 5.0],
            "yhat_upper": [0.0, 20.0],
        }
    )
    wider = scale_intervals(forecast, 2.0)
    assert wider.loc[0, ["yhat", "yhat_lower", "yhat_upper"]].tolist() == [0.0, 0.0, 0.0]
    expected_upper = np.expm1(np.log1p(10) + 2 * (np.log1p(20) - np.log1p(10)))
    assert wider.loc[1, "yhat_upper"] == pytest.approx(expected_upper)
    assert wider.loc[1, "yhat_lower"] < 5.0


def _berlin_hours(first: str, last: str) -> pd.DatetimeIndex:
    """Every local hour of Europe/Berlin in [first, last) once, as the series contract has."""
    zone = ZoneInfo("Europe/Berlin")
    lo = datetime.fromisoformat(first).replace(tzinfo=zone).astimezone(UTC)
    hi = datetime.fromisoformat(last).replace(tzinfo=zone).astimezone(UTC)
    wall = pd.date_range(lo, hi, freq="h", inclusive="left").tz_convert(zone).tz_localize(None)
    return pd.DatetimeIndex(wall.unique()).astype("datetime64[ns]")


def test_seasonal_naive_lags_by_wall_clock_across_the_spring_forward_gap() -> None:
    hours = _berlin_hours("2025-03-10", "2025-04-01")
    assert pd.Timestamp("2025-03-30 02:00") not in hours  # the skipped hour is absent
    y = (hours.day * 100 + hours.hour).astype(float)
    history = pd.DataFrame({"ds": hours, "y": y, "is_open": True})
    future_hours = _berlin_hours("2025-04-06", "2025-04-07")
    future = pd.DataFrame({"ds": future_hours, "is_open": True})
    forecast = make_forecast(history, future, model="seasonal_naive", country=None)
    by_hour = forecast.set_index("ds")["yhat"]
    assert by_hour[pd.Timestamp("2025-04-06 01:00")] == 3001  # 30 March 01:00
    assert by_hour[pd.Timestamp("2025-04-06 02:00")] == 2302  # 30 March had none: 23 March
    assert by_hour[pd.Timestamp("2025-04-06 03:00")] == 3003  # not shifted by the lost hour

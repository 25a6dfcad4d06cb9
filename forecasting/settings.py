"""Forecast settings, the model names and the one error callers catch. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MODELS = ("prophet", "seasonal_naive", "hour_of_week_mean")
BASELINES = ("seasonal_naive", "hour_of_week_mean")
SEASONALITY_MODES = ("additive", "multiplicative", "auto")
MODEL_LABELS = {
    "prophet": "Prophet",
    "seasonal_naive": "seasonal naive (same hour last week)",
    "hour_of_week_mean": "the hour-of-week mean",
}


class ForecastFailed(RuntimeError):
    """Prophet or Stan could not fit or predict; the message is fit to show a user."""


@dataclass(frozen=True)
class ForecastSettings:
    """What an expert may tune; the defaults are the ones the benchmark measured.

    - horizon_days: how far ahead the page forecasts.
    - changepoint_prior_scale, changepoint_range: Prophet's trend flexibility, and the
      share of the history where the trend may bend (0.95: late level shifts count).
    - seasonality_mode: "multiplicative" fits Prophet on log1p(y) (effects multiply),
      "additive" on sqrt(y) (effects add on the variance-stabilised count scale), "auto"
      picks one from how the spread grows with the level (see `choose_transform`).
    - interval_width: nominal coverage of [yhat_lower, yhat_upper].
    - uncertainty_samples: Prophet's trend-uncertainty draws (200: fast enough for the
      page); 0 leaves the trend's uncertainty out of the interval.
    - daily_fourier_order: detail of each weekday's daily profile (hourly series).
    - recent_weeks: window of in-sample residuals that re-centres Prophet per weekday x
      hour (their median) and sets its interval spread.
    - profile_weeks: window of the hour-of-week mean baseline.
    - min_gain, min_origin_share: Prophet wins a backtest only when its MASE is at least
      `min_gain` below the best baseline's, and it beats that baseline's MASE in at
      least `min_origin_share` of the origins (forecasting/backtest.py).
    - min_history_weeks: below this, no backtest and no Prophet: the hour-of-week profile.
    """

    horizon_days: int = 28
    changepoint_prior_scale: float = 0.05
    changepoint_range: float = 0.95
    seasonality_mode: str = "auto"
    interval_width: float = 0.8
    uncertainty_samples: int = 200
    daily_fourier_order: int = 10
    recent_weeks: int = 8
    profile_weeks: int = 8
    min_gain: float = 0.10
    min_origin_share: float = 0.75
    min_history_weeks: int = 8
    random_seed: int = 0

    def __post_init__(self) -> None:
        problems = [message for ok, message in self._checks() if not ok]
        if problems:
            raise ValueError("invalid forecast settings: " + "; ".join(problems))

    def _checks(self) -> list[tuple[bool, str]]:
        return [
            (1 <= self.horizon_days <= 366, "horizon_days must be 1 to 366"),
            (0 < self.changepoint_prior_scale <= 10, "changepoint_prior_scale must be in (0, 10]"),
            (0 < self.changepoint_range <= 1, "changepoint_range must be in (0, 1]"),
            (self.seasonality_mode in SEASONALITY_MODES, f"seasonality_mode: {SEASONALITY_MODES}"),
            (0.5 <= self.interval_width < 1, "interval_width must be in [0.5, 1)"),
            (0 <= self.uncertainty_samples <= 5000, "uncertainty_samples must be 0 to 5000"),
            (1 <= self.daily_fourier_order <= 12, "daily_fourier_order must be 1 to 12"),
            (1 <= self.recent_weeks <= 52, "recent_weeks must be 1 to 52"),
            (1 <= self.profile_weeks <= 104, "profile_weeks must be 1 to 104"),
            (0 <= self.min_gain < 1, "min_gain must be in [0, 1)"),
            (0 < self.min_origin_share <= 1, "min_origin_share must be in (0, 1]"),
            (2 <= self.min_history_weeks <= 104, "min_history_weeks must be 2 to 104"),
            (self.random_seed >= 0, "random_seed must not be negative"),
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for forecast_runs.params and fingerprints."""
        return asdict(self)

"""Interval calibration by backtest (split conformal on a width scale). Pure.

A model's own intervals can be too narrow or too wide for the weeks ahead (in-sample
residuals flatter a model; a winter's spread is not a summer's). The backtest knows
better: for every out-of-sample point it finds the smallest factor `c` by which the
interval's half-widths, on the log1p scale, must be stretched (or shrunk) to cover the
actual value. The `interval_width` quantile of those factors is the model's
`interval_scale`; the final forecast's intervals are scaled by it.

The coverage a backtest reports is honest: each origin is scored with a scale fitted on
the other origins only (leave one origin out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_SCALE, MAX_SCALE = 0.5, 4.0


def needed_scales(points: pd.DataFrame) -> np.ndarray:
    """Per point (y, yhat, yhat_lower, yhat_upper): the least scale that covers y."""
    y, center = np.log1p(points["y"].to_numpy()), np.log1p(points["yhat"].to_numpy())
    below = center - np.log1p(points["yhat_lower"].to_numpy())
    above = np.log1p(points["yhat_upper"].to_numpy()) - center
    with np.errstate(divide="ignore", invalid="ignore"):
        need_low = np.where(y < center, (center - y) / below, 0.0)
        need_high = np.where(y > center, (y - center) / above, 0.0)
    return np.nan_to_num(np.maximum(need_low, need_high), nan=np.inf)


def fit_scale(needed: np.ndarray, width: float) -> float:
    """The smallest scale covering a `width` share of the points, within [0.5, 4]."""
    if not len(needed):
        return 1.0
    scale = float(np.quantile(needed, width, method="higher"))
    return float(np.clip(scale, MIN_SCALE, MAX_SCALE))


def leave_one_out_coverage(needed: np.ndarray, groups: np.ndarray, width: float) -> float:
    """Coverage when each group (origin) is scored with the scale fitted on the others."""
    labels = np.unique(groups)
    if len(labels) < 2:
        return float(np.mean(needed <= fit_scale(needed, width))) if len(needed) else np.nan
    covered = np.zeros(len(needed), dtype=bool)
    for label in labels:
        inside = groups == label
        covered[inside] = needed[inside] <= fit_scale(needed[~inside], width)
    return float(covered.mean())


def scale_intervals(forecast: pd.DataFrame, scale: float) -> pd.DataFrame:
    """The same forecast with half-widths on the log1p scale multiplied by `scale`."""
    if scale == 1.0:
        return forecast
    center = np.log1p(forecast["yhat"].to_numpy())
    low = center - scale * (center - np.log1p(forecast["yhat_lower"].to_numpy()))
    high = center + scale * (np.log1p(forecast["yhat_upper"].to_numpy()) - center)
    return forecast.assign(yhat_lower=np.clip(np.expm1(low), 0.0, None), yhat_upper=np.expm1(high))

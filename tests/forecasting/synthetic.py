"""Small synthetic hourly series in the engine's contract (ds, y, is_open)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MONDAY = pd.Timestamp("2025-01-06")  # a Monday, far from DST switches


def hourly_frame(
    weeks: int,
    *,
    start: pd.Timestamp = MONDAY,
    open_from: int = 9,
    open_to: int = 18,
    open_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5),
) -> pd.DataFrame:
    """Every hour of `weeks` weeks; open from `open_from` to `open_to` on `open_days`; y = 0."""
    ds = pd.date_range(start, periods=weeks * 168, freq="h")
    is_open = (ds.hour >= open_from) & (ds.hour < open_to) & ds.day_of_week.isin(open_days)
    return pd.DataFrame({"ds": ds.astype("datetime64[ns]"), "y": 0.0, "is_open": is_open})


def seasonal_demand(ds: pd.Series) -> np.ndarray:
    """A strong daily shape (late-morning and after-work peaks) times a weekly one."""
    hour = ds.dt.hour.to_numpy() + 0.5
    daily = 1 + 0.8 * np.exp(-((hour - 11) ** 2) / 3) + 1.2 * np.exp(-((hour - 17) ** 2) / 2)
    weekly = np.array([0.6, 0.7, 0.8, 1.0, 1.4, 1.8, 1.0])[ds.dt.day_of_week.to_numpy()]
    return daily * weekly


def seasonal_series(weeks: int, *, level: float, growth_per_week: float, seed: int) -> pd.DataFrame:
    """Poisson counts around level x daily x weekly x (1 + growth) ** weeks, open hours only."""
    frame = hourly_frame(weeks)
    rng = np.random.default_rng(seed)
    elapsed = ((frame["ds"] - frame["ds"].iloc[0]) / pd.Timedelta(weeks=1)).to_numpy()
    mean = level * seasonal_demand(frame["ds"]) * (1 + growth_per_week) ** elapsed
    counts = rng.poisson(mean).astype(float)
    return frame.assign(y=np.where(frame["is_open"], counts, 0.0))


def noise_series(weeks: int, *, level: float, seed: int) -> pd.DataFrame:
    """Pure noise: the same Poisson mean at every open hour."""
    frame = hourly_frame(weeks)
    counts = np.random.default_rng(seed).poisson(level, len(frame)).astype(float)
    return frame.assign(y=np.where(frame["is_open"], counts, 0.0))


def future_after(history: pd.DataFrame, days: int) -> pd.DataFrame:
    """The next `days` days of hours, open like the same hour a week before."""
    start = history["ds"].max() + pd.Timedelta(hours=1)
    ds = pd.Series(pd.date_range(start, periods=days * 24, freq="h").astype("datetime64[ns]"))
    opened = history.set_index("ds")["is_open"]
    is_open = opened.reindex(ds - pd.Timedelta(days=7 * (1 + (days - 1) // 7))).to_numpy()
    return pd.DataFrame({"ds": ds, "is_open": pd.array(is_open, dtype=bool)})

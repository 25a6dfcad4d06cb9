"""The shared frame contract: checks on the way in, the forecast frame on the way out. Pure.

- history: `ds` (tz-naive local wall-clock start of the hour), `y` (float bookings),
  `is_open` (bool); one row per existing local hour, closed hours included.
- future: `ds`, `is_open`.
- forecast: `ds`, `yhat`, `yhat_lower`, `yhat_upper`: floats >= 0, exactly 0 where the
  future row is closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FORECAST_COLUMNS = ["ds", "yhat", "yhat_lower", "yhat_upper"]


def prepare_history(history: pd.DataFrame) -> pd.DataFrame:
    """ds, y (float), is_open (bool), sorted by ds; other columns dropped."""
    _require(history, ("ds", "y", "is_open"), "history")
    frame = pd.DataFrame(
        {
            "ds": pd.to_datetime(history["ds"]).astype("datetime64[ns]"),
            "y": pd.to_numeric(history["y"]).astype(float),
            "is_open": history["is_open"].astype(bool),
        }
    )
    return frame.sort_values("ds", kind="stable").reset_index(drop=True)


def prepare_future(future: pd.DataFrame) -> pd.DataFrame:
    _require(future, ("ds", "is_open"), "future")
    frame = pd.DataFrame(
        {
            "ds": pd.to_datetime(future["ds"]).astype("datetime64[ns]"),
            "is_open": future["is_open"].astype(bool),
        }
    )
    return frame.reset_index(drop=True)


def finish_forecast(
    future: pd.DataFrame, yhat: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    """The forecast frame for `future`; the arrays cover its open rows, in order.

    Non-finite values become 0, everything is clipped at 0, the bounds are ordered around
    yhat, and closed rows are exactly 0.
    """
    is_open = future["is_open"].to_numpy(dtype=bool)
    columns = {}
    for name, values in (("yhat", yhat), ("yhat_lower", lower), ("yhat_upper", upper)):
        full = np.zeros(len(future))
        clean = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0, posinf=0.0)
        full[is_open] = np.clip(clean, 0.0, None)
        columns[name] = full
    columns["yhat_lower"] = np.minimum(columns["yhat_lower"], columns["yhat"])
    columns["yhat_upper"] = np.maximum(columns["yhat_upper"], columns["yhat"])
    return pd.DataFrame({"ds": future["ds"].to_numpy(), **columns})[FORECAST_COLUMNS]


def zero_forecast(future: pd.DataFrame) -> pd.DataFrame:
    count = int(future["is_open"].sum())
    zeros = np.zeros(count)
    return finish_forecast(future, zeros, zeros, zeros)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s): {', '.join(missing)}")

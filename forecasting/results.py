"""What forecasting one series gives back, and its JSON form for forecast_runs. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting.frames import FORECAST_COLUMNS

FORMAT = "slotboard-series/1"
METRIC_COLUMNS = [
    "model", "mae", "mase", "mae_ratio", "coverage", "raw_coverage", "interval_scale", "n_points"
]  # fmt: skip
PER_ORIGIN_COLUMNS = ["model", "origin", "mae", "mase", "mae_ratio", "raw_coverage", "n_points"]


@dataclass(frozen=True, eq=False)
class SeriesResult:
    """One series, forecast: the shown forecast is always the backtest's winner's."""

    label: str
    winner: str  # a name in MODELS
    reason: str  # why it won, in a sentence ("" when there was no backtest)
    forecast: pd.DataFrame  # the winner's: ds, yhat, yhat_lower, yhat_upper
    forecasts: dict[str, pd.DataFrame]  # every model that fitted on the whole history
    metrics: pd.DataFrame  # METRIC_COLUMNS; empty when there was no backtest
    per_origin: pd.DataFrame  # PER_ORIGIN_COLUMNS; empty when there was no backtest
    model_json: str | None  # the refitted Prophet (forecasting.models.serialise_model)
    notes: tuple[str, ...]  # plain sentences for the page, e.g. why Prophet isn't shown
    seconds: dict[str, float]  # backtest, fit, predict (the final Prophet), total

    def metrics_json(self) -> dict[str, Any]:
        """JSON-ready backtest summary (forecast_runs.metrics)."""
        return {
            "winner": self.winner,
            "reason": self.reason,
            "notes": list(self.notes),
            "seconds": {key: round(value, 4) for key, value in self.seconds.items()},
            "metrics": records(self.metrics),
            "per_origin": records(self.per_origin),
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-ready everything but the model (forecast_runs.forecast); `from_json`
        reads it back."""
        return {
            "format": FORMAT,
            "label": self.label,
            **self.metrics_json(),
            "forecast": columns_of(self.forecast),
            "forecasts": {name: columns_of(frame) for name, frame in self.forecasts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> SeriesResult:
        """A result saved with `to_json` (model_json stays None: it has its own column)."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} result")
        per_origin = pd.DataFrame(data["per_origin"], columns=PER_ORIGIN_COLUMNS)
        per_origin = _numeric(per_origin.assign(origin=pd.to_datetime(per_origin["origin"])))
        return cls(
            label=data["label"],
            winner=data["winner"],
            reason=data["reason"],
            forecast=frame_of(data["forecast"]),
            forecasts={name: frame_of(cols) for name, cols in data["forecasts"].items()},
            metrics=_numeric(pd.DataFrame(data["metrics"], columns=METRIC_COLUMNS)),
            per_origin=per_origin,
            model_json=None,
            notes=tuple(data["notes"]),
            seconds=dict(data["seconds"]),
        )


def empty_metrics() -> pd.DataFrame:
    return pd.DataFrame(columns=METRIC_COLUMNS)


def empty_per_origin() -> pd.DataFrame:
    return pd.DataFrame(columns=PER_ORIGIN_COLUMNS)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values: timestamps as ISO text, NaN as None."""
    rows = []
    for row in frame.to_dict("records"):
        rows.append({str(key): _plain(value) for key, value in row.items()})
    return rows


def columns_of(forecast: pd.DataFrame) -> dict[str, list[Any]]:
    """A forecast frame column-wise: ds as ISO text, values as floats."""
    return {
        "ds": [stamp.isoformat() for stamp in pd.DatetimeIndex(forecast["ds"])],
        **{name: forecast[name].astype(float).tolist() for name in FORECAST_COLUMNS[1:]},
    }


def frame_of(columns: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame({name: columns[name] for name in FORECAST_COLUMNS})
    frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
    return frame.astype(dict.fromkeys(FORECAST_COLUMNS[1:], float))


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    floats = [c for c in frame.columns if c not in ("model", "origin", "n_points")]
    return frame.astype({**dict.fromkeys(floats, float), "n_points": int})


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value

"""The stored forecasts as an export table: the newest run of every series (the whole
business, each staff member, each service) that `cli.py forecast` or the Peak times page
stored, hour by hour in local time. The export's date filter does not apply: a forecast
is about the weeks after the run. No customer data is involved."""

from __future__ import annotations

import pandas as pd

from data.forecasts import load_latest_forecast_runs
from forecasting.figures import MODEL_NAMES
from forecasting.results import SeriesResult
from reports.exports import ExportSource, ExportTable, register_export

COLUMNS = {
    "scope": "string", "scope_id": "Int64", "series": "string", "model": "string",
    "local_hour": "datetime64[s]", "expected_bookings": "float64",
    "low": "float64", "high": "float64", "forecast_made_at": "datetime64[s]",
}  # fmt: skip


def forecast_table(source: ExportSource) -> pd.DataFrame:
    """One row per forecast hour of each series' newest run (COLUMNS); bookings rounded to
    two decimals; forecast_made_at in UTC (naive)."""
    frames = []
    for run in load_latest_forecast_runs(source.conn, actor=source.actor):
        result = SeriesResult.from_json(run["forecast"])
        forecast = result.forecast
        made_at = pd.Timestamp(run["created_at"])
        if made_at.tzinfo is not None:
            made_at = made_at.tz_convert("UTC").tz_localize(None)
        frames.append(
            pd.DataFrame({
                "scope": run["scope"],
                "scope_id": run["scope_id"],
                "series": result.label,
                "model": MODEL_NAMES.get(result.winner, result.winner),
                "local_hour": forecast["ds"],
                "expected_bookings": forecast["yhat"].round(2),
                "low": forecast["yhat_lower"].round(2),
                "high": forecast["yhat_upper"].round(2),
                "forecast_made_at": made_at,
            })
        )  # fmt: skip
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in COLUMNS.items()})
    return pd.concat(frames, ignore_index=True).astype(COLUMNS)


register_export(
    ExportTable(
        "forecasts", "Forecasts",
        "The newest stored forecast of every series (business, staff, services) by local "
        "hour, with its interval and the model the backtest chose. The date range does not "
        "apply; run Peak times or `cli.py forecast` first.",
        count=lambda s: len(forecast_table(s)),
        chunks=lambda s: [forecast_table(s)],
    )
)  # fmt: skip

"""Plotly figures for the Peak times page. Pure: frames in, go.Figure out; an empty
frame gives a figure that says so instead of an exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting.peaks import WEEKDAYS

#: Model names for tables and legends (forecasting.settings.MODEL_LABELS reads inside sentences).
MODEL_NAMES = {
    "prophet": "Prophet",
    "seasonal_naive": "Same hour last week",
    "hour_of_week_mean": "Hour-of-week average",
}
HEATMAP_BANDS = {
    "yhat": "Expected bookings",
    "yhat_upper": "Busy case (upper bound)",
    "width": "Uncertainty (upper − lower)",
}


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10})


def _styled(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    return fig.update_layout(
        title={"text": title, "font": {"size": 15}}, height=height, hovermode="closest",
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, plot_bgcolor="white",
    )  # fmt: skip


def make_forecast_heatmap(grid: pd.DataFrame, *, band: str = "yhat") -> go.Figure:
    """Weekday rows, local-hour columns (only hours with any demand)."""
    if grid.empty or not grid["yhat"].gt(0).any():
        return _empty("No forecast demand: the business has no open hours in the horizon.")
    frame = grid.assign(width=grid["yhat_upper"] - grid["yhat_lower"])
    hours = sorted(frame.loc[frame["yhat_upper"] > 0, "hour"].unique())
    table = frame.pivot_table(index="weekday", columns="hour", values=band, aggfunc="mean")
    table = table.reindex(index=range(7), columns=hours)
    hover = [
        [f"{WEEKDAYS[d]} {h:02d}:00–{(h + 1) % 24:02d}:00<br>{HEATMAP_BANDS[band]}: {v:.1f}"
         if not np.isnan(v) else f"{WEEKDAYS[d]} {h:02d}:00: closed"
         for h, v in zip(hours, row, strict=True)]
        for d, row in zip(range(7), table.to_numpy(), strict=True)
    ]  # fmt: skip
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(), x=[f"{h:02d}:00" for h in hours], y=list(WEEKDAYS),
            colorscale="Oranges", hoverinfo="text", text=hover, xgap=1, ygap=1,
            colorbar={"title": "per hour"},
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="Local time")
    return _styled(fig, f"{HEATMAP_BANDS[band]} per hour, average over the horizon")


def make_daily_forecast_figure(daily: pd.DataFrame) -> go.Figure:
    """History (line) and the forecast with its band (shaded)."""
    if daily.empty:
        return _empty("No history and no forecast yet.")
    fig = go.Figure()
    ahead = daily.dropna(subset=["yhat"])
    if not ahead.empty:
        fig.add_trace(go.Scatter(
            x=list(ahead["day"]) + list(ahead["day"])[::-1],
            y=list(ahead["yhat_upper"]) + list(ahead["yhat_lower"])[::-1],
            fill="toself", fillcolor="rgba(230,126,34,0.18)", line={"width": 0},
            hoverinfo="skip", name="Interval (daily envelope)",
        ))  # fmt: skip
        fig.add_trace(go.Scatter(
            x=ahead["day"], y=ahead["yhat"], name="Forecast", line={"color": "#E67E22"},
            hovertemplate="%{x|%a %d %b}: %{y:.0f} bookings expected<extra></extra>",
        ))  # fmt: skip
    past = daily.dropna(subset=["actual"])
    fig.add_trace(go.Scatter(
        x=past["day"], y=past["actual"], name="Bookings", line={"color": "#2C6E91"},
        hovertemplate="%{x|%a %d %b}: %{y:.0f} bookings<extra></extra>",
    ))  # fmt: skip
    fig.update_yaxes(title="Bookings per day", rangemode="tozero")
    return _styled(fig, "Bookings per day: recent history and forecast")


def make_backtest_figure(per_origin: pd.DataFrame) -> go.Figure:
    """Mean absolute error per backtest origin, one bar per model."""
    if per_origin.empty:
        return _empty("No backtest: too little history.")
    fig = go.Figure()
    for model, rows in per_origin.groupby("model", sort=False):
        fig.add_trace(go.Bar(
            x=[str(o)[:10] for o in rows["origin"]], y=rows["mae"],
            name=MODEL_NAMES.get(str(model), str(model)),
            hovertemplate="origin %{x}: MAE %{y:.2f} bookings/hour<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="Forecast made on")
    fig.update_yaxes(title="Mean absolute error (bookings per hour)")
    return _styled(fig, "Backtest: error of each model, week by week")


def make_staffing_figure(staffing: pd.DataFrame) -> go.Figure:
    """Average utilization by weekday and hour: demand ÷ scheduled capacity."""
    open_hours = staffing[staffing["capacity_minutes"] > 0]
    if open_hours.empty:
        return _empty("No scheduled hours in the horizon.")
    grid = open_hours.groupby(["weekday", "hour"], as_index=False).agg(
        demand=("demand_minutes", "sum"), capacity=("capacity_minutes", "sum")
    )
    grid["utilization"] = grid["demand"] / grid["capacity"]
    table = grid.pivot_table(index="weekday", columns="hour", values="utilization")
    table = table.reindex(index=range(7))
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy() * 100, x=[f"{h:02d}:00" for h in table.columns],
            y=list(WEEKDAYS), colorscale="RdYlGn_r", zmin=0, zmax=120, xgap=1, ygap=1,
            hovertemplate="%{y} %{x}: %{z:.0f}% of scheduled time booked<extra></extra>",
            colorbar={"title": "%"},
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    return _styled(fig, "Expected demand ÷ scheduled capacity")

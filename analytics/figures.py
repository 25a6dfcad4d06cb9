"""Plotly figures for the Overview page and the HTML report.

Pure: frames shaped as in `analytics.report` in, `go.Figure`s out. Money arrives in
integer cents; it is plotted in major units and hovered with `format_money`. Rates
arrive in 0..1 and are shown as percentages. The KPI cards and tables beside the
figures are in `analytics.display` (`build_kpi_cards` is re-exported here).
Text from the database (staff and service names) is HTML-escaped wherever plotly
renders it as pseudo-HTML (hover text, axis labels). An empty frame gives a figure
with a "No data" note instead of an exception.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from analytics.display import KpiCard as KpiCard
from analytics.display import build_kpi_cards as build_kpi_cards
from analytics.display import format_value
from scheduling.catalog import WEEKDAYS, format_money

Grain = Literal["day", "week", "month"]
NO_DATA = "No data for these filters"
GRAINS: dict[str, str] = {"day": "Day", "week": "Week", "month": "Month"}
TREND_METRICS: dict[str, str] = {
    "bookings": "Bookings", "completed": "Completed visits", "revenue_cents": "Revenue",
    "utilization": "Utilization", "cancelled": "Cancellations", "no_show": "No-shows",
}  # fmt: skip
BOARD_METRICS: dict[str, str] = {
    "bookings": "Bookings", "revenue_cents": "Revenue", "utilization": "Utilization",
    "no_show_rate": "No-show rate",
}  # fmt: skip
HEATMAP_METRICS: dict[str, str] = {"bookings": "Bookings", "utilization": "Utilization"}
_UNITS = {"revenue_cents": "money", "utilization": "percent", "no_show_rate": "percent"}
_PERIODS = {"week": "W-SUN", "month": "M"}  # weeks end on Sunday, so they start on Monday
_SUMMED = ["bookings", "completed", "cancelled", "no_show", "revenue_cents",
           "booked_minutes", "available_minutes"]  # fmt: skip


def _unit(metric: str) -> str:
    return _UNITS.get(metric, "count")


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is zero (never a division by 0)."""
    return numerator.astype(float) / denominator.astype(float).where(denominator > 0)


def _hour_range(hour: int) -> str:
    return f"{hour:02d}:00–{hour + 1:02d}:00"


# --- shared figure helpers -------------------------------------------------------------


def make_empty_figure(message: str = NO_DATA) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(
        text=escape(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
        font={"size": 16},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _styled(fig, "")


def _styled(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": escape(title)}, height=height, hoverlabel={"align": "left"},
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
    )  # fmt: skip
    return fig


def _axis_format(fig: go.Figure, unit: str, currency: str, axis: str = "y") -> None:
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    if unit == "percent":
        update(tickformat=".0%", rangemode="tozero")
    elif unit == "money":
        update(title_text=currency.upper(), tickformat=",.0f", rangemode="tozero")
    else:
        update(rangemode="tozero")


def _plotted(values: pd.Series, unit: str) -> pd.Series:
    """Money is plotted in major units (cents / 100); everything else as it is."""
    return values / 100 if unit == "money" else values


# --- trend -----------------------------------------------------------------------------


def compute_trend(daily: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """The daily frame summed per day, week (from Monday) or month; utilization is
    re-derived as sum(booked) / sum(available), never an average of daily ratios."""
    days = pd.to_datetime(daily["day"])
    period = days if grain == "day" else days.dt.to_period(_PERIODS[grain]).dt.start_time
    sums = daily[_SUMMED].groupby(period.rename("period").to_numpy()).sum()
    sums.index.name = "period"
    sums["utilization"] = _ratio(sums["booked_minutes"], sums["available_minutes"])
    return sums.reset_index()


def _period_label(period: pd.Timestamp, grain: Grain) -> str:
    if grain == "week":
        return f"Week of Mon {period:%d %b %Y}"
    if grain == "month":
        return f"{period:%B %Y}"
    return f"{period:%a %d %b %Y}"


def make_trend_figure(
    daily: pd.DataFrame, *, grain: Grain = "day", metric: str = "bookings", currency: str
) -> go.Figure:
    """Bars per week or month, a line per day, of one `TREND_METRICS` column."""
    if daily.empty:
        return make_empty_figure()
    trend, unit, label = compute_trend(daily, grain), _unit(metric), TREND_METRICS[metric]
    hover = [
        f"{_period_label(p, grain)}<br>{label}: {format_value(v, unit, currency)}"
        for p, v in zip(trend["period"], trend[metric], strict=True)
    ]
    common = {"x": trend["period"], "y": _plotted(trend[metric], unit), "name": label,
              "hovertext": hover, "hoverinfo": "text"}  # fmt: skip
    trace = go.Scatter(mode="lines+markers", **common) if grain == "day" else go.Bar(**common)
    fig = go.Figure(trace)
    _axis_format(fig, unit, currency)
    return _styled(fig, f"{label} per {grain}")


# --- weekday x hour heatmap ------------------------------------------------------------


def make_heatmap_figure(heatmap: pd.DataFrame, *, metric: str = "bookings") -> go.Figure:
    """Weekdays (Monday first) by local hour; only hours with any capacity or bookings."""
    active = heatmap[(heatmap["available_minutes"] > 0) | (heatmap["bookings"] > 0)]
    if active.empty:
        return make_empty_figure()
    hours = sorted(int(h) for h in active["hour"].unique())
    index = pd.MultiIndex.from_product([range(7), hours], names=["weekday", "hour"])
    grid = heatmap.set_index(["weekday", "hour"]).reindex(index).fillna(0)
    counts = grid["bookings"].astype(int)
    util = _ratio(grid["booked_minutes"], grid["available_minutes"])
    hover = [
        f"{WEEKDAYS[day]} {_hour_range(hour)}<br>Bookings: {counts[(day, hour)]:,}"
        f"<br>Utilization: {format_value(util[(day, hour)], 'percent', '')}"
        for day, hour in index
    ]
    z = counts if metric == "bookings" else util
    shape = (7, len(hours))
    trace = go.Heatmap(
        z=z.to_numpy().reshape(shape), x=[f"{h:02d}:00" for h in hours], y=list(WEEKDAYS),
        hovertext=pd.Series(hover).to_numpy().reshape(shape).tolist(), hoverinfo="text",
        colorscale="Blues", zmin=0,
        colorbar={"tickformat": ".0%" if metric == "utilization" else ",d"}, xgap=1, ygap=1,
    )  # fmt: skip
    fig = go.Figure(trace)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", title_text="Local time")
    return _styled(fig, f"{HEATMAP_METRICS[metric]} by weekday and hour")


# --- leaderboards ----------------------------------------------------------------------


def _labels(board: pd.DataFrame, name_column: str, id_column: str) -> list[str]:
    """Escaped names; a name two rows share gets its id, so bars never merge."""
    names = board[name_column].astype(str)
    twice = names.duplicated(keep=False)
    return [
        escape(f"{name} (#{key})" if dup else name)
        for name, key, dup in zip(names, board[id_column], twice, strict=True)
    ]


def _board_hover(row: dict[str, Any], label: str, currency: str) -> str:
    lines = [f"<b>{label}</b>"]
    if row.get("category"):
        lines.append(escape(str(row["category"])))
    lines += [
        f"Bookings: {row['bookings']:,} ({row['completed']:,} completed)",
        f"Revenue: {format_value(row['revenue_cents'], 'money', currency)}",
        f"Utilization: {format_value(row['utilization'], 'percent', currency)}",
        f"No-show rate: {format_value(row['no_show_rate'], 'percent', currency)}",
    ]
    return "<br>".join(lines)


def make_leaderboard_figure(
    board: pd.DataFrame, *, kind: Literal["staff", "service"], metric: str, currency: str
) -> go.Figure:
    """Horizontal bars of one `BOARD_METRICS` column, the best at the top."""
    if board.empty:
        return make_empty_figure()
    ordered = board.sort_values(metric, ascending=True, na_position="first")
    labels = _labels(ordered, kind, f"{kind}_id")
    unit = _unit(metric)
    hover = [
        _board_hover(row, label, currency)
        for row, label in zip(ordered.to_dict("records"), labels, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=_plotted(ordered[metric], unit), y=labels, orientation="h",
            hovertext=hover, hoverinfo="text", name=BOARD_METRICS[metric],
        )
    )  # fmt: skip
    fig.update_yaxes(type="category")
    _axis_format(fig, unit, currency, axis="x")
    title = f"{'Staff' if kind == 'staff' else 'Services'} by {BOARD_METRICS[metric].lower()}"
    return _styled(fig, title, height=max(260, 40 + 28 * len(ordered)))


def make_staff_board_figure(board: pd.DataFrame, *, metric: str, currency: str) -> go.Figure:
    return make_leaderboard_figure(board, kind="staff", metric=metric, currency=currency)


def make_service_board_figure(board: pd.DataFrame, *, metric: str, currency: str) -> go.Figure:
    return make_leaderboard_figure(board, kind="service", metric=metric, currency=currency)


# --- cohorts ---------------------------------------------------------------------------


def make_cohort_figure(cohorts: pd.DataFrame) -> go.Figure:
    """Retention % by first-visit month (rows, oldest first) and months since (columns)."""
    if cohorts.empty:
        return make_empty_figure()
    retention = cohorts.pivot(index="cohort", columns="months_since", values="retention")
    returned = cohorts.pivot(index="cohort", columns="months_since", values="customers")
    sizes = cohorts.groupby("cohort")["size"].max()
    text, hover = [], []
    for cohort in retention.index:
        cells = [(m, retention.at[cohort, m], returned.at[cohort, m]) for m in retention.columns]
        text.append(["" if pd.isna(r) else f"{r:.0%}" for _, r, _ in cells])
        hover.append(
            [
                f"Cohort {cohort} ({sizes[cohort]:,} customers)<br>Month {m}: "
                + ("—" if pd.isna(r) else f"{r:.1%} ({int(n):,} came back)")
                for m, r, n in cells
            ]
        )
    trace = go.Heatmap(
        z=retention.to_numpy(dtype=float), x=[f"+{m}" for m in retention.columns],
        y=list(retention.index), text=text, texttemplate="%{text}", hovertext=hover,
        hoverinfo="text", colorscale="Greens", zmin=0, zmax=1, colorbar={"tickformat": ".0%"},
    )  # fmt: skip
    fig = go.Figure(trace)
    fig.update_yaxes(autorange="reversed", type="category", title_text="First visit")
    fig.update_xaxes(type="category", title_text="Months since first visit")
    return _styled(fig, "Cohort retention", height=max(300, 80 + 26 * len(retention)))


# --- revenue at risk -------------------------------------------------------------------


def make_revenue_at_risk_figure(revenue_at_risk: pd.DataFrame, *, currency: str) -> go.Figure:
    """Per kind, the value of lost slots split into refilled and still at risk."""
    if revenue_at_risk.empty or not revenue_at_risk["value_cents"].sum():
        return make_empty_figure("No data: no cancelled or no-show slots in this range")
    frame = revenue_at_risk
    labels = [escape(str(label)) for label in frame["label"]]
    hover = [
        f"<b>{label}</b><br>{int(row['appointments']):,} appointments worth "
        f"{format_money(int(row['value_cents']), currency)}<br>{int(row['refilled']):,} refilled"
        f"<br>At risk: {format_money(int(row['at_risk_cents']), currency)}"
        for label, row in zip(labels, frame.to_dict("records"), strict=True)
    ]
    refilled = (frame["value_cents"] - frame["at_risk_cents"]).clip(lower=0)
    fig = go.Figure(
        [
            go.Bar(x=labels, y=frame["at_risk_cents"] / 100, name="At risk",
                   hovertext=hover, hoverinfo="text"),
            go.Bar(x=labels, y=refilled / 100, name="Refilled", hovertext=hover,
                   hoverinfo="text"),
        ]
    )  # fmt: skip
    fig.update_layout(barmode="stack")
    _axis_format(fig, "money", currency)
    return _styled(fig, "Revenue at risk")

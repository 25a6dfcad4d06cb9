"""Overview figures, KPI cards and display tables from tiny hand-made frames."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import display, figures
from analytics.report import ReportFilter

DAILY_COLUMNS = ["day", "bookings", "completed", "cancelled", "no_show", "revenue_cents",
                 "booked_minutes", "available_minutes", "utilization"]  # fmt: skip
HEATMAP_COLUMNS = ["weekday", "hour", "bookings", "booked_minutes", "available_minutes",
                   "utilization"]  # fmt: skip
STAFF_COLUMNS = ["staff_id", "staff", "bookings", "completed", "revenue_cents",
                 "booked_minutes", "available_minutes", "utilization", "no_show_rate"]  # fmt: skip
COHORT_COLUMNS = ["cohort", "months_since", "customers", "size", "retention"]
RISK_COLUMNS = ["kind", "label", "appointments", "value_cents", "refilled", "at_risk_cents"]
KPI_COLUMNS = ["key", "label", "value", "previous", "change", "unit", "better"]


def _daily(rows: list[tuple[str, int, int, int, int]]) -> pd.DataFrame:
    """(day, bookings, revenue_cents, booked_minutes, available_minutes) per row."""
    frame = pd.DataFrame(
        [
            {"day": pd.Timestamp(day), "bookings": b, "completed": b, "cancelled": 0,
             "no_show": 0, "revenue_cents": rev, "booked_minutes": booked,
             "available_minutes": avail, "utilization": booked / avail if avail else math.nan}
            for day, b, rev, booked, avail in rows
        ]
    )  # fmt: skip
    return frame[DAILY_COLUMNS]


def _heatmap(cells: dict[tuple[int, int], tuple[int, float, float]]) -> pd.DataFrame:
    """A full 7 x 24 frame; `cells` maps (weekday, hour) -> (bookings, booked, available)."""
    rows = []
    for weekday in range(7):
        for hour in range(24):
            b, booked, avail = cells.get((weekday, hour), (0, 0.0, 0.0))
            util = booked / avail if avail else math.nan
            rows.append((weekday, hour, b, booked, avail, util))
    return pd.DataFrame(rows, columns=HEATMAP_COLUMNS)


def _staff_board() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (1, "Anna", 10, 9, 45000, 450.0, 900.0, 0.5, 0.1),
            (2, "<script>alert(1)</script>", 4, 3, 123450, 180.0, 600.0, 0.3, 0.25),
            (3, "Ben", 0, 0, 0, 0.0, 0.0, math.nan, math.nan),
        ],
        columns=STAFF_COLUMNS,
    )


def _annotations(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# --- trend -------------------------------------------------------------------------------


def test_weekly_utilization_is_sum_over_sum_not_mean_of_ratios() -> None:
    # Mon 100 % of 60 min, Tue 0 % of 540 min: mean of ratios 50 %, the truth is 10 %.
    daily = _daily([("2025-03-03", 1, 0, 60, 60), ("2025-03-04", 0, 0, 0, 540)])
    trend = figures.compute_trend(daily, "week")
    assert trend["utilization"].tolist() == [pytest.approx(0.1)]
    fig = figures.make_trend_figure(daily, grain="week", metric="utilization", currency="EUR")
    assert list(fig.data[0].y) == [pytest.approx(0.1)]
    assert "Utilization: 10.0%" in fig.data[0].hovertext[0]


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    daily = _daily(
        [("2025-03-02", 1, 0, 0, 0), ("2025-03-03", 2, 0, 0, 0), ("2025-03-09", 3, 0, 0, 0),
         ("2025-04-01", 4, 0, 0, 0)]
    )  # fmt: skip
    weeks = figures.compute_trend(daily, "week")
    assert weeks["period"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-02-24", "2025-03-03", "2025-03-31",
    ]  # fmt: skip
    assert weeks["bookings"].tolist() == [1, 5, 4]
    months = figures.compute_trend(daily, "month")
    assert months["bookings"].tolist() == [6, 4]
    assert math.isnan(months["utilization"][0])  # no capacity: NaN, not a division by zero
    fig = figures.make_trend_figure(daily, grain="month", metric="bookings", currency="EUR")
    assert isinstance(fig.data[0], go.Bar)
    assert fig.data[0].hovertext[0] == "March 2025<br>Bookings: 6"


def test_trend_hover_shows_money_in_the_business_currency() -> None:
    daily = _daily([("2025-03-03", 3, 123450, 0, 0), ("2025-03-04", 1, 5000, 0, 0)])
    fig = figures.make_trend_figure(daily, grain="day", metric="revenue_cents", currency="EUR")
    assert list(fig.data[0].y) == [1234.5, 50.0]  # plotted in major units
    assert fig.data[0].hovertext[0] == "Mon 03 Mar 2025<br>Revenue: €1,234.50"
    sek = figures.make_trend_figure(daily, grain="week", metric="revenue_cents", currency="SEK")
    assert sek.data[0].hovertext[0] == "Week of Mon 03 Mar 2025<br>Revenue: 1,284.50 SEK"


# --- heatmap -----------------------------------------------------------------------------


def test_heatmap_rows_are_weekdays_and_columns_only_active_hours() -> None:
    heatmap = _heatmap({(0, 10): (3, 90.0, 120.0), (4, 14): (0, 0.0, 60.0), (6, 20): (1, 30, 0)})
    fig = figures.make_heatmap_figure(heatmap, metric="bookings")
    trace = fig.data[0]
    assert list(trace.y) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                             "Saturday", "Sunday"]  # fmt: skip
    assert list(trace.x) == ["10:00", "14:00", "20:00"]
    assert trace.z[0][0] == 3 and trace.z[6][2] == 1
    assert trace.hovertext[0][0] == "Monday 10:00–11:00<br>Bookings: 3<br>Utilization: 75.0%"
    assert "Sunday 20:00–21:00" in trace.hovertext[6][2]
    util = figures.make_heatmap_figure(heatmap, metric="utilization").data[0]
    assert util.z[0][0] == pytest.approx(0.75) and util.z[4][1] == 0.0
    assert math.isnan(util.z[6][2])  # bookings without capacity: no ratio, no crash


# --- leaderboards, cohorts, revenue at risk ---------------------------------------------


def test_staff_leaderboard_escapes_names_and_formats_money() -> None:
    fig = figures.make_staff_board_figure(_staff_board(), metric="revenue_cents", currency="GBP")
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y)[-1] == "&lt;script&gt;alert(1)&lt;/script&gt;"  # the best is on top
    assert list(bar.x) == [0.0, 450.0, 1234.5]
    hover = bar.hovertext[-1]
    assert "<script>" not in hover
    assert "Revenue: £1,234.50" in hover and "No-show rate: 25.0%" in hover
    assert "Utilization: —" in bar.hovertext[0]  # Ben: no capacity


def test_leaderboard_keeps_namesakes_apart() -> None:
    board = _staff_board().assign(staff=["Anna", "Anna", "Ben"])
    fig = figures.make_staff_board_figure(board, metric="bookings", currency="EUR")
    assert set(fig.data[0].y) == {"Anna (#1)", "Anna (#2)", "Ben"}


def test_cohort_figure_shows_retention_percentages() -> None:
    cohorts = pd.DataFrame(
        [("2025-01", 0, 10, 10, 1.0), ("2025-01", 1, 4, 10, 0.4), ("2025-02", 0, 5, 5, 1.0)],
        columns=COHORT_COLUMNS,
    )
    trace = figures.make_cohort_figure(cohorts).data[0]
    assert list(trace.y) == ["2025-01", "2025-02"] and list(trace.x) == ["+0", "+1"]
    assert trace.z[0][1] == pytest.approx(0.4) and math.isnan(trace.z[1][1])
    assert trace.hovertext[0][1] == "Cohort 2025-01 (10 customers)<br>Month 1: 40.0% (4 came back)"
    table = display.build_cohort_table(cohorts)
    assert table.to_dict("records") == [
        {"Cohort": "2025-01", "Customers": 10, "Month 0": "100.0%", "Month 1": "40.0%"},
        {"Cohort": "2025-02", "Customers": 5, "Month 0": "100.0%", "Month 1": ""},
    ]


def _risk() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("cancelled", "Cancelled (24 h or more ahead)", 5, 25000, 2, 15000),
            ("late_cancelled", "Late cancellations", 2, 10000, 0, 10000),
            ("no_show", "No-shows", 1, 4550, 0, 4550),
        ],
        columns=RISK_COLUMNS,
    )


def test_revenue_at_risk_figure_and_summary() -> None:
    fig = figures.make_revenue_at_risk_figure(_risk(), currency="EUR")
    at_risk, refilled = fig.data
    assert list(at_risk.y) == [150.0, 100.0, 45.5] and list(refilled.y) == [100.0, 0.0, 0.0]
    assert at_risk.hovertext[0] == (
        "<b>Cancelled (24 h or more ahead)</b><br>5 appointments worth €250.00"
        "<br>2 refilled<br>At risk: €150.00"
    )
    summary = display.build_revenue_at_risk_summary(_risk(), currency="EUR")
    assert summary == "€295.50 of cancelled and no-show bookings were not refilled."
    zero = _risk().assign(value_cents=0, at_risk_cents=0, appointments=0)
    assert _annotations(figures.make_revenue_at_risk_figure(zero, currency="EUR"))[0].startswith(
        "No data"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: figures.make_trend_figure(
            pd.DataFrame(columns=DAILY_COLUMNS), grain="week", metric="utilization", currency="EUR"
        ),
        lambda: figures.make_heatmap_figure(_heatmap({}), metric="utilization"),
        lambda: figures.make_heatmap_figure(pd.DataFrame(columns=HEATMAP_COLUMNS)),
        lambda: figures.make_staff_board_figure(
            pd.DataFrame(columns=STAFF_COLUMNS), metric="bookings", currency="EUR"
        ),
        lambda: figures.make_cohort_figure(pd.DataFrame(columns=COHORT_COLUMNS)),
        lambda: figures.make_revenue_at_risk_figure(
            pd.DataFrame(columns=RISK_COLUMNS), currency="EUR"
        ),
    ],
    ids=["trend", "heatmap-no-capacity", "heatmap-empty", "staff", "cohorts", "risk"],
)
def test_empty_frames_give_a_no_data_figure(make) -> None:  # type: ignore[no-untyped-def]
    fig = make()
    assert isinstance(fig, go.Figure)
    assert not fig.data
    assert _annotations(fig) == [figures.NO_DATA] or _annotations(fig)[0].startswith("No data")


# --- KPI cards and tables ----------------------------------------------------------------


def _kpis() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("bookings", "Bookings", 120, 100, 0.2, "count", "up"),
            ("revenue", "Revenue", 543210, 600000, -0.09465, "money", "up"),
            ("no_show_rate", "No-show rate", 0.05, 0.08, -0.03, "percent", "down"),
            ("avg_lead_time", "Average lead time", 3.25, 0.0, math.nan, "days", "up"),
            ("rebooking_rate", "Rebooking rate", math.nan, math.nan, math.nan, "percent", "up"),
        ],
        columns=KPI_COLUMNS,
    )


def test_kpi_cards_format_values_deltas_and_colours() -> None:
    cards = {card.key: card for card in display.build_kpi_cards(_kpis(), "EUR")}
    assert list(cards) == ["bookings", "revenue", "no_show_rate", "avg_lead_time",
                           "rebooking_rate"]  # fmt: skip
    assert (cards["bookings"].value, cards["bookings"].delta) == ("120", "+20.0%")
    assert cards["bookings"].delta_color == "normal"
    assert (cards["revenue"].value, cards["revenue"].delta) == ("€5,432.10", "-9.5%")
    no_show = cards["no_show_rate"]
    assert (no_show.value, no_show.delta, no_show.delta_color) == ("5.0%", "-3.0 pp", "inverse")
    lead = cards["avg_lead_time"]
    assert (lead.value, lead.delta, lead.delta_color) == ("3.2 days", None, "off")
    assert cards["rebooking_rate"].value == "—"
    for key, card in cards.items():
        assert card.help and card.help == display.KPI_DEFINITIONS[key]
    assert figures.build_kpi_cards is display.build_kpi_cards


def test_kpi_table_and_board_table_are_formatted_text() -> None:
    kpi_table = display.build_kpi_table(_kpis(), "USD")
    assert kpi_table.iloc[1].tolist() == ["Revenue", "$5,432.10", "$6,000.00", "-9.5%"]
    board = display.build_board_table(_staff_board(), kind="staff", currency="EUR")
    assert board["Staff"].tolist() == ["Anna", "<script>alert(1)</script>", "Ben"]
    assert board.iloc[1][["Revenue", "Utilization", "No-show rate"]].tolist() == [
        "€1,234.50", "30.0%", "25.0%",
    ]  # fmt: skip
    assert board.iloc[2]["Utilization"] == "—"


def test_empty_message_says_what_to_change() -> None:
    plain = ReportFilter(date(2025, 3, 1), date(2025, 3, 31))
    assert display.build_empty_message(plain) == (
        "No bookings in 01 Mar 2025 – 31 Mar 2025. Pick a wider date range."
    )
    filtered = ReportFilter(date(2025, 3, 1), date(2025, 3, 31), staff_ids=(2,))
    assert "Clear a filter" in display.build_empty_message(filtered)

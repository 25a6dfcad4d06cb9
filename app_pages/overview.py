"""Overview (owner, analyst): KPIs against the previous period, trend, busy times,
leaderboards, cohort retention and revenue at risk. Shaping lives in analytics/."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from analytics import display, figures
from analytics.report import Overview, ReportFilter, ReportRangeError
from auth.roles import Permission
from reports.overview import DEFAULT_REBOOK_DAYS
from scheduling.timezones import local_today
from ui.analytics_data import load_filter_options, load_overview, read_analytics_version
from ui.session import current_business, get_engine, require_permission

DEFAULT_DAYS = 30


def render_kpi_cards(cards: list[display.KpiCard]) -> None:
    for first in range(0, len(cards), 4):
        for column, card in zip(st.columns(4), cards[first : first + 4], strict=False):
            column.metric(
                card.label, card.value, card.delta, delta_color=card.delta_color,
                help=card.help or None, border=True,
            )  # fmt: skip


def render_trend(overview: Overview) -> None:
    st.subheader("Trend")
    left, right = st.columns([1, 2])
    grain = left.segmented_control(
        "Per", list(figures.GRAINS), format_func=figures.GRAINS.get, default="day",
        required=True, key="ov_grain",
    )  # fmt: skip
    metric = right.selectbox(
        "Metric", list(figures.TREND_METRICS), format_func=figures.TREND_METRICS.get,
        key="ov_trend_metric",
    )  # fmt: skip
    fig = figures.make_trend_figure(
        overview.daily, grain=grain or "day", metric=metric, currency=overview.currency
    )
    st.plotly_chart(fig, key="ov_trend_chart")


def render_heatmap(overview: Overview) -> None:
    st.subheader("Busy times")
    metric = st.segmented_control(
        "Show", list(figures.HEATMAP_METRICS), format_func=figures.HEATMAP_METRICS.get,
        default="bookings", required=True, key="ov_heat_metric",
    )  # fmt: skip
    fig = figures.make_heatmap_figure(overview.heatmap, metric=metric or "bookings")
    st.plotly_chart(fig, key="ov_heatmap_chart")
    st.caption(f"Weekday and hour in the business's time zone ({overview.timezone}).")


def render_leaderboards(overview: Overview) -> None:
    st.subheader("Leaderboards")
    metric = st.selectbox(
        "Rank by", list(figures.BOARD_METRICS), format_func=figures.BOARD_METRICS.get,
        key="ov_board_metric",
    )  # fmt: skip
    staff_tab, service_tab = st.tabs(["Staff", "Services"])
    for tab, kind, board in (
        (staff_tab, "staff", overview.staff_board),
        (service_tab, "service", overview.service_board),
    ):
        fig = figures.make_leaderboard_figure(
            board, kind=kind, metric=metric, currency=overview.currency
        )
        tab.plotly_chart(fig, key=f"ov_{kind}_chart")
        table = display.build_board_table(board, kind=kind, currency=overview.currency)
        tab.dataframe(table, hide_index=True, key=f"ov_{kind}_table")


def render_retention_and_risk(overview: Overview) -> None:
    st.subheader("Cohort retention")
    st.caption("Customers by the month of their first visit, and the share who came back.")
    st.plotly_chart(figures.make_cohort_figure(overview.cohorts), key="ov_cohort_chart")
    with st.expander("Retention table"):
        st.dataframe(display.build_cohort_table(overview.cohorts), hide_index=True)
    st.subheader("Revenue at risk")
    risk, currency = overview.revenue_at_risk, overview.currency
    st.markdown(display.build_revenue_at_risk_summary(risk, currency=currency))
    st.plotly_chart(figures.make_revenue_at_risk_figure(risk, currency=currency), key="ov_risk")
    st.dataframe(display.build_revenue_at_risk_table(risk, currency=currency), hide_index=True)


actor = require_permission(Permission.VIEW_ANALYTICS)
business = current_business(actor)
engine, today = get_engine(), local_today(business["timezone"])
version = read_analytics_version(actor, engine)
options = load_filter_options(actor, engine, version=version)

st.title("Overview")
top = st.columns([2, 2, 2, 1])
period = top[0].date_input(
    "Dates", value=(today - timedelta(days=DEFAULT_DAYS - 1), today), key="ov_dates"
)
staff_ids = top[1].multiselect(
    "Staff", list(options.staff), format_func=options.staff.get, key="ov_staff"
)
service_ids = top[2].multiselect(
    "Services", list(options.services), format_func=options.services.get, key="ov_services"
)
rebook_days = top[3].number_input(
    "Rebooking window (days)", min_value=1, max_value=365, value=DEFAULT_REBOOK_DAYS, step=1,
    key="ov_rebook",
    help="A visit counts as rebooked when the customer books again within this many days.",
)  # fmt: skip
if not isinstance(period, tuple) or len(period) != 2:
    st.info("Pick an end date too: the Overview covers a range of days.")
    st.stop()
try:
    filters = ReportFilter(period[0], period[1], tuple(staff_ids), tuple(service_ids))
except ReportRangeError as exc:
    st.error(str(exc))
    st.stop()

overview = load_overview(actor, engine, filters, int(rebook_days), version=version)
if not overview.has_bookings:
    st.info(display.build_empty_message(filters))
    st.stop()
previous = filters.previous()
st.caption(f"Compared with {previous.start:%d %b %Y} – {previous.end:%d %b %Y}.")
render_kpi_cards(display.build_kpi_cards(overview.kpis, overview.currency))
for note in overview.notes:
    st.caption(note)
render_trend(overview)
render_heatmap(overview)
render_leaderboards(overview)
render_retention_and_risk(overview)

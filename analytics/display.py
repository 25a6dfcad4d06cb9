"""Display text for the Overview page and the HTML report: KPI cards and formatted tables.

Pure: frames shaped as in `analytics.report` in, dataclasses, strings and display frames
out. Money arrives in integer cents and is shown with `format_money`; rates arrive in
0..1 and are shown as percentages; a missing value (NaN: the denominator was zero) is
shown as "—". Names from the database are left as written: `st.dataframe` shows text
literally and the HTML report escapes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from analytics.kpis import KPI_DEFINITIONS
from analytics.report import ReportFilter
from scheduling.catalog import format_money

DeltaColor = Literal["normal", "inverse", "off"]
MISSING = "—"
_DELTA_COLORS: dict[str, DeltaColor] = {"up": "normal", "down": "inverse"}


@dataclass(frozen=True)
class KpiCard:
    """One `st.metric`: label, value text, delta text (None: no comparison) and help."""

    key: str
    label: str
    value: str
    delta: str | None
    delta_color: DeltaColor
    help: str


def _missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def format_value(value: Any, unit: str, currency: str) -> str:
    """A KPI or cell value: unit count | money (cents) | percent (0..1) | days | hours | ratio."""
    if _missing(value) or pd.isna(value):
        return MISSING
    if unit == "money":
        return format_money(round(value), currency)
    if unit == "percent":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{round(value):,}"


def format_delta(change: Any, unit: str) -> str | None:
    """Percentage points for percent KPIs (change = value - previous), else relative
    change; None when there is nothing to compare with (NaN or infinite change)."""
    if _missing(change) or pd.isna(change):
        return None
    if unit == "percent":
        return f"{change * 100:+.1f} pp"
    return f"{change:+.1%}"


def build_kpi_cards(kpis: pd.DataFrame, currency: str) -> list[KpiCard]:
    """One card per KPI row, in display order; the help text is the KPI's definition.
    The delta is green when it moves the `better` way ("up" or "down"), grey otherwise."""
    cards = []
    for row in kpis.to_dict("records"):
        delta = format_delta(row["change"], row["unit"])
        color: DeltaColor = _DELTA_COLORS.get(row["better"], "off") if delta else "off"
        value = format_value(row["value"], row["unit"], currency)
        help_text = KPI_DEFINITIONS.get(row["key"], "")
        cards.append(KpiCard(row["key"], row["label"], value, delta, color, help_text))
    return cards


def build_kpi_table(kpis: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The KPI cards as a table: KPI, value, previous period, change."""
    cards = build_kpi_cards(kpis, currency)
    previous = [
        format_value(v, u, currency) for v, u in zip(kpis["previous"], kpis["unit"], strict=True)
    ]
    return pd.DataFrame(
        {
            "KPI": [card.label for card in cards],
            "Value": [card.value for card in cards],
            "Previous period": previous,
            "Change": [card.delta or MISSING for card in cards],
        }
    )


def build_empty_message(filters: ReportFilter) -> str:
    """What to change when the period holds no bookings."""
    period = f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}"
    if filters.staff_ids or filters.service_ids:
        return (
            f"No bookings match the staff and service filters in {period}. "
            "Clear a filter or pick a wider date range."
        )
    return f"No bookings in {period}. Pick a wider date range."


def build_board_table(
    board: pd.DataFrame, *, kind: Literal["staff", "service"], currency: str
) -> pd.DataFrame:
    """Leaderboard rows as text, most bookings first."""
    ordered = board.sort_values(["bookings", "revenue_cents"], ascending=False)
    table = pd.DataFrame({"Staff" if kind == "staff" else "Service": ordered[kind]})
    if kind == "service":
        table["Category"] = ordered["category"].fillna("")
    table["Bookings"] = ordered["bookings"].astype(int)
    table["Completed"] = ordered["completed"].astype(int)
    for column, source, unit in [
        ("Revenue", "revenue_cents", "money"),
        ("Utilization", "utilization", "percent"),
        ("No-show rate", "no_show_rate", "percent"),
    ]:
        table[column] = [format_value(v, unit, currency) for v in ordered[source]]
    return table.reset_index(drop=True)


def build_cohort_table(cohorts: pd.DataFrame) -> pd.DataFrame:
    """One row per cohort (oldest first): its size, then retention per month since."""
    if cohorts.empty:
        return pd.DataFrame(columns=["Cohort", "Customers"])
    retention = cohorts.pivot(index="cohort", columns="months_since", values="retention")
    table = retention.apply(lambda col: col.map(lambda r: "" if pd.isna(r) else f"{r:.1%}"))
    table.columns = [f"Month {m}" for m in retention.columns]
    table.insert(0, "Customers", cohorts.groupby("cohort")["size"].max().astype(int))
    return table.rename_axis("Cohort").reset_index()


def build_revenue_at_risk_table(revenue_at_risk: pd.DataFrame, *, currency: str) -> pd.DataFrame:
    frame = revenue_at_risk
    return pd.DataFrame(
        {
            "Kind": frame["label"].tolist(),
            "Appointments": frame["appointments"].astype(int).tolist(),
            "Value": [format_money(int(v), currency) for v in frame["value_cents"]],
            "Refilled": frame["refilled"].astype(int).tolist(),
            "At risk": [format_money(int(v), currency) for v in frame["at_risk_cents"]],
        }
    )


def build_revenue_at_risk_summary(revenue_at_risk: pd.DataFrame, *, currency: str) -> str:
    """One sentence for the total (the kinds are disjoint: early and late cancellations
    and no-shows)."""
    total = format_money(int(revenue_at_risk["at_risk_cents"].sum()), currency)
    return f"{total} of cancelled and no-show bookings were not refilled."

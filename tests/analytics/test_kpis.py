"""KPI arithmetic, definitions written once, and README's metrics table kept in step."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analytics.kpis import KPI_DEFINITIONS, KPI_SPECS, SUM_COLUMNS, build_kpis, compute_change

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_kpi_has_a_definition_and_readme_repeats_it_verbatim() -> None:
    assert set(KPI_DEFINITIONS) == set(KPI_SPECS)
    readme = README.read_text(encoding="utf-8")
    for key, definition in KPI_DEFINITIONS.items():
        label = KPI_SPECS[key][0]
        assert f"| {label} (`{key}`) | {definition} |" in readme, key


def test_changes_are_points_for_rates_and_relative_otherwise() -> None:
    assert compute_change(0.30, 0.25, "percent") == pytest.approx(0.05)
    assert compute_change(150, 100, "count") == pytest.approx(0.5)
    assert math.isnan(compute_change(5, 0, "count"))
    assert math.isnan(compute_change(math.nan, 0.2, "percent"))


def _summary(current: dict, previous: dict) -> pd.DataFrame:
    rows = [dict.fromkeys(SUM_COLUMNS, 0) | previous | {"current": False}]
    rows.append(dict.fromkeys(SUM_COLUMNS, 0) | current | {"current": True})
    return pd.DataFrame(rows)


def test_kpis_from_totals() -> None:
    summary = _summary(
        {"bookings": 10, "completed": 6, "no_show": 2, "cancelled": 2, "late_cancelled": 1,
         "revenue_cents": 30000, "booked_minutes": 480.0, "lead_minutes": 10 * 1440.0},
        {"bookings": 4, "completed": 4, "revenue_cents": 10000, "booked_minutes": 240.0},
    )  # fmt: skip
    mix = pd.DataFrame(
        {"current": [True, False], "visits": [6, 4], "rebooked": [3, 1],
         "customers": [5, 3], "new_customers": [2, 0]}
    )  # fmt: skip
    kpis = build_kpis(summary, mix, {True: 960.0, False: 960.0}).set_index("key")
    value = kpis["value"]
    assert value["utilization"] == pytest.approx(0.5)
    assert value["no_show_rate"] == pytest.approx(2 / 8)
    assert value["cancellation_rate"] == pytest.approx(0.2)
    assert value["late_cancellation_rate"] == pytest.approx(0.1)
    assert value["returning_customers"] == 3 and value["new_customers"] == 2
    assert value["rebooking_rate"] == pytest.approx(0.5)
    assert value["avg_lead_time"] == pytest.approx(1.0)
    assert value["avg_ticket"] == pytest.approx(5000)
    assert kpis.loc["revenue", "change"] == pytest.approx(2.0)
    assert kpis.loc["no_show_rate", "previous"] == 0
    assert kpis.loc["no_show_rate", "better"] == "down"


def test_nothing_to_count_gives_nan_rates_not_errors() -> None:
    empty = pd.DataFrame(columns=["current", *SUM_COLUMNS])
    mix = pd.DataFrame({"current": [True, False], "visits": 0, "rebooked": 0,
                        "customers": 0, "new_customers": 0})  # fmt: skip
    kpis = build_kpis(empty, mix, {}).set_index("key")
    assert kpis.loc["bookings", "value"] == 0
    for key in ("utilization", "no_show_rate", "cancellation_rate", "avg_ticket", "avg_lead_time"):
        assert math.isnan(kpis.loc[key, "value"]), key

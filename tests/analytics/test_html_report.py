"""The offline HTML report: self-contained, plotly.js once, every database text escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pandas as pd
from plotly.offline import get_plotlyjs

from analytics.html_report import build_html_report
from analytics.report import Overview, ReportFilter
from tests.analytics.test_figures import (
    COHORT_COLUMNS,
    DAILY_COLUMNS,
    HEATMAP_COLUMNS,
    KPI_COLUMNS,
    RISK_COLUMNS,
    STAFF_COLUMNS,
    _daily,
    _heatmap,
    _kpis,
    _risk,
    _staff_board,
)

EVIL = "<script>alert('x')</script>"
SERVICE_COLUMNS = ["service_id", "service", "category", "bookings", "completed",
                   "revenue_cents", "booked_minutes", "utilization", "no_show_rate"]  # fmt: skip


def sample_overview(**changes: object) -> Overview:
    filters = ReportFilter(date(2025, 3, 3), date(2025, 3, 9), staff_ids=(2,))
    overview = Overview(
        business_name=f"Salon {EVIL} & Co",
        timezone="Europe/Berlin",
        currency="EUR",
        filters=filters,
        rebook_days=30,
        kpis=_kpis(),
        daily=_daily([("2025-03-03", 3, 13500, 135, 480), ("2025-03-04", 2, 9000, 90, 480)]),
        heatmap=_heatmap({(0, 10): (2, 90.0, 120.0), (1, 11): (3, 135.0, 180.0)}),
        staff_board=_staff_board(),
        service_board=pd.DataFrame(
            [(7, f"Cut {EVIL}", f"Hair {EVIL}", 5, 4, 22500, 225.0, 0.25, 0.2)],
            columns=SERVICE_COLUMNS,
        ),
        cohorts=pd.DataFrame(
            [("2025-01", 0, 10, 10, 1.0), ("2025-01", 2, 3, 10, 0.3)], columns=COHORT_COLUMNS
        ),  # fmt: skip
        revenue_at_risk=_risk(),
        notes=(f"Note about {EVIL}",),
    )
    return replace(overview, **changes)  # type: ignore[arg-type]


class _Links(HTMLParser):
    """Every tag and its src/href as the browser would load it (script text is not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"
        self.urls += [value or "" for name, value in attrs if name in {"src", "href"}]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser


def test_report_is_self_contained_with_plotly_js_inlined_once() -> None:
    html = build_html_report(sample_overview())
    plotly_js = get_plotlyjs()
    assert html.count(plotly_js[:500]) == 1  # the library's header, exactly once
    assert html.count(plotly_js[-500:]) == 1
    parsed = _parse(html)
    assert not [u for u in parsed.urls if u.lower().startswith(("http://", "https://", "//"))]
    assert "link" not in parsed.tags  # no stylesheets or fonts from anywhere
    assert "@import" not in html and "fonts.googleapis" not in html
    scripts = [t for t in parsed.tags if t == "script"]
    assert len(scripts) >= 10  # plotly.js plus one per figure
    # 3 trends, 2 heatmaps, 2 leaderboards, cohorts, revenue at risk
    assert html.count('class="plotly-graph-div"') == 9


def test_database_text_is_escaped_everywhere() -> None:
    html = build_html_report(sample_overview())
    parsed = _parse(html)
    assert EVIL not in html
    figure_scripts = "".join(parsed.script_text)
    assert "<script>alert" not in figure_scripts
    assert "&lt;script&gt;alert(1)&lt;" in figure_scripts  # plotly shows it as text
    assert "<h1>Salon &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co</h1>" in html
    assert "Cut &lt;script&gt;" in html and "Hair &lt;script&gt;" in html
    assert "Note about &lt;script&gt;" in html
    # the filtered staff member is named in the header, escaped too
    assert "Staff: &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_names_the_business_period_zone_and_generation_time() -> None:
    generated = datetime(2025, 3, 10, 8, 5, tzinfo=UTC)
    html = build_html_report(sample_overview(), generated_at=generated)
    assert "Overview for 03 Mar 2025 – 09 Mar 2025 (7 days)" in html
    assert "compared with 24 Feb 2025 – 02 Mar 2025" in html
    assert "Time zone: Europe/Berlin" in html
    assert "Generated 10 Mar 2025 09:05 (Europe/Berlin)" in html
    assert "€5,432.10" in html and "-3.0 pp" in html  # KPI table with deltas
    assert "€295.50 of cancelled and no-show bookings were not refilled." in html


def test_an_empty_overview_still_gives_a_report() -> None:
    empty = sample_overview(
        kpis=pd.DataFrame(columns=KPI_COLUMNS),
        daily=pd.DataFrame(columns=DAILY_COLUMNS),
        heatmap=pd.DataFrame(columns=HEATMAP_COLUMNS),
        staff_board=pd.DataFrame(columns=STAFF_COLUMNS),
        service_board=pd.DataFrame(columns=SERVICE_COLUMNS),
        cohorts=pd.DataFrame(columns=COHORT_COLUMNS),
        revenue_at_risk=pd.DataFrame(columns=RISK_COLUMNS),
        notes=(),
    )
    html = build_html_report(empty)
    assert "No bookings match the staff and service filters" in html
    assert html.count("No data") >= 7
    assert "Staff: #2" in html  # the filtered id has no name in an empty board

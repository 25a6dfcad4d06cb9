"""The Overview as one self-contained HTML file that opens offline. Pure: no I/O.

plotly.js is inlined once, in the first figure; the other figures reuse it. There are no
external URLs (no CDN, no web fonts, no MathJax), and every text that comes from the
database (business, staff, service and category names, notes) is HTML-escaped: in the
page by `html.escape` and `DataFrame.to_html`, inside figures by `analytics.figures`
(and plotly's JSON encoding escapes `<` on top of that).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from analytics import display, figures
from analytics.report import Overview

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1f2937; }
h1 { margin-bottom: .25rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #e5e7eb; }
.meta { color: #4b5563; margin: 0; } .note { color: #6b7280; font-size: .9rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e5e7eb; text-align: left; }
th { background: #f3f4f6; }
"""


def build_html_report(overview: Overview, *, generated_at: datetime | None = None) -> str:
    """The whole report; `generated_at` (default: now) is shown in the business's zone."""
    sections = _sections(overview)
    body = [_header(overview, generated_at or datetime.now(UTC))]
    first_figure = True
    for heading, parts in sections:
        body.append(f"<h2>{escape(heading)}</h2>")
        for part in parts:
            if isinstance(part, go.Figure):
                body.append(_figure_html(part, inline_plotlyjs=first_figure))
                first_figure = False
            else:
                body.append(part)
    title = f"{overview.business_name}: Overview, {_period(overview)}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _figure_html(fig: go.Figure, *, inline_plotlyjs: bool) -> str:
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs="inline" if inline_plotlyjs else False,
            include_mathjax=False,
            config=PLOTLY_CONFIG,
        )
    )


def _period(overview: Overview) -> str:
    f = overview.filters
    return f"{f.start:%d %b %Y} – {f.end:%d %b %Y}"


def _names(ids: Iterable[int], board: pd.DataFrame, kind: str) -> str:
    known = dict(zip(board[f"{kind}_id"], board[kind], strict=True)) if len(board) else {}
    return ", ".join(str(known.get(i, f"#{i}")) for i in ids)


def _header(overview: Overview, generated_at: datetime) -> str:
    f = overview.filters
    previous = f.previous()
    local = generated_at.astimezone(ZoneInfo(overview.timezone))
    staff = _names(f.staff_ids, overview.staff_board, "staff") or "all"
    services = _names(f.service_ids, overview.service_board, "service") or "all"
    lines = [
        f"<h1>{escape(overview.business_name)}</h1>",
        f'<p class="meta">Overview for {_period(overview)} ({f.days} days), compared with '
        f"{previous.start:%d %b %Y} – {previous.end:%d %b %Y}</p>",
        f'<p class="meta">Time zone: {escape(overview.timezone)} · Currency: '
        f"{escape(overview.currency)} · Rebooking window: {overview.rebook_days} days</p>",
        f'<p class="meta">Staff: {escape(staff)} · Services: {escape(services)}</p>',
        f'<p class="meta">Generated {local:%d %b %Y %H:%M} ({escape(overview.timezone)})</p>',
    ]
    lines += [f'<p class="note">{escape(note)}</p>' for note in overview.notes]
    if not overview.has_bookings:
        lines.append(f'<p class="note">{escape(display.build_empty_message(f))}</p>')
    return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    return str(frame.to_html(index=False, escape=True, border=0, na_rep=display.MISSING))


def _trend_grain(days: int) -> figures.Grain:
    return "day" if days <= 62 else "week" if days <= 366 else "month"


def _sections(overview: Overview) -> list[tuple[str, list[go.Figure | str]]]:
    o, cur = overview, overview.currency
    grain = _trend_grain(o.filters.days)
    risk = o.revenue_at_risk
    return [
        ("Key figures", [_table(display.build_kpi_table(o.kpis, cur))]),
        (
            "Trend",
            [
                figures.make_trend_figure(o.daily, grain=grain, metric=metric, currency=cur)
                for metric in ("bookings", "revenue_cents", "utilization")
            ],
        ),
        (
            "Busy times (local time)",
            [figures.make_heatmap_figure(o.heatmap, metric=m) for m in figures.HEATMAP_METRICS],
        ),
        (
            "Staff",
            [
                figures.make_staff_board_figure(
                    o.staff_board, metric="revenue_cents", currency=cur
                ),
                _table(display.build_board_table(o.staff_board, kind="staff", currency=cur)),
            ],
        ),
        (
            "Services",
            [
                figures.make_service_board_figure(o.service_board, metric="bookings", currency=cur),
                _table(display.build_board_table(o.service_board, kind="service", currency=cur)),
            ],
        ),
        (
            "Cohort retention",
            [figures.make_cohort_figure(o.cohorts), _table(display.build_cohort_table(o.cohorts))],
        ),
        (
            "Revenue at risk",
            [
                f"<p>{escape(display.build_revenue_at_risk_summary(risk, currency=cur))}</p>",
                figures.make_revenue_at_risk_figure(risk, currency=cur),
                _table(display.build_revenue_at_risk_table(risk, currency=cur)),
            ],
        ),
    ]

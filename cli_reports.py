"""Report commands: `export` (tables and the HTML report) and `kpis`."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auth.roles import Actor
from cli_common import BusinessOption, JsonOption, _business_id, _engine, _fail, app
from data.db import read_conn

if TYPE_CHECKING:
    from analytics.report import ReportFilter

StartOption = Annotated[str, typer.Option("--start", help="First local day, YYYY-MM-DD.")]
EndOption = Annotated[str, typer.Option("--end", help="Last local day (inclusive), YYYY-MM-DD.")]
StaffOption = Annotated[
    list[int] | None, typer.Option("--staff", help="Only this staff id (repeatable).")
]
ServiceOption = Annotated[
    list[int] | None, typer.Option("--service", help="Only this service id (repeatable).")
]


def _report_filter(
    start: str, end: str, staff: list[int] | None, service: list[int] | None
) -> ReportFilter:
    from analytics.report import ReportFilter, ReportRangeError  # pandas: only when needed

    days = []
    for flag, value in (("--start", start), ("--end", end)):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise _fail(f"{flag} must be a date like 2026-03-31, not {value!r}") from None
    try:
        return ReportFilter(days[0], days[1], tuple(staff or ()), tuple(service or ()))
    except ReportRangeError as exc:
        raise _fail(str(exc)) from None


@app.command("export")
def export_command(
    start: StartOption,
    end: EndOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    tables: Annotated[
        str,
        typer.Option(
            help="Comma-separated: bookings, customers, kpis, daily, staff, services, cohorts, "
            "forecasts, churn_scores."
        ),
    ] = "bookings",
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx, parquet or html.")] = "csv",
    staff: StaffOption = None,
    service: ServiceOption = None,
    include_contacts: Annotated[
        bool,
        typer.Option(
            "--include-contacts",
            help="Customers' names, e-mail and phone (recorded in the audit log).",
        ),
    ] = False,
    business: BusinessOption = None,
) -> None:
    """Export tables for a date range (several CSV or Parquet tables make a zip)."""
    from reports.exports import ExportError, ExportRequest, write_export

    filters = _report_filter(start, end, staff, service)
    names = tuple(t.strip() for t in tables.split(",") if t.strip())
    try:
        kind: Any = fmt.lower()  # ExportRequest checks it
        request = ExportRequest(names, kind, filters, include_contacts, source="cli")
    except ExportError as exc:
        raise _fail(str(exc)) from None
    if output.suffix.lower() != f".{request.extension}":
        raise _fail(f"this export is a .{request.extension} file: name --output accordingly")
    if not output.parent.is_dir():
        raise _fail(f"no such folder: {output.parent}")
    engine = _engine()
    with read_conn(engine) as conn:
        actor = Actor.operator(business_id=_business_id(conn, business))
    try:
        result = write_export(engine, actor=actor, request=request, out=output)
    except ExportError as exc:
        raise _fail(str(exc)) from None
    rows = ", ".join(f"{name} {count:,} rows" for name, count in result.rows.items())
    typer.echo(f"wrote {output} ({rows})")
    for name, sheets in result.split_tables.items():
        typer.echo(f"{name} is longer than an Excel sheet: split across {', '.join(sheets)}")


@app.command("kpis")
def kpis_command(
    start: StartOption,
    end: EndOption,
    staff: StaffOption = None,
    service: ServiceOption = None,
    rebook_days: Annotated[int, typer.Option(min=1, max=365, help="Rebooking window.")] = 30,
    as_json: JsonOption = False,
    business: BusinessOption = None,
) -> None:
    """Print the KPI set for a date range, with the previous period and the change."""
    from analytics import display
    from analytics.export_format import build_kpi_table
    from reports.exports import ExportError, check_filter_ids
    from reports.overview import build_overview

    filters = _report_filter(start, end, staff, service)
    with read_conn(_engine()) as conn:
        actor = Actor.operator(business_id=_business_id(conn, business))
        try:
            check_filter_ids(conn, actor=actor, filters=filters)
        except ExportError as exc:
            raise _fail(str(exc)) from None
        overview = build_overview(conn, actor=actor, filters=filters, rebook_days=rebook_days)
    if not overview.has_bookings:
        raise _fail(display.build_empty_message(filters))
    if not as_json:
        table = display.build_kpi_table(overview.kpis, overview.currency)
        typer.echo(f"{overview.business_name}, {filters.start} to {filters.end}")
        typer.echo(table.to_string(index=False))
        return
    columns = ["key", "label", "value", "previous", "change", "unit"]
    kpis = [
        {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
        for row in build_kpi_table(overview.kpis)[columns].astype(object).to_dict("records")
    ]
    typer.echo(json.dumps({
        "start": str(filters.start), "end": str(filters.end), "currency": overview.currency,
        "staff": list(filters.staff_ids), "services": list(filters.service_ids),
        "rebook_days": rebook_days, "money": "major units", "kpis": kpis,
    }, indent=2))  # fmt: skip

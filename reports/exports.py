"""Exports: a registry of exportable tables and one function that writes a chosen set.

`EXPORTS` maps a table name to how it is described, counted and produced (in chunks);
later issues add theirs with `register_export` ("churn_scores", "forecasts").
`write_export` counts, writes in the chosen format with progress, logs a contact-details
export in the audit log before the file is handed over, and records a usage event.
No Streamlit: the Exports page and `cli.py export` both call this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from analytics.export_format import (
    SheetedTable,
    build_overview_tables,
    write_csv,
    write_parquet,
    write_xlsx,
    write_zip,
)
from analytics.html_report import build_html_report
from analytics.report import Overview, ReportFilter
from auth.roles import Actor, Permission
from data import exports as queries
from data.analytics_events import record_event
from data.audit import record_audit
from data.business import load_business
from data.catalog import list_services, list_staff
from data.db import read_conn, write_tx
from reports.files import write_atomically
from reports.overview import build_overview

ExportFormat = Literal["csv", "xlsx", "parquet", "html"]
FORMATS: dict[str, str] = {
    "csv": "CSV",
    "xlsx": "Excel",
    "parquet": "Parquet",
    "html": "HTML report",
}
MIME = {
    "csv": "text/csv", "zip": "application/zip", "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
}  # fmt: skip
log = logging.getLogger(__name__)
#: (rows_done, rows_total) while writing.
ExportProgress = Callable[[int, int], None]


class ExportError(ValueError):
    """An export that cannot be made; the message is meant for the user."""


class NothingToExport(ExportError):
    """Every chosen table is empty for these filters."""


@dataclass
class ExportSource:
    """What producers read from: one open connection, the actor, business and filters."""

    conn: Connection
    actor: Actor
    business: dict[str, Any]
    filters: ReportFilter
    include_contacts: bool = False
    rebook_days: int = 30

    @property
    def tz(self) -> str:
        return str(self.business["timezone"])

    @cached_property
    def overview(self) -> Overview:
        return build_overview(
            self.conn, actor=self.actor, filters=self.filters, rebook_days=self.rebook_days
        )

    @cached_property
    def overview_tables(self) -> dict[str, pd.DataFrame]:
        return build_overview_tables(self.overview)


@dataclass(frozen=True)
class ExportTable:
    """One exportable table: `count` and `chunks` read through an ExportSource."""

    name: str
    title: str
    description: str
    count: Callable[[ExportSource], int]
    chunks: Callable[[ExportSource], Iterable[pd.DataFrame]]
    contact_details: bool = False  # may carry names, e-mails and phones (when asked)


EXPORTS: dict[str, ExportTable] = {}


def register_export(table: ExportTable) -> None:
    if not table.name.isidentifier() or table.name != table.name.lower():
        raise ValueError(f"export names are lower-case identifiers: {table.name!r}")
    EXPORTS[table.name] = table


def _overview_table(name: str, title: str, description: str) -> ExportTable:
    return ExportTable(
        name, title, description,
        count=lambda s: len(s.overview_tables[name]),
        chunks=lambda s: [s.overview_tables[name]],
    )  # fmt: skip


for _table in (
    ExportTable(
        "bookings", "Bookings",
        "One row per appointment starting in the range (staff and service filters apply); "
        "local times, price in major units, an internal customer id and no names.",
        count=lambda s: queries.count_bookings(
            s.conn, actor=s.actor, tz=s.tz, filters=s.filters
        ),
        chunks=lambda s: queries.iter_bookings(s.conn, actor=s.actor, tz=s.tz, filters=s.filters),
    ),
    ExportTable(
        "customers", "Customers",
        "Every customer with visits, no-shows, cancellations and spend (all time, not "
        "filtered). Names, e-mail and phone only when contact details are included.",
        count=lambda s: queries.count_customers(s.conn, actor=s.actor),
        chunks=lambda s: queries.iter_customers(
            s.conn, actor=s.actor, tz=s.tz, include_contacts=s.include_contacts
        ),
        contact_details=True,
    ),
    _overview_table("kpis", "KPIs", "The Overview's KPIs with the previous period and change."),
    _overview_table("daily", "Daily trend", "Bookings, outcomes, revenue and utilization per day."),
    _overview_table("staff", "Staff", "The staff leaderboard for the range."),
    _overview_table("services", "Services", "The service leaderboard for the range."),
    _overview_table("cohorts", "Cohorts", "Retention by month of first visit."),
):  # fmt: skip
    register_export(_table)


@dataclass(frozen=True)
class ExportRequest:
    """What to export: tables (ignored by the HTML report), format, filters, contacts."""

    tables: tuple[str, ...]
    fmt: ExportFormat
    filters: ReportFilter
    include_contacts: bool = False
    rebook_days: int = 30
    source: Literal["ui", "cli"] = "ui"

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ExportError(f"Unknown format {self.fmt!r}; use {', '.join(FORMATS)}.")
        unknown = [t for t in self.tables if t not in EXPORTS]
        if unknown:
            raise ExportError(f"Unknown table {unknown[0]!r}; choose from {', '.join(EXPORTS)}.")
        if not self.tables and self.fmt != "html":
            raise ExportError("Choose at least one table.")
        object.__setattr__(self, "tables", tuple(dict.fromkeys(self.tables)))

    @property
    def logs_contacts(self) -> bool:
        return self.include_contacts and self.fmt != "html" and "customers" in self.tables

    @property
    def extension(self) -> str:
        if self.fmt in ("csv", "parquet") and len(self.tables) > 1:
            return "zip"
        return self.fmt

    def filename(self, slug: str = "slotboard") -> str:
        f = self.filters
        what = "report" if self.fmt == "html" else "-".join(self.tables)
        if len(what) > 40:
            what = "export"
        return f"{slug}-{what}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.{self.extension}"


@dataclass(frozen=True)
class ExportResult:
    """Rows written per table, the file's suggested name and type, and Excel's sheets."""

    rows: dict[str, int]
    filename: str
    mime: str
    sheets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def split_tables(self) -> dict[str, tuple[str, ...]]:
        """Tables that went over Excel's row limit, with the sheets that hold them."""
        return {name: sheets for name, sheets in self.sheets.items() if len(sheets) > 1}


def check_filter_ids(conn: Connection, *, actor: Actor, filters: ReportFilter) -> None:
    """ExportError naming the first staff or service id this business doesn't have."""
    for kind, wanted, rows in (
        ("staff member", filters.staff_ids, lambda: list_staff(conn, actor=actor)),
        ("service", filters.service_ids, lambda: list_services(conn, actor=actor)),
    ):
        if wanted:
            known = {int(row["id"]) for row in rows()}
            missing = [i for i in wanted if i not in known]
            if missing:
                raise ExportError(f"There is no {kind} with id {missing[0]}.")


def write_export(
    engine: Engine,
    *,
    actor: Actor,
    request: ExportRequest,
    out: IO[bytes] | Path,
    progress: ExportProgress | None = None,
) -> ExportResult:
    """Write the request to `out` (a binary stream, or a path replaced only on success);
    NothingToExport when every chosen table is empty."""
    actor.require(Permission.EXPORT_DATA)
    if isinstance(out, Path):
        return _write_to_path(engine, actor=actor, request=request, path=out, progress=progress)
    with read_conn(engine) as conn:
        business = load_business(conn, business_id=actor.business_id)
        check_filter_ids(conn, actor=actor, filters=request.filters)
        source = ExportSource(
            conn, actor, business, request.filters, request.include_contacts, request.rebook_days
        )
        rows, sheets = _write_tables(source, request, out, progress)
    result = ExportResult(
        rows, request.filename(str(business.get("slug") or "slotboard")),
        MIME[request.extension], sheets,
    )  # fmt: skip
    _record(engine, actor=actor, request=request, result=result)
    return result


def _write_to_path(
    engine: Engine,
    *,
    actor: Actor,
    request: ExportRequest,
    path: Path,
    progress: ExportProgress | None,
) -> ExportResult:
    return write_atomically(
        path,
        lambda stream: write_export(
            engine, actor=actor, request=request, out=stream, progress=progress
        ),
    )


def _write_tables(
    source: ExportSource,
    request: ExportRequest,
    out: IO[bytes],
    progress: ExportProgress | None,
) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    if request.fmt == "html":
        return _write_html(source, out), {}
    counts = {name: EXPORTS[name].count(source) for name in request.tables}
    total = sum(counts.values())
    if total == 0:
        raise NothingToExport("There are no rows to export for these filters.")
    report = None if progress is None else (lambda done: progress(done, total))
    tables = [(name, EXPORTS[name].chunks(source)) for name in request.tables]
    if request.fmt == "xlsx":
        placed: dict[str, SheetedTable] = write_xlsx(tables, out, progress=report)
        return {n: t.rows for n, t in placed.items()}, {n: t.sheets for n, t in placed.items()}
    if len(tables) > 1:
        return write_zip(tables, out, fmt=request.fmt, progress=report), {}  # type: ignore[arg-type]
    name, chunks = tables[0]
    write = write_csv if request.fmt == "csv" else write_parquet
    return {name: write(chunks, out, progress=report)}, {}


def _write_html(source: ExportSource, out: IO[bytes]) -> dict[str, int]:
    if not source.overview.has_bookings:
        raise NothingToExport("There are no bookings in this range, so there is no report.")
    out.write(build_html_report(source.overview).encode("utf-8"))
    return {"report": 1}


def _record(engine: Engine, *, actor: Actor, request: ExportRequest, result: ExportResult) -> None:
    """The audit entry for contact details (its own write transaction), then the event."""
    if request.logs_contacts:
        with write_tx(engine) as conn:
            record_audit(
                conn, actor=actor, action="export", entity="customers", entity_id=None,
                after={"rows": result.rows.get("customers", 0), "include_contacts": True,
                       "format": request.extension, "tables": list(request.tables)},
            )  # fmt: skip
    data: dict[str, Any] = {
        "tables": sorted(result.rows), "format": request.fmt, "rows": result.total_rows,
        "source": request.source, "include_contacts": request.logs_contacts,
        "filters_days": request.filters.days,
        "filters_staff": len(request.filters.staff_ids),
        "filters_services": len(request.filters.service_ids),
    }  # fmt: skip
    if request.source == "ui":
        data["page"] = "Exports"
    try:
        with write_tx(engine) as conn:
            record_event(conn, actor=actor, event_type="export", data=data)
    except Exception as exc:  # noqa: BLE001 - telemetry never fails a finished export
        log.warning("export event not recorded (%s)", type(exc).__name__)


# Tables that other services define register themselves on import (they import this
# module for ExportTable, so this import comes last).
from reports import forecast_exports, retention_exports  # noqa: E402, F401

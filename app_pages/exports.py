"""Exports (owner, analyst): bookings, customers and the Overview's tables as CSV, Excel
or Parquet, or the Overview as an HTML report. Written in chunks into a temporary file
with a progress bar, then offered for download. The work lives in reports/exports."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from typing import Any

import streamlit as st

from analytics.export_format import EXCEL_MAX_ROWS
from analytics.report import ReportFilter, ReportRangeError
from auth.roles import Actor, Permission
from reports.exports import (
    EXPORTS,
    FORMATS,
    ExportError,
    ExportRequest,
    ExportResult,
    NothingToExport,
    write_export,
)
from scheduling.timezones import local_today
from ui.analytics_data import load_filter_options
from ui.session import current_business, get_engine, require_permission

DEFAULT_DAYS = 30
PREPARED_KEY = "ex_prepared"


def prepare(actor: Actor, request: ExportRequest) -> tuple[bytes, ExportResult] | None:
    """Write the export with a progress bar; None (after saying why) when there is none."""
    bar = st.progress(0.0, text="Preparing the export…")

    def show(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 1.0
        bar.progress(share, text=f"Written {done:,} of {total:,} rows")

    try:
        with tempfile.TemporaryFile(prefix="slotboard-export-") as stream:
            result = write_export(
                get_engine(), actor=actor, request=request, out=stream, progress=show
            )
            stream.seek(0)
            data = stream.read()
    except NothingToExport as exc:
        bar.empty()
        st.info(f"{exc} Try a longer range or fewer filters.")
        return None
    except ExportError as exc:
        bar.empty()
        st.error(str(exc))
        return None
    bar.progress(1.0, text="Done")
    return data, result


def render_download(data: bytes, result: ExportResult) -> None:
    counts = {n: rows for n, rows in result.rows.items() if n in EXPORTS}
    rows_text = ", ".join(f"{EXPORTS[n].title} {rows:,}" for n, rows in counts.items())
    size = f"{len(data) / 1e6:,.1f} MB" if len(data) >= 1e6 else f"{len(data) / 1e3:,.0f} kB"
    st.success(f"Ready: {result.filename} ({size})." + (f" Rows: {rows_text}." if counts else ""))
    for name, rows in counts.items():
        if rows == 0:
            st.caption(f"{EXPORTS[name].title} has no rows for these filters.")
    for name, sheets in result.split_tables.items():
        st.info(
            f"{EXPORTS[name].title} has more rows than one Excel sheet holds "
            f"({EXCEL_MAX_ROWS - 1:,}), so it continues on: {', '.join(sheets)}."
        )
    st.download_button(
        "Download", data, file_name=result.filename, mime=result.mime, type="primary",
        icon=":material/download:", on_click="ignore", key="ex_download",
    )  # fmt: skip


actor = require_permission(Permission.EXPORT_DATA)
business = current_business(actor)
engine, tz = get_engine(), business["timezone"]
today = local_today(tz)
options = load_filter_options(actor, engine)

st.title("Exports")
st.caption(f"Times are local ({tz}); money is in {business['currency']}, in major units.")
top = st.columns([2, 2, 2])
period = top[0].date_input(
    "Dates", value=(today - timedelta(days=DEFAULT_DAYS - 1), today), key="ex_dates"
)
staff_ids = top[1].multiselect(
    "Staff", list(options.staff), format_func=lambda i: options.staff[i], key="ex_staff"
)
service_ids = top[2].multiselect(
    "Services", list(options.services), format_func=lambda i: options.services[i], key="ex_services"
)
fmt = st.radio("Format", list(FORMATS), format_func=FORMATS.get, horizontal=True, key="ex_format")
tables: list[str] = []
if fmt == "html":
    st.caption("The HTML report holds the Overview's KPIs, charts and tables; it opens offline.")
else:
    tables = st.multiselect(
        "Tables", list(EXPORTS), default=["bookings"], format_func=lambda n: EXPORTS[n].title,
        key="ex_tables",
    )  # fmt: skip
    for name in tables:
        st.caption(f"**{EXPORTS[name].title}**: {EXPORTS[name].description}")
include_contacts = False
if "customers" in tables:
    include_contacts = st.checkbox(
        "Include contact details (names, e-mail, phone)", key="ex_contacts"
    )
    if include_contacts:
        st.warning(
            "Exporting contact details is recorded in the audit log: who, when and how many "
            "customers. Handle the file as personal data."
        )

if not isinstance(period, tuple) or len(period) != 2:
    st.info("Pick an end date too: exports cover a range of days.")
    st.stop()
if fmt != "html" and not tables:
    st.info("Choose at least one table to export.")
    st.stop()
try:
    filters = ReportFilter(period[0], period[1], tuple(staff_ids), tuple(service_ids))
    request = ExportRequest(tuple(tables), fmt, filters, include_contacts, source="ui")  # type: ignore[arg-type]
except (ReportRangeError, ExportError) as exc:
    st.error(str(exc))
    st.stop()

if st.button("Prepare export", type="primary", key="ex_prepare"):
    st.session_state.pop(PREPARED_KEY, None)
    prepared = prepare(actor, request)
    if prepared is not None:
        st.session_state[PREPARED_KEY] = (request, *prepared)
stored: Any = st.session_state.get(PREPARED_KEY)
if stored is not None and stored[0] == request:
    render_download(stored[1], stored[2])

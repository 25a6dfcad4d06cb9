"""CSV import (owner): upload an export, map its columns, dry run, then import.

Widgets only: reading, checking and writing the file is data.importer's work.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import pandas as pd
import streamlit as st

from auth.roles import Permission
from data.importer import (
    FIELD_SPECS,
    CsvOptions,
    CsvPreview,
    ImportFileError,
    ImportMapping,
    ImportReport,
    MappingError,
    import_appointments,
    import_customers,
    load_mapping,
    parse_mapping,
    parse_status_map,
    preview_csv,
    suggest_columns,
)
from ui.session import after_write, get_engine, require_permission

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%m/%d/%Y %I:%M %p",
                "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"]  # fmt: skip
DELIMITERS = {"auto": "Detect", ",": "Comma", ";": "Semicolon", "tab": "Tab", "|": "Pipe"}
ENCODINGS = ["utf-8-sig", "cp1252", "latin-1", "utf-16"]
NONE = "(not in this file)"
STATUS_MAP = "Yes = no_show\nNo = auto"
REPORT_KEY = "import_report"

actor = require_permission(Permission.MANAGE_BUSINESS)
st.title("Import")
st.caption(
    "Bring customers and appointments over from another booking system's CSV export. A dry "
    "run checks every row and writes nothing. An import is all or nothing, unless you skip "
    "bad rows, and importing the same file again adds nothing twice."
)
kind = st.radio("The file holds", ["appointments", "customers"], horizontal=True, key="import_kind")
upload = st.file_uploader("CSV export", type=["csv", "txt", "tsv"], key="import_file")
mapping_upload = st.file_uploader(
    "Mapping file (optional)",
    type=["toml", "json"],
    key="import_mapping_file",
    help="A saved mapping (.toml or .json). Without one, map the columns below.",
)
if upload is None:
    st.info("Upload a CSV file to start. The project's examples/import folder has samples.")
    st.stop()


def source() -> Any:
    assert upload is not None
    upload.seek(0)
    return upload


def render_preview(preview: CsvPreview) -> None:
    names = [f"{n + 1}. {name}" for n, name in enumerate(preview.header)]  # unique for Arrow
    frame = pd.DataFrame(preview.rows, columns=names) if preview.rows else pd.DataFrame()
    st.dataframe(frame, hide_index=True, key="import_preview")


def render_form(header: list[str]) -> dict[str, Any]:
    """The mapping, as a dict, from the widgets."""
    suggested = suggest_columns(kind, header)
    options = [NONE, *header]
    columns: dict[str, str] = {}
    cells = st.columns(3)
    for n, spec in enumerate(FIELD_SPECS[kind]):
        default = options.index(suggested[spec.name]) if spec.name in suggested else 0
        picked = cells[n % 3].selectbox(
            spec.label,
            options,
            index=default,
            help=spec.help or None,
            key=f"import_col_{kind}_{spec.name}",
        )
        if picked != NONE:
            columns[spec.name] = picked
    form: dict[str, Any] = {"kind": kind, "columns": columns}
    with st.expander("Formats, defaults and new records", expanded=kind == "appointments"):
        left, right = st.columns(2)
        if kind == "appointments":
            date_format = left.selectbox(
                "Date format", DATE_FORMATS, key="import_date_format", accept_new_options=True
            )
            start = right.time_input("Start of date-only rows", time(9), key="import_start")
            staff = left.text_input("Staff if no staff column", "Unassigned", key="import_staff")
            service = right.text_input(
                "Service if no service column", "Visit", key="import_service"
            )
            minutes = left.number_input("New services' minutes", 5, 600, 60, 5, key="import_min")
            statuses = right.text_area("Status map (value = status)", STATUS_MAP, key="import_map")
            form["formats"] = {"date": date_format}
            form["status_map"] = parse_status_map(statuses)
            form["defaults"] = {"start_time": start, "staff": staff or None,
                                "service": service or None, "duration_min": minutes}  # fmt: skip
        form["create_missing"] = {
            name: st.checkbox(f"Create missing {name}", True, key=f"import_new_{name}")
            for name in ("customers", "staff", "services")
        }
    return form


def build_mapping() -> ImportMapping:
    saved = load_mapping(mapping_upload.getvalue()) if mapping_upload is not None else None
    if saved is None:
        left, right = st.columns(2)
        delimiter = left.selectbox(
            "Delimiter", list(DELIMITERS), format_func=DELIMITERS.get, key="import_delimiter"
        )
        encoding = right.selectbox("Encoding", ENCODINGS, key="import_encoding")
        options = CsvOptions(delimiter=delimiter, encoding=encoding)
    else:
        options = saved.csv
    preview = preview_csv(source(), options=options)
    render_preview(preview)
    if saved is not None:
        return saved
    return parse_mapping({**render_form(preview.header), "csv": options.model_dump()})


def run(mapping: ImportMapping, *, dry_run: bool, skip_bad_rows: bool = False) -> None:
    importer = import_appointments if kind == "appointments" else import_customers
    bar = st.progress(0.0, text="Reading…")

    def progress(rows: int, fraction: float | None) -> None:
        bar.progress(fraction or 0.0, text=f"{rows:,} rows read")

    try:
        report = importer(
            get_engine(),
            actor=actor,
            source=source(),
            mapping=mapping,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            progress=progress,
        )
    except (ImportFileError, MappingError) as exc:
        st.session_state.pop(REPORT_KEY, None)
        st.error(str(exc))
        return
    finally:
        bar.empty()
    st.session_state[REPORT_KEY] = report
    if report.committed:
        after_write()


def render_report(report: ImportReport) -> None:
    verb = "Created" if report.committed else "Would create"
    shown = [
        ("Rows read", report.rows_read),
        (f"{verb}: {report.kind}", report.created[report.kind]),
    ]
    if report.kind == "appointments":
        shown.append((f"{verb}: customers", report.created["customers"]))
    shown += [
        ("Skipped: already imported", report.skipped_duplicates),
        ("Rejected rows", report.rejected_rows),
    ]
    for cell, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        cell.metric(label, value)
    (st.success if report.ok else st.warning)(f"{report.file_name}: {report.outcome}.")
    if report.errors:
        errors = pd.DataFrame([error.as_dict() for error in report.errors])
        st.dataframe(errors.rename(columns=str.capitalize), hide_index=True, key="import_errors")


try:
    mapping = build_mapping()
except (ImportFileError, MappingError) as exc:
    st.error(str(exc))
    st.stop()
st.download_button(
    "Save this mapping (JSON)",
    mapping.model_dump_json(indent=2, exclude_defaults=True),
    "mapping.json",
    key="import_save_mapping",
    on_click="ignore",
)
actions = st.columns([1, 1, 2])
skip = actions[2].checkbox("Skip bad rows (import the good ones)", key="import_skip")
if actions[0].button("Dry run", key="import_dry_run"):
    run(mapping, dry_run=True)
if actions[1].button("Import", type="primary", key="import_run"):
    run(mapping, dry_run=False, skip_bad_rows=skip)
if (report := st.session_state.get(REPORT_KEY)) is not None:
    render_report(report)

"""Export files from chunks of DataFrames: CSV, Parquet, Excel, and zips of several. Pure.

Writers take an iterable of DataFrame chunks per table, so a large table streams through
in flat memory, and report progress as the cumulative number of rows written. CSV and
Excel output is formula-neutralised (OWASP CSV injection); Parquet keeps the raw values.
Datetimes reach the writers tz-naive, in the business's local time (columns `*_local`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from analytics.report import Overview

#: Rows in one Excel sheet, the header row included.
EXCEL_MAX_ROWS = 1_048_576
Progress = Callable[[int], None]
Chunks = Iterable[pd.DataFrame]
Tables = Iterable[tuple[str, Chunks]]
ZipFormat = Literal["csv", "parquet"]

#: A cell a spreadsheet would run as a formula: =, +, -, @, tab or CR, after any blanks.
_RISKY = re.compile(r"^\s*[=+\-@\t\r]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


def _quote_cell(value: Any) -> Any:
    if isinstance(value, str) and _RISKY.match(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell that a spreadsheet would run as a formula starts
    with `'`. Numeric, date and boolean columns are untouched (-5 stays the number -5)."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not _is_text(column):
            continue
        if column.dtype == object:
            out[name] = column.map(_quote_cell)
            continue
        risky = column.str.match(_RISKY.pattern, na=False)
        if risky.any():
            out[name] = column.where(~risky, "'" + column)
    return out


class _Counter:
    """Cumulative rows written, passed to the optional progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.rows = 0
        self._progress = progress

    def add(self, rows: int) -> None:
        self.rows += rows
        if self._progress is not None:
            self._progress(self.rows)


# --- CSV ---------------------------------------------------------------------------


def _csv_into(chunks: Chunks, out: IO[bytes], counter: _Counter) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    rows, first = 0, True
    try:
        for chunk in chunks:
            safe = neutralise_formulas(chunk)
            safe.to_csv(text, header=first, index=False, lineterminator="\r\n")
            first = False
            rows += len(chunk)
            counter.add(len(chunk))
        text.flush()
    finally:
        text.detach()  # leave `out` open for the caller
    return rows


def write_csv(chunks: Chunks, out: IO[bytes], *, progress: Progress | None = None) -> int:
    """UTF-8 CSV (RFC 4180: CRLF rows, so a CR or LF inside a cell is quoted) with one
    header line; returns the number of data rows."""
    return _csv_into(chunks, out, _Counter(progress))


# --- Parquet -------------------------------------------------------------------------


def _arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    """The first chunk's schema; an all-empty text column is typed as text, not null."""
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    for index, field in enumerate(schema):
        if pa.types.is_null(field.type):
            schema = schema.set(index, field.with_type(pa.large_string()))
    return schema


def _parquet_into(chunks: Chunks, out: IO[bytes], counter: _Counter) -> int:
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for chunk in chunks:
            if writer is None:
                schema = _arrow_schema(chunk)
                writer = pq.ParquetWriter(out, schema, compression="zstd")
            table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
            writer.write_table(table)
            rows += len(chunk)
            counter.add(len(chunk))
    finally:
        if writer is not None:
            writer.close()
    return rows


def write_parquet(chunks: Chunks, out: IO[bytes], *, progress: Progress | None = None) -> int:
    """One Parquet file with the first chunk's typed schema; returns the number of rows."""
    return _parquet_into(chunks, out, _Counter(progress))


# --- zip of several tables ----------------------------------------------------------


def write_zip(
    tables: Tables, out: IO[bytes], *, fmt: ZipFormat, progress: Progress | None = None
) -> dict[str, int]:
    """A zip with one `<table>.csv` or `<table>.parquet` per table; rows per table."""
    write = _csv_into if fmt == "csv" else _parquet_into
    counter, rows = _Counter(progress), {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in tables:
            with archive.open(f"{name}.{fmt}", "w", force_zip64=True) as member:
                rows[name] = write(chunks, member, counter)
    return rows


# --- Excel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetedTable:
    """How one table landed in a workbook: its data rows and the sheets that hold them."""

    rows: int
    sheets: tuple[str, ...]

    @property
    def was_split(self) -> bool:
        return len(self.sheets) > 1


def sheet_title(name: str, part: int) -> str:
    """`name`, then `name (2)`, `name (3)` ...: at most 31 characters, none of []:*?/\\."""
    suffix = "" if part == 1 else f" ({part})"
    return _SHEET_FORBIDDEN.sub("_", name)[: 31 - len(suffix)] + suffix


def _excel_column(series: pd.Series) -> list[Any]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dtype, "tz", None) is not None:
            raise ValueError(f"column {series.name!r}: Excel needs local, tz-naive datetimes")
        values = series.dt.to_pydatetime()
    elif _is_text(series):
        values = series.map(
            lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
        ).astype(object)
    else:
        values = series.astype(object)
    return values.where(series.notna(), None).tolist()


def _excel_rows(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Python values Excel types natively: int, float, bool, datetime, str, or None."""
    safe = neutralise_formulas(frame)
    return zip(*(_excel_column(safe[name]) for name in safe.columns), strict=True)


class _SheetRun:
    """Appends one table's rows, opening `name (2)` ... when a sheet is full."""

    def __init__(self, book: Workbook, name: str, max_rows: int) -> None:
        self.book, self.name, self.capacity = book, name, max_rows - 1
        self.sheets: list[str] = []
        self.rows = 0
        self._sheet: Any = None
        self._header: list[str] = []
        self._left = 0

    def _open_sheet(self) -> None:
        title = sheet_title(self.name, len(self.sheets) + 1)
        self._sheet = self.book.create_sheet(title)
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = [WriteOnlyCell(self._sheet, value=name) for name in self._header]
        for cell in header:
            cell.font = bold
        for index, name in enumerate(self._header, start=1):
            width = min(max(len(name) + 2, 10), 40)
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.append(header)
        self.sheets.append(title)
        self._left = self.capacity

    def write(self, frame: pd.DataFrame) -> int:
        """Append a chunk's rows; returns how many."""
        if self._sheet is None:
            self._header = [str(c) for c in frame.columns]
            self._open_sheet()
        for row in _excel_rows(frame):
            if self._left == 0:
                self._open_sheet()
            self._sheet.append(row)
            self._left -= 1
        self.rows += len(frame)
        return len(frame)


def write_xlsx(
    tables: Tables,
    out: IO[bytes],
    *,
    progress: Progress | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
) -> dict[str, SheetedTable]:
    """One sheet per table (a write-only workbook, typed cells); a table longer than
    `max_rows` (header included) continues on `name (2)`, `name (3)` ... sheets."""
    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and a data row")
    book = Workbook(write_only=True)
    counter, result = _Counter(progress), {}
    try:
        for name, chunks in tables:
            run = _SheetRun(book, name, max_rows)
            for chunk in chunks:
                counter.add(run.write(chunk))
            result[name] = SheetedTable(rows=run.rows, sheets=tuple(run.sheets))
    except BaseException:
        _discard(book)
        raise
    book.save(out)
    return result


def _discard(book: Workbook) -> None:
    """Close and delete the sheets' temporary files after a failed export."""
    for sheet in book.worksheets:
        try:
            sheet.close()
            sheet._writer.cleanup()
        except Exception:  # noqa: BLE001, S110 - best effort; the original error is raised
            pass


# --- Overview frames, ready to export -------------------------------------------------


def cents_to_major(frame: pd.DataFrame) -> pd.DataFrame:
    """Every `<name>_cents` column becomes `<name>` in major units (cents / 100)."""
    renamed = {c: c.removesuffix("_cents") for c in frame.columns if str(c).endswith("_cents")}
    out = frame.copy()
    for column in renamed:
        out[column] = out[column].astype("float64") / 100
    return out.rename(columns=renamed)


def build_kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPI frame with money values and previous values in major units."""
    out = kpis.copy()
    money = out["unit"] == "money"
    for column in ("value", "previous"):
        out[column] = out[column].astype("float64")
        out.loc[money, column] = out.loc[money, column] / 100
    return out


def build_overview_tables(overview: Overview) -> dict[str, pd.DataFrame]:
    """The Overview's exportable tables by export name, money in major units."""
    return {
        "kpis": build_kpi_table(overview.kpis),
        "daily": cents_to_major(overview.daily),
        "staff": cents_to_major(overview.staff_board),
        "services": cents_to_major(overview.service_board),
        "cohorts": overview.cohorts.copy(),
    }

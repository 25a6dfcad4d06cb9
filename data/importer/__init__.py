"""CSV import of customers and appointments from other booking systems.

    report = import_appointments(engine, actor=actor, source="export.csv",
                                 mapping="mapping.toml", dry_run=True)

- `mapping` (ImportMapping, or a .json/.toml path) says which column holds which field;
- the file streams in batches; one transaction per file: all or nothing, unless
  `skip_bad_rows`; a dry run does the same work and rolls back;
- re-importing a file creates no duplicates (each row's natural key is kept in
  `import_key`; the source's own ids in `external_id`);
- bad rows come back in `report.errors` (row, column, reason); a file that cannot be read
  at all raises ImportFileError, an unusable mapping MappingError (both ValueErrors).
Owners only (Permission.MANAGE_BUSINESS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.importer.load import Progress, run_import
from data.importer.mapping import (
    FIELD_SPECS,
    STATUSES,
    CsvOptions,
    ImportMapping,
    Kind,
    load_mapping,
    parse_mapping,
    parse_status_map,
    suggest_columns,
)
from data.importer.reader import Source, open_csv
from data.importer.report import ImportFileError, ImportReport, MappingError, RowError

__all__ = [
    "FIELD_SPECS",
    "STATUSES",
    "CsvOptions",
    "CsvPreview",
    "ImportFileError",
    "ImportMapping",
    "ImportReport",
    "Kind",
    "MappingError",
    "RowError",
    "import_appointments",
    "import_customers",
    "load_mapping",
    "parse_mapping",
    "parse_status_map",
    "preview_csv",
    "suggest_columns",
]


def import_appointments(
    engine: Engine,
    *,
    actor: Actor,
    source: Source,
    mapping: ImportMapping | str | Path,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """`now` (default: the clock) decides "auto" statuses and stamps created rows."""
    return run_import(
        engine, kind="appointments", actor=actor, source=source, mapping=mapping,
        dry_run=dry_run, skip_bad_rows=skip_bad_rows, progress=progress, now=now,
    )  # fmt: skip


def import_customers(
    engine: Engine,
    *,
    actor: Actor,
    source: Source,
    mapping: ImportMapping | str | Path,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    return run_import(
        engine, kind="customers", actor=actor, source=source, mapping=mapping,
        dry_run=dry_run, skip_bad_rows=skip_bad_rows, progress=progress, now=now,
    )  # fmt: skip


@dataclass(frozen=True)
class CsvPreview:
    """The header and first rows of a file, as read with the mapping's CSV options."""

    header: list[str]
    rows: list[list[str]]  # padded or cut to the header's width
    delimiter: str


def preview_csv(source: Source, *, options: CsvOptions | None = None, rows: int = 10) -> CsvPreview:
    """For the mapping step: raises ImportFileError like an import would."""
    with open_csv(source, options or CsvOptions()) as stream:
        width = len(stream.header)
        first = [(cells + [""] * width)[:width] for _, cells in islice(stream.rows, rows)]
        return CsvPreview(stream.header, first, stream.delimiter)

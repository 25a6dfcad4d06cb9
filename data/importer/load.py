"""Streaming import of one CSV file in one transaction.

The file is read in batches of BATCH_ROWS rows (never whole). Each batch is parsed,
checked against the database and written inside the import's single write transaction,
so later batches see the earlier ones (duplicates and overlaps across the whole file are
found) and the database is the only place the file's rows accumulate. At the end:
- dry run: roll back (the report says what would have happened);
- rejected rows and not `skip_bad_rows`: roll back (all or nothing per file);
- otherwise commit. One audit row summarises the import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.business import load_business
from data.db import read_conn, write_tx
from data.importer.appointment_batch import AppointmentBatch
from data.importer.batch import BatchWriter, RowInput
from data.importer.customer_batch import CustomerBatch
from data.importer.mapping import ImportMapping, load_mapping
from data.importer.parse import ParseContext, row_values
from data.importer.reader import Source, open_csv, resolve_columns
from data.importer.report import ImportFileError, ImportReport, MappingError, RowError
from data.types import utcnow

BATCH_ROWS = 2_000
Kind = Literal["appointments", "customers"]
Progress = Callable[[int, float | None], None]  # (rows read, fraction of the file or None)


BATCHES: dict[str, type[BatchWriter]] = {
    "appointments": AppointmentBatch,
    "customers": CustomerBatch,
}


class _RollBack(Exception):
    """Leaves write_tx by rolling back: dry runs and files with rejected rows."""


def run_import(
    engine: Engine,
    *,
    kind: Kind,
    actor: Actor,
    source: Source,
    mapping: ImportMapping | str | Path,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    actor.require(Permission.MANAGE_BUSINESS)
    if not isinstance(mapping, ImportMapping):
        mapping = load_mapping(mapping)
    if problems := mapping.problems_for(kind):
        raise MappingError("; ".join(problems))
    started = time.perf_counter()
    with read_conn(engine) as conn:
        business = load_business(conn, business_id=actor.business_id)
    ctx = ParseContext(business["timezone"], business["country"], now or utcnow())
    with open_csv(source, mapping.csv) as stream:
        columns = resolve_columns(stream, mapping.columns.mapped())
        report = ImportReport(kind, stream.name, dry_run, skip_bad_rows)
        rows = _row_inputs(stream.rows, columns, width=len(stream.header))
        try:
            with write_tx(engine) as conn:
                batch = BATCHES[kind](conn, actor=actor, mapping=mapping, ctx=ctx, report=report)
                for chunk in _batches(rows, BATCH_ROWS):
                    batch.write(chunk)
                    if progress is not None:
                        progress(report.rows_read, stream.fraction_read())
                batch.close()
                if report.rows_read == 0:
                    raise ImportFileError(f"{stream.name} has a header but no data rows")
                report.committed = not dry_run and (report.ok or skip_bad_rows)
                _audit(conn, actor=actor, report=report)
                if not report.committed:
                    raise _RollBack
        except _RollBack:
            pass
        except IntegrityError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            raise ImportFileError(
                f"the database refused the import ({reason}); nothing was imported. A booking "
                "made while importing can cause this: run the import again"
            ) from None
    report.seconds = time.perf_counter() - started
    return report


def _row_inputs(
    rows: Iterable[tuple[int, list[str]]], columns: dict[str, int], *, width: int
) -> Iterator[RowInput]:
    for row, cells in rows:
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            reason = (
                f"has {len(cells)} cells but the header has {width}: check the quoting "
                "and the delimiter"
            )
            yield row, [RowError(row, "(whole row)", reason)]
        else:
            yield row, row_values(cells, columns)


def _batches(rows: Iterable[RowInput], size: int) -> Iterator[list[RowInput]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _audit(conn: Connection, *, actor: Actor, report: ImportReport) -> None:
    summary = {
        "file": report.file_name,
        "rows_read": report.rows_read,
        "created": dict(report.created),
        "skipped_duplicates": report.skipped_duplicates,
        "rejected_rows": report.rejected_rows,
        "skip_bad_rows": report.skip_bad_rows,
    }
    record_audit(
        conn,
        actor=actor,
        action="import",
        entity=report.kind,
        entity_id=report.file_name[:64],
        after=summary,
    )

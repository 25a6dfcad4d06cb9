"""What every batch writer shares: its context, and turning rows into records or errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from sqlalchemy.engine import Connection

from auth.roles import Actor
from data.importer.mapping import ImportMapping
from data.importer.parse import ParseContext
from data.importer.report import ImportReport, RowError
from data.importer.stats import GrowingTables

T = TypeVar("T")
#: A row number with the row's cells by field, or the errors found reading it.
RowInput = tuple[int, dict[str, str] | list[RowError]]
Parser = Callable[[int, Mapping[str, str], ImportMapping, ParseContext], T | list[RowError]]


class BatchWriter:
    def __init__(
        self,
        conn: Connection,
        *,
        actor: Actor,
        mapping: ImportMapping,
        ctx: ParseContext,
        report: ImportReport,
    ) -> None:
        self.conn = conn
        self.actor = actor
        self.mapping = mapping
        self.ctx = ctx
        self.report = report
        self.growing = GrowingTables(conn)

    def parse(self, rows: Sequence[RowInput], parser: Parser[T]) -> list[T]:
        """The rows' records; rejected rows go to the report."""
        records = []
        for row, values in rows:
            self.report.rows_read += 1
            parsed = (
                values if isinstance(values, list) else parser(row, values, self.mapping, self.ctx)
            )
            if isinstance(parsed, list):
                self.report.add_errors(parsed)
            else:
                records.append(parsed)
        return records

    def write(self, rows: Sequence[RowInput]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Tidy up at the end of the file (inside the transaction)."""

"""What an import did (or would do): counts, row errors, and the file-level failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Row errors kept in a report; beyond this they are only counted (a file with the wrong
#: date format would otherwise keep 100,000 identical messages in memory).
MAX_KEPT_ERRORS = 10_000

#: The kinds of rows an import can create, in display order.
KINDS = ("appointments", "customers", "staff", "services")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, wrong encoding or delimiter, ...)."""


class MappingError(ValueError):
    """The column mapping is invalid, or does not fit this kind of import."""


@dataclass(frozen=True)
class RowError:
    """One reason a row was rejected. `row` counts like a spreadsheet: the header is row 1."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    skip_bad_rows: bool
    rows_read: int = 0
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_omitted: int = 0
    rejected_rows: int = 0
    committed: bool = False
    seconds: float = 0.0

    def add_errors(self, errors: list[RowError]) -> None:
        """Record the errors of one rejected row."""
        if not errors:
            return
        self.rejected_rows += 1
        room = MAX_KEPT_ERRORS - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])
        self.errors_omitted += max(len(errors) - max(room, 0), 0)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return self.rejected_rows == 0

    @property
    def outcome(self) -> str:
        if self.committed:
            return "imported"
        if self.dry_run:
            return "dry run: nothing written"
        return "nothing imported: the file has rejected rows (fix them, or skip bad rows)"

    def to_dict(self) -> dict[str, Any]:
        verb = "created" if self.committed else "would_create"
        return {
            "kind": self.kind,
            "file": self.file_name,
            "dry_run": self.dry_run,
            "skip_bad_rows": self.skip_bad_rows,
            "committed": self.committed,
            "rows_read": self.rows_read,
            verb: dict(self.created),
            "skipped_duplicates": self.skipped_duplicates,
            "rejected_rows": self.rejected_rows,
            "errors": [error.as_dict() for error in self.errors],
            "errors_omitted": self.errors_omitted,
            "seconds": round(self.seconds, 3),
        }

    def summary_lines(self) -> list[str]:
        """A short human summary (without the error list)."""
        verb = "created" if self.committed else "would create"
        made = ", ".join(f"{count} {kind}" for kind, count in self.created.items())
        return [
            f"{self.file_name}: {self.rows_read} rows read in {self.seconds:.1f}s",
            f"{verb}: {made}",
            f"skipped duplicates (already imported): {self.skipped_duplicates}",
            f"rejected rows: {self.rejected_rows}",
            self.outcome,
        ]

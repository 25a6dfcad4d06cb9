"""Streaming CSV reading: decode block by block, sniff the delimiter, find the mapped columns.

Only one block (64 KiB) and the csv module's current record are in memory at a time,
so a file of any length streams. Decoding errors name the encoding and the row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO

from data.importer.mapping import CsvOptions
from data.importer.report import ImportFileError

BLOCK_BYTES = 1 << 16
SNIFF_LINES = 20
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
DELIMITER_LABELS = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tab", "|": "'|' (pipe)"}

Source = str | Path | IO[bytes]


@dataclass
class CsvStream:
    """An open CSV file: its header, and its data rows as (row number, cells)."""

    name: str
    header: list[str]
    delimiter: str
    rows: Iterator[tuple[int, list[str]]]
    binary: IO[bytes]
    size: int | None

    def fraction_read(self) -> float | None:
        """How much of the file has been read (block granularity), if its size is known."""
        if not self.size:
            return None
        try:
            return min(self.binary.tell() / self.size, 1.0)
        except (OSError, ValueError):
            return None


def source_name(source: Source) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "upload.csv")).name


@contextmanager
def open_csv(source: Source, options: CsvOptions) -> Iterator[CsvStream]:
    """Open a path or a binary file object; raises ImportFileError for an unusable file."""
    name = source_name(source)
    binary, owned = _open_binary(source, name)
    try:
        lines = _decoded_lines(binary, options.encoding)
        head = list(islice(lines, SNIFF_LINES))
        delimiter = sniff_delimiter(head) if options.delimiter == "auto" else options.delimiter
        reader = csv.reader(chain(head, lines), delimiter=delimiter, quotechar=options.quotechar)
        rows = _numbered(reader)
        first = next(rows, None)
        if first is None:
            raise ImportFileError(f"{name} is empty: expected a header row, then data rows")
        header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
        yield CsvStream(name, header, delimiter, rows, binary, _size(binary))
    finally:
        if owned:
            binary.close()


def _open_binary(source: Source, name: str) -> tuple[IO[bytes], bool]:
    if isinstance(source, str | Path):
        try:
            return open(source, "rb"), True  # noqa: SIM115 - closed by open_csv
        except OSError as exc:
            raise ImportFileError(f"cannot read {source}: {exc.strerror}") from None
    if isinstance(source, io.TextIOBase):
        raise TypeError(f"{name}: pass the file opened in binary mode ('rb')")
    return source, False


def _size(binary: IO[bytes]) -> int | None:
    try:
        if not binary.seekable():
            return None
        position = binary.tell()
        end = binary.seek(0, io.SEEK_END)
        binary.seek(position)
        return end
    except (OSError, ValueError, AttributeError):
        return None


def _decoded_lines(binary: IO[bytes], encoding: str) -> Iterator[str]:
    """Physical lines (ending in \\n) of the decoded file, one block at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending, lines_done = "", 0
    while True:
        block = binary.read(BLOCK_BYTES)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            line = lines_done + pending.count("\n") + block[: max(exc.start, 0)].count(b"\n") + 1
            bad = exc.object[exc.start : exc.start + 1].hex().upper()
            raise ImportFileError(
                f"the file is not {encoding} text: row {line} (line {line} of the file) has "
                f"the byte 0x{bad}, which {encoding} cannot read. Set csv.encoding in the "
                "mapping to the file's encoding (exports from Excel are often cp1252 or latin-1)"
            ) from None
        pending += text
        if "\n" in pending:
            *complete, pending = pending.split("\n")
            lines_done += len(complete)
            yield from (line + "\n" for line in complete)
        if not block:
            if pending:
                yield pending
            return


def sniff_delimiter(lines: list[str]) -> str:
    """The candidate delimiter that occurs most often in the header line; ',' if none."""
    header = next((line for line in lines if line.strip()), "")
    counts = {candidate: header.count(candidate) for candidate in CANDIDATE_DELIMITERS}
    best = max(CANDIDATE_DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each non-blank record; the first record is row 1."""
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                yield number, cells
    except csv.Error as exc:
        raise ImportFileError(f"row {number + 1} is not valid CSV: {exc}") from None


def resolve_columns(stream: CsvStream, wanted: dict[str, str]) -> dict[str, int]:
    """{field: column index} for the mapped headers; a clear error when any is absent."""
    folded: dict[str, list[int]] = {}
    for index, name in enumerate(stream.header):
        folded.setdefault(name.casefold(), []).append(index)
    found: dict[str, int] = {}
    missing: list[str] = []
    repeated: list[str] = []
    for field, column in wanted.items():
        same = [index for index, name in enumerate(stream.header) if name == column]
        candidates = same or folded.get(column.casefold(), [])
        if len(candidates) == 1:
            found[field] = candidates[0]
        else:
            (repeated if candidates else missing).append(f"'{column}' (columns.{field})")
    if repeated:
        raise ImportFileError(f"{stream.name}: the header has {', '.join(repeated)} twice")
    if missing:
        raise ImportFileError(_missing_message(stream, missing))
    return found


def _missing_message(stream: CsvStream, missing: list[str]) -> str:
    delimiter = DELIMITER_LABELS.get(stream.delimiter, repr(stream.delimiter))
    shown = ", ".join(repr(name) for name in stream.header[:30])
    hint = ""
    if len(stream.header) == 1:
        hint = " It has one column only: the delimiter is probably wrong (set csv.delimiter)."
    return (
        f"{stream.name}: the header has no column {', '.join(missing)}. Read with delimiter "
        f"{delimiter}, the header is: {shown}.{hint}"
    )

"""No staff member is booked twice: overlaps among non-cancelled appointments.

Intervals are half-open [start, end), as in PostgreSQL's exclusion constraint, so
back-to-back appointments are fine. A batch of candidate rows is checked against the
database (which, inside the import's transaction, already holds the earlier batches)
through a temporary scratch table and one indexed join; within the batch, in file order.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data.importer.bulk import insert_rows
from data.schema import appointments
from data.types import Key, UTCDateTime

_scratch = sa.Table(
    "import_scratch",
    sa.MetaData(),
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("staff_id", Key, nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
    prefixes=["TEMPORARY"],
)
a, s = appointments.c, _scratch.c


@dataclass(frozen=True)
class Slot:
    row: int
    staff_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Clash:
    """`row` overlaps `other` ("row 12" of the file, or an existing appointment)."""

    row: int
    other: str
    starts_at: datetime
    ends_at: datetime


def find_clashes_within(slots: Iterable[Slot]) -> dict[int, Clash]:
    """Rows that overlap an earlier (accepted) row of the same staff member, in file order."""
    accepted: dict[int, list[tuple[datetime, datetime, int]]] = {}
    clashes = {}
    for slot in slots:
        taken = accepted.setdefault(slot.staff_id, [])
        at = bisect.bisect_left(taken, (slot.starts_at,))
        for start, end, row in taken[max(at - 1, 0) : at + 1]:
            if start < slot.ends_at and slot.starts_at < end:
                clashes[slot.row] = Clash(slot.row, f"row {row}", start, end)
                break
        else:
            taken.insert(at, (slot.starts_at, slot.ends_at, slot.row))
    return clashes


class OverlapGuard:
    """Checks batches against the database; create it inside the import's transaction."""

    def __init__(self, conn: Connection, *, business_id: int) -> None:
        self.conn, self.business_id = conn, business_id
        _scratch.create(conn, checkfirst=True)
        self.analysed = False
        self.longest = self._longest_appointment()

    def close(self) -> None:
        _scratch.drop(self.conn, checkfirst=True)

    def _longest_appointment(self) -> timedelta:
        """Bounds each lookup from below, so it is an index range, not a scan."""
        if self.conn.dialect.name == "sqlite":
            span = sa.func.julianday(a.ends_at) - sa.func.julianday(a.starts_at)
            factor = 86_400.0
        else:
            span = sa.extract("epoch", a.ends_at - a.starts_at)
            factor = 1.0
        query = sa.select(sa.func.max(span)).where(a.business_id == self.business_id)
        longest = self.conn.execute(query).scalar()
        return timedelta(seconds=float(longest or 0) * factor + 1)

    def _fill(self, rows: list[dict[str, object]]) -> None:
        self.conn.execute(_scratch.delete())
        if rows:
            insert_rows(self.conn, _scratch, rows)
            if not self.analysed and self.conn.dialect.name == "postgresql":
                self.conn.exec_driver_sql(f"ANALYZE {_scratch.name}")  # temp: never auto
                self.analysed = True

    def existing_clashes(self, slots: list[Slot]) -> dict[int, Clash]:
        """Rows that overlap a non-cancelled appointment already in the database."""
        longest = max([self.longest, *(slot.ends_at - slot.starts_at for slot in slots)])
        self._fill(
            [
                {"row_no": slot.row, "staff_id": slot.staff_id, "starts_at": slot.starts_at,
                 "ends_at": slot.ends_at, "window_start": slot.starts_at - longest}
                for slot in slots
            ]
        )  # fmt: skip
        joined = _scratch.join(
            appointments,
            sa.and_(
                a.business_id == self.business_id,
                a.staff_id == s.staff_id,
                a.starts_at >= s.window_start,
                a.starts_at < s.ends_at,
                a.ends_at > s.starts_at,
                a.status != "cancelled",
            ),
        )
        query = sa.select(s.row_no, a.id, a.external_id, a.starts_at, a.ends_at).select_from(joined)
        clashes: dict[int, Clash] = {}
        for row in self.conn.execute(query.order_by(s.row_no, a.starts_at)):
            other = f"appointment {row.external_id or '#' + str(row.id)}"
            clashes.setdefault(row.row_no, Clash(row.row_no, other, row.starts_at, row.ends_at))
        return clashes

    def note_written(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self.longest = max(self.longest, slot.ends_at - slot.starts_at)

    def latest_ends(self, days: list[tuple[int, datetime, datetime]]) -> dict[int, datetime]:
        """{index: latest end} of non-cancelled appointments per (staff, day start, day end)."""
        self._fill(
            [
                {"row_no": i, "staff_id": staff_id, "starts_at": start, "ends_at": end,
                 "window_start": start}
                for i, (staff_id, start, end) in enumerate(days)
            ]
        )  # fmt: skip
        joined = _scratch.join(
            appointments,
            sa.and_(
                a.business_id == self.business_id,
                a.staff_id == s.staff_id,
                a.starts_at >= s.starts_at,
                a.starts_at < s.ends_at,
                a.status != "cancelled",
            ),
        )
        latest = sa.func.max(a.ends_at).label("latest")
        query = sa.select(s.row_no, latest).select_from(joined).group_by(s.row_no)
        return {row.row_no: row.latest for row in self.conn.execute(query)}

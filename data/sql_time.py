"""Local wall-clock time and durations in SQL, the same on SQLite and PostgreSQL.

PostgreSQL converts with `timezone(zone, instant)` (the tz database, DST included).
SQLite has no time zones, so the zone's offsets over the queried span are computed in
Python (`scheduling.timezones.offset_changes`) and applied with a CASE over the stored
UTC text: exact for every instant inside the span, DST switches included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduling.timezones import offset_changes

Expr = sa.ColumnElement[Any]


@dataclass(frozen=True)
class LocalClock:
    """Builds local-time expressions for one dialect, zone and span of instants."""

    dialect: str
    tz: str
    changes: tuple[tuple[datetime, int], ...]
    start: datetime
    end: datetime

    @classmethod
    def over(cls, dialect: str, tz: str, start: datetime, end: datetime) -> LocalClock:
        """A clock exact for instants in [start, end) (padded by a day each side)."""
        pad = timedelta(days=1)
        start, end = start - pad, end + pad
        changes = () if dialect == "postgresql" else tuple(offset_changes(tz, start, end))
        return cls(dialect, tz, changes, start, end)

    def wall(self, instant: Any) -> Expr:
        """The local wall-clock timestamp of a UTC column (naive)."""
        if self.dialect == "postgresql":
            return sa.func.timezone(sa.literal(self.tz, sa.String), instant)
        (_, first), *later = self.changes
        whens = []
        offset = first
        for at, new_offset in later:
            whens.append((instant < at, _sqlite_shift(instant, offset)))
            offset = new_offset
        last = _sqlite_shift(instant, offset)
        return sa.case(*whens, else_=last) if whens else last

    def day(self, instant: Any) -> Expr:
        """The local calendar day: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
        wall = self.wall(instant)
        return sa.cast(wall, sa.Date) if self.dialect == "postgresql" else sa.func.date(wall)

    def hour_start(self, instant: Any) -> Expr:
        """The local hour an instant falls in, as one grouping key: the naive wall-clock
        start of the hour on PostgreSQL, 'YYYY-MM-DD HH' text on SQLite (a prefix of the
        shifted text: half the cost of grouping by `day` and an extracted hour)."""
        wall = self.wall(instant)
        if self.dialect == "postgresql":
            return sa.func.date_trunc("hour", wall)
        return sa.func.substr(wall, 1, 13)

    def dow_hour_minute(self, instant: Any) -> tuple[Expr, Expr, Expr]:
        """Local day of week (0 = Sunday), hour and minute, as integers."""
        wall = self.wall(instant)
        return tuple(
            sa.cast(sa.extract(part, wall), sa.Integer) for part in ("dow", "hour", "minute")
        )  # type: ignore[return-value]

    def month_index(self, instant: Any) -> Expr:
        """Local year * 12 + month - 1: consecutive months are consecutive integers.

        On SQLite: compare with each local month's first instant (cheap text compares)."""
        if self.dialect != "postgresql":
            return _month_case(instant, self.tz, self.start, self.end)
        wall = self.wall(instant)
        year = sa.cast(sa.extract("year", wall), sa.Integer)
        return year * 12 + sa.cast(sa.extract("month", wall), sa.Integer) - 1


def _month_case(instant: Any, tz: str, start: datetime, end: datetime) -> Expr:
    zone = ZoneInfo(tz)
    first = start.astimezone(zone)
    month = first.year * 12 + first.month - 1
    last = end.astimezone(zone)
    whens = []
    while month < last.year * 12 + last.month - 1:
        nxt = month + 1
        boundary = datetime(nxt // 12, nxt % 12 + 1, 1, tzinfo=zone).astimezone(UTC)
        whens.append((instant < boundary, sa.literal(month)))
        month = nxt
    return sa.case(*whens, else_=sa.literal(month)) if whens else sa.literal(month)


def _sqlite_shift(instant: Any, offset_seconds: int) -> Expr:
    return sa.func.datetime(instant, sa.literal(f"{offset_seconds:+d} seconds"))


def minutes_between(dialect: str, earlier: Any, later: Any) -> Expr:
    """(later - earlier) in minutes, as a float."""
    if dialect == "postgresql":
        seconds = sa.extract("epoch", later - earlier)
        return sa.cast(seconds, sa.Float) / 60.0
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 1440.0


def plus_days(dialect: str, instant: Any, days: int) -> Expr:
    """The instant `days` later, comparable with the same column type."""
    if dialect == "postgresql":
        return instant + sa.literal(timedelta(days=days), sa.Interval)
    # Stored SQLite text is 'YYYY-MM-DD HH:MM:SS.ffffff'; keep that shape so text compares.
    return sa.func.strftime("%Y-%m-%d %H:%M:%f000", instant, sa.literal(f"{days:+d} days"))

"""Local-day boundaries in a business's time zone, as UTC instants. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_day_bounds(day: date, tz_name: str, *, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) in UTC of `days` local calendar days from `day` (23 or 25 h on DST days)."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=days), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_today(tz_name: str, *, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz_name)).date()


def offset_changes(tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over [start, end): [(from_instant, offset_seconds), ...].

    The first entry starts at `start`; each later one at the exact instant the offset
    changed (a DST switch). Found by sampling every 6 hours and bisecting to the second.
    """
    zone = ZoneInfo(tz_name)

    def offset(instant: datetime) -> int:
        delta = instant.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start, end = start.astimezone(UTC), end.astimezone(UTC)
    changes = [(start, offset(start))]
    step = timedelta(hours=6)
    cursor = start
    while cursor < end:
        nxt = min(cursor + step, end)
        if offset(nxt) != changes[-1][1]:
            low, high = cursor, nxt  # offset(low) is the old one, offset(high) the new
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                low, high = (mid, high) if offset(mid) == changes[-1][1] else (low, mid)
            changes.append((high.replace(microsecond=0), offset(high)))
        cursor = nxt
    return changes

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

"""Available working minutes, by staff member and local hour. Pure.

Capacity is the working hours (weekly shifts in local wall-clock time) minus time off
and whole-business closures. It is exploded into one row per staff member and local
hour, so the same frame sums to per-day, per-staff and weekday x hour totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from scheduling.availability import (
    Interval,
    StaffSchedule,
    compute_working_intervals,
    subtract_intervals,
)
from scheduling.timezones import offset_changes

CAPACITY_COLUMNS = ["staff_id", "day", "weekday", "hour", "minutes"]
HOUR = 3600
DAY_HOURS = 24
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (0 = Monday)


def compute_capacity(
    schedules: Sequence[StaffSchedule], *, tz: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """Available minutes in [start, end): columns staff_id, day (local date, datetime64),
    weekday (0 = Monday), hour (local), minutes. One row per staff member and local hour
    with any working time."""
    staff_ids, starts, ends = _free_seconds(schedules, tz=tz, start=start, end=end)
    if not len(starts):
        return pd.DataFrame({column: [] for column in CAPACITY_COLUMNS}).astype(
            {"staff_id": int, "day": "datetime64[s]", "weekday": int, "hour": int}
        )
    staff_ids, local_starts, local_ends = _to_local(
        staff_ids, starts, ends, tz=tz, start=start, end=end
    )
    return _explode_hours(staff_ids, local_starts, local_ends)


def _free_seconds(
    schedules: Sequence[StaffSchedule], *, tz: str, start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working minus time off, as epoch-second arrays (staff_id, start, end)."""
    by_pattern: dict[tuple, list[Interval]] = {}
    ids, starts, ends = [], [], []
    for schedule in schedules:
        pattern = tuple(sorted(schedule.shifts, key=lambda s: (s.weekday, s.start)))
        if pattern not in by_pattern:  # many staff share a rota: expand each rota once
            by_pattern[pattern] = compute_working_intervals(
                pattern, timezone=tz, start=start, end=end
            )
        intervals = by_pattern[pattern]
        if schedule.time_off:
            intervals = subtract_intervals(intervals, schedule.time_off)
        ids.append(np.full(len(intervals), schedule.staff_id, dtype=np.int64))
        starts.append(np.array([i.start.timestamp() for i in intervals], dtype=np.int64))
        ends.append(np.array([i.end.timestamp() for i in intervals], dtype=np.int64))
    if not ids:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(ids), np.concatenate(starts), np.concatenate(ends)


def _to_local(
    staff_ids: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    tz: str,
    start: datetime,
    end: datetime,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local wall-clock seconds; an interval spanning a DST switch is split at it, so
    each piece keeps its true length and its own offset."""
    changes = offset_changes(tz, start, end)
    instants = np.array([at.astimezone(UTC).timestamp() for at, _ in changes], dtype=np.int64)
    offsets = np.array([offset for _, offset in changes], dtype=np.int64)
    for switch in instants[1:]:
        crossing = (starts < switch) & (ends > switch)
        if crossing.any():
            staff_ids = np.concatenate([staff_ids, staff_ids[crossing]])
            starts = np.concatenate([starts, np.full(crossing.sum(), switch)])
            ends = np.concatenate([np.where(crossing, switch, ends), ends[crossing]])
    index = np.clip(np.searchsorted(instants, starts, side="right") - 1, 0, len(offsets) - 1)
    return staff_ids, starts + offsets[index], ends + offsets[index]


def _explode_hours(staff_ids: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pd.DataFrame:
    first = starts // HOUR
    counts = -(-ends // HOUR) - first  # ceil(end) - floor(start)
    row = np.repeat(np.arange(len(starts)), counts)
    offset_in_row = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    hour_index = first[row] + offset_in_row
    seconds = np.minimum(ends[row], (hour_index + 1) * HOUR) - np.maximum(
        starts[row], hour_index * HOUR
    )
    day_index = hour_index // DAY_HOURS
    frame = pd.DataFrame(
        {
            "staff_id": staff_ids[row],
            "day": day_index.astype("datetime64[D]").astype("datetime64[s]"),
            "weekday": (day_index + EPOCH_WEEKDAY) % 7,
            "hour": hour_index % DAY_HOURS,
            "minutes": seconds / 60.0,
        }
    )
    frame = frame[frame["minutes"] > 0]
    return frame.groupby(CAPACITY_COLUMNS[:-1], as_index=False)["minutes"].sum()

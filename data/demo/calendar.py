"""The calendar: the two-year window, day numbers and local-to-UTC conversion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

from data.demo.model import HISTORY_YEARS, HORIZON_DAYS, SETTINGS, TIMEZONE

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Window:
    """Days are day numbers (days since 1970-01-01), instants are UTC epoch seconds."""

    first_day: int  # inclusive
    end_day: int  # exclusive
    today: int
    now: int  # local midnight at the start of today
    holidays: dict[date, str]

    @property
    def days(self) -> np.ndarray:
        return np.arange(self.first_day, self.end_day, dtype=np.int64)

    @property
    def holiday_days(self) -> np.ndarray:
        return np.array([day_number(day) for day in self.holidays], dtype=np.int64)

    @property
    def years(self) -> range:
        return range(_date(self.first_day).year, _date(self.end_day).year + 1)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def _date(day_number: int) -> date:
    return EPOCH + timedelta(days=int(day_number))


def build_window(today: date) -> Window:
    leap_day = today.month == 2 and today.day == 29
    first = today.replace(year=today.year - HISTORY_YEARS, day=28 if leap_day else today.day)
    end = today + timedelta(days=HORIZON_DAYS)
    years = range(first.year, end.year + 1)
    closed = holidays.country_holidays(SETTINGS.country, years=years)
    in_window = {day: name for day, name in sorted(closed.items()) if first <= day < end}
    midnight = local_to_utc(np.array([day_number(today)]), np.zeros(1, np.int64))
    return Window(
        day_number(first), day_number(end), day_number(today), int(midnight[0]), in_window
    )


def weekday_of(days: np.ndarray) -> np.ndarray:
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def local_to_utc(days: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Local wall-clock (day, minute of day) to UTC epoch seconds, DST-safe.

    Ambiguous times (the repeated hour in October) take standard time; times that do not
    exist (the skipped hour in March) move forward. A salon never opens at 2 a.m., but
    the conversion stays correct if one did.
    """
    local = np.asarray(days).astype("datetime64[D]").astype("datetime64[s]") + minutes * 60
    index = pd.DatetimeIndex(local).tz_localize(
        TIMEZONE, ambiguous=np.zeros(len(local), bool), nonexistent="shift_forward"
    )
    return index.as_unit("s").asi8


def to_utc_column(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds, unit="s", utc=True))

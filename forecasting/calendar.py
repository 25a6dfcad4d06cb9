"""Calendar features of local wall-clock series: hour of week, weekly lags, day types. Pure.

Every lag here is a wall-clock lag (`ds - 7 days`), never a row shift: a local series
has 23 rows on the spring-forward day, so 168 rows back is not always a week back.
"""

from __future__ import annotations

from collections.abc import Iterable

import holidays as holiday_calendars
import numpy as np
import pandas as pd

WEEK = pd.Timedelta(days=7)
DAYTYPES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
HOLIDAY = DAYTYPES.index("holiday")


def hour_of_week(ds: pd.Series) -> np.ndarray:
    """0 = Monday 00:00 ... 167 = Sunday 23:00 (daily series use hour 0)."""
    return (ds.dt.day_of_week * 24 + ds.dt.hour).to_numpy()


def is_hourly(ds: pd.Series) -> bool:
    """Hourly (or finer) steps, as opposed to one row per day."""
    steps = ds.sort_values().diff().dropna()
    return bool(len(steps)) and steps.median() < pd.Timedelta(days=1)


def step_of(ds: pd.Series) -> pd.Timedelta:
    return pd.Timedelta(hours=1) if is_hourly(ds) else pd.Timedelta(days=1)


def open_values(history: pd.DataFrame) -> pd.Series:
    """y of the open rows with a finite value, indexed by ds (the lag lookup table)."""
    rows = history[history["is_open"].to_numpy(dtype=bool)]
    values = pd.Series(rows["y"].to_numpy(dtype=float), index=pd.DatetimeIndex(rows["ds"]))
    return values[np.isfinite(values.to_numpy())]


def last_open_week(
    known: pd.Series, ds: pd.Series, *, first_week: np.ndarray | int = 1, max_weeks: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """For each ds, the value at the most recent same wall-clock hour k weeks back that is
    known (open, in `known`), trying k = first_week .. first_week + max_weeks - 1.

    Returns (values, weeks back); NaN and 0 where none was found.
    """
    first = np.broadcast_to(np.asarray(first_week, dtype=int), (len(ds),))
    values = np.full(len(ds), np.nan)
    weeks = np.zeros(len(ds), dtype=int)
    stamps = pd.DatetimeIndex(ds)
    for extra in range(max_weeks):
        missing = np.isnan(values)
        if not missing.any():
            break
        back = first + extra
        looked_up = known.reindex(stamps - pd.to_timedelta(back * 7, unit="D")).to_numpy()
        fill = missing & ~np.isnan(looked_up)
        values[fill] = looked_up[fill]
        weeks[fill] = back[fill]
    return values, weeks


def holiday_dates(country: str | None, years: Iterable[int]) -> pd.DatetimeIndex:
    """The country's public holidays (the `holidays` package, as Prophet uses it)."""
    if not country:
        return pd.DatetimeIndex([])
    found = holiday_calendars.country_holidays(country, years=sorted(set(years)))
    return pd.DatetimeIndex(sorted(pd.Timestamp(day) for day in found))


def check_country(country: str | None) -> str | None:
    """None when the country has holidays in the package, else a readable problem."""
    if not country:
        return None
    try:
        holiday_calendars.country_holidays(country)
    except NotImplementedError:
        return f"no public holidays are known for country code {country!r}"
    return None


def daytype_index(ds: pd.Series, holidays: pd.DatetimeIndex) -> np.ndarray:
    """0-6 = Monday-Sunday, 7 = a public holiday (whatever its weekday)."""
    days = ds.dt.normalize()
    index = days.dt.day_of_week.to_numpy().copy()
    index[days.isin(holidays).to_numpy()] = HOLIDAY
    return index


def years_of(ds: pd.Series) -> range:
    return range(int(ds.dt.year.min()), int(ds.dt.year.max()) + 1)

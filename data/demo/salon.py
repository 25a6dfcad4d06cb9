"""The salon: staff, services, weekly hours and time off."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pandas as pd

from data.demo import names
from data.demo.calendar import Window, day_number, local_to_utc, to_utc_column
from data.demo.model import SECONDS_PER_DAY, make_rng


def _staff_names(n: int, rng: np.random.Generator) -> list[str]:
    """The fixed names first, then random ones; repeats get a number ("Anna Weber 2")."""
    fixed = list(names.STAFF_NAMES[:n])
    firsts = rng.choice(names.FIRST_NAMES_FEMALE + names.FIRST_NAMES_MALE, n - len(fixed))
    lasts = rng.choice(names.LAST_NAMES, n - len(fixed))
    full = pd.Series(fixed + [f"{a} {b}" for a, b in zip(firsts, lasts, strict=True)], dtype=object)
    repeat = full.groupby(full).cumcount()
    return full.where(repeat == 0, full + " " + (repeat + 1).astype(str)).tolist()


def email_local(full_names: pd.Series) -> pd.Series:
    text = full_names.str.translate(names.EMAIL_TRANSLITERATION).str.lower()
    return text.str.replace(r"[^a-z ]", "", regex=True).str.strip().str.replace(" ", ".")


def _hire_days(n_staff: int, window: Window, seed: int) -> np.ndarray:
    """The day each stylist started: years ago, or during the first year for late joiners."""
    rng = make_rng(seed, f"hires-{n_staff}")
    late = np.isin(np.arange(n_staff) % len(names.HOURS_PATTERNS), names.LATE_JOINERS)
    veteran = window.first_day - rng.integers(400, 3000, n_staff)
    joiner = window.first_day + rng.integers(240, 330, n_staff)
    return np.where(late, joiner, veteran)


def build_staff(n: int, window: Window, seed: int) -> pd.DataFrame:
    display = pd.Series(_staff_names(n, make_rng(seed, "staff")), dtype=object)
    hired = local_to_utc(_hire_days(n, window, seed), np.full(n, 8 * 60))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "display_name": display,
            "email": email_local(display) + "@demo.slotboard.test",
            "phone": None,
            "color": [names.STAFF_COLORS[i % len(names.STAFF_COLORS)] for i in range(n)],
            "is_active": True,
            "created_at": to_utc_column(hired),
            "updated_at": to_utc_column(hired),
        }
    )


def build_services(window: Window) -> pd.DataFrame:
    rows = pd.DataFrame(
        names.SERVICES,
        columns=["name", "category", "duration_min", "buffer_min", "price_cents", "share"],
    )
    rows.insert(0, "id", np.arange(1, len(rows) + 1))
    opened = to_utc_column(np.full(len(rows), window.now - 800 * SECONDS_PER_DAY))
    return rows.drop(columns="share").assign(is_active=True, created_at=opened, updated_at=opened)


def build_staff_services(n_staff: int) -> pd.DataFrame:
    pairs = [
        (i + 1, s + 1)
        for i in range(n_staff)
        for s in names.ARCHETYPE_SERVICES[names.ARCHETYPES[i % len(names.ARCHETYPES)]]
    ]
    return pd.DataFrame(pairs, columns=["staff_id", "service_id"])


def _parse_hours(pattern: str) -> list[tuple[int, time, time]]:
    """'Tue-Wed 09:00-13:00 14:00-18:30; Sat 08:00-16:00' -> [(weekday, start, end), ...]"""
    rows = []
    for part in pattern.split(";"):
        days, *intervals = part.split()
        first, _, last = days.partition("-")
        span = range(names.WEEKDAYS.index(first), names.WEEKDAYS.index(last or first) + 1)
        for interval in intervals:
            start, end = (time.fromisoformat(t) for t in interval.split("-"))
            rows += [(weekday, start, end) for weekday in span]
    return sorted(rows)


def build_working_hours(n_staff: int) -> pd.DataFrame:
    patterns = [_parse_hours(p) for p in names.HOURS_PATTERNS]
    rows = [(i + 1, *row) for i in range(n_staff) for row in patterns[i % len(patterns)]]
    frame = pd.DataFrame(rows, columns=["staff_id", "weekday", "start_time", "end_time"])
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def _monday_of_week(year: int, week: np.ndarray) -> np.ndarray:
    """Day numbers of the Mondays of ISO weeks `week` in `year`."""
    jan4 = day_number(date(year, 1, 4))
    return jan4 - (jan4 + 3) % 7 + 7 * (week - 1)


def _before_joining(hired: np.ndarray, window: Window) -> pd.DataFrame:
    """Late joiners are away from the window's start until their first day."""
    late = np.flatnonzero(hired > window.first_day)
    return pd.DataFrame(
        {
            "staff_id": late + 1,
            "first": window.first_day,
            "days": hired[late] - window.first_day,
            "reason": "Not yet with the salon",
        }
    )


def _vacations(n_staff: int, window: Window, rng: np.random.Generator) -> pd.DataFrame:
    """A fortnight in summer and a week in spring or autumn, per stylist and year."""
    parts = []
    staff_ids = np.arange(1, n_staff + 1)
    for year in window.years:
        summer = _monday_of_week(year, rng.integers(24, 34, n_staff))
        spring = rng.random(n_staff) < 0.5
        week = np.where(spring, rng.integers(6, 20, n_staff), rng.integers(38, 47, n_staff))
        parts.append(pd.DataFrame({"staff_id": staff_ids, "first": summer, "days": 14}))
        parts.append(
            pd.DataFrame({"staff_id": staff_ids, "first": _monday_of_week(year, week), "days": 7})
        )
    return pd.concat(parts, ignore_index=True).assign(reason="Vacation")


def _sick_leave(n_staff: int, window: Window, rng: np.random.Generator) -> pd.DataFrame:
    """About two short sick leaves per stylist and year, only in the past."""
    n_days = window.today - window.first_day
    count = rng.poisson(2.0 * n_days / 365.25 * n_staff)
    return pd.DataFrame(
        {
            "staff_id": rng.integers(1, n_staff + 1, count),
            "first": window.first_day + rng.integers(0, n_days, count),
            "days": rng.choice([1, 2, 3, 5], count, p=[0.4, 0.3, 0.2, 0.1]),
            "reason": "Sick leave",
        }
    )


def _without_clashes(extra: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """`extra` minus the rows that overlap `kept` or an earlier row of `extra`."""
    pairs = extra.reset_index().merge(kept, on="staff_id", suffixes=("", "_k"))
    hits = (pairs["first"] < pairs["first_k"] + pairs["days_k"]) & (
        pairs["first_k"] < pairs["first"] + pairs["days"]
    )
    rest = extra.drop(index=pairs.loc[hits, "index"].unique()).sort_values(["staff_id", "first"])
    reach = (rest["first"] + rest["days"]).groupby(rest["staff_id"]).cummax().shift()
    clash = rest["staff_id"].eq(rest["staff_id"].shift()) & (rest["first"] < reach)
    return rest[~clash]


def staff_absences(n_staff: int, window: Window, seed: int) -> pd.DataFrame:
    """Per-staff time off as whole local days: staff_id, first (day), days, reason."""
    rng = make_rng(seed, f"time-off-{n_staff}")
    joining = _before_joining(_hire_days(n_staff, window, seed), window)
    vacations = _without_clashes(_vacations(n_staff, window, rng), joining)
    settled = pd.concat([joining, vacations], ignore_index=True)
    sick = _without_clashes(_sick_leave(n_staff, window, rng), settled)
    rows = pd.concat([settled, sick], ignore_index=True)
    last = rows["first"].to_numpy() + rows["days"].to_numpy()
    keep = (last > window.first_day) & (rows["first"].to_numpy() < window.end_day)
    return rows[keep].sort_values(["first", "staff_id"], ignore_index=True)


def build_time_off(absences: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Staff absences plus business-wide closures (staff_id NULL) for public holidays."""
    closed = pd.DataFrame(
        {
            "staff_id": pd.NA,
            "first": window.holiday_days,
            "days": 1,
            "reason": list(window.holidays.values()),
        }
    )
    rows = pd.concat([closed, absences], ignore_index=True)
    first = rows["first"].to_numpy(np.int64)
    zero = np.zeros(len(rows), np.int64)
    starts = local_to_utc(first, zero)
    ends = local_to_utc(first + rows["days"].to_numpy(), zero)
    planned = np.where(rows["reason"] == "Sick leave", starts + 7 * 3600, starts - 60 * 86_400)
    created = np.minimum(planned, window.now - 86_400)
    return pd.DataFrame(
        {
            "id": np.arange(1, len(rows) + 1),
            "staff_id": rows["staff_id"].astype("Int64"),
            "starts_at": to_utc_column(starts),
            "ends_at": to_utc_column(ends),
            "reason": rows["reason"].astype(object),
            "created_at": to_utc_column(created),
            "updated_at": to_utc_column(created),
        }
    )

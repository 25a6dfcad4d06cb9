"""The deterministic demo business: a Berlin hair salon with two years of history.

`build_demo` is pure (numpy and pandas only): the same `(appointments, seed, today)`
gives identical frames. `seed_demo` writes one build into a database in a single
transaction, so a failure leaves nothing behind.

The model, in the order it is built:

1. **Calendar.** Two years up to `today` plus six weeks ahead, in Europe/Berlin. "Now"
   is local midnight at the start of `today`: everything before it has happened,
   everything from it on is still booked. Sundays and German public holidays (the
   `holidays` package, as business-wide time off) are closed.
2. **Salon.** Seven stylists of five kinds (senior, colourist, stylist, barber, junior),
   each with their own weekly hours (lunch breaks, late shifts, part time), the services
   their kind offers, two vacations a year and the odd sick leave. One of them joined
   during the first year (time off "Not yet with the salon" until then).
3. **Candidate slots.** Every working block is packed with back-to-back services on a
   15-minute grid, each followed by its buffer. Candidates never overlap, so any subset
   of them is a valid calendar: thinning them can never double-book anyone.
4. **Demand.** Each candidate is kept with probability `min(1, scale * demand)`, where
   demand is the product of a time-of-day curve (late-morning and after-work peaks),
   the weekday (Friday and Saturday busiest), the season (December peak, January and
   summer dips), 15 % yearly growth, day-to-day noise and per-stylist popularity.
   Every candidate also draws a lead time (minutes for walk-ins, hours to weeks for
   bookings); future slots survive only if they were booked before now, so the
   calendar thins out further ahead.
5. **Customers.** Week by week, about one visit in ten is a first visit; the rest go to
   active customers, weighted by each one's own visit rate. A third of newcomers never
   return, others leave after a random lifetime, a fifth stay. Some walk-ins have no
   customer record. Contact details are fictional: `example.*` e-mail domains and the
   Bundesnetzagentur's "Drama Numbers" (see `data/demo_names.py`).
6. **Outcomes.** Cancellations and no-shows grow with the lead time; an SMS reminder
   (the customer's opt-in) roughly halves no-shows. Past visits end completed,
   cancelled or no_show; upcoming ones are booked or confirmed, or already cancelled.

Size. `appointments=None` keeps the natural scale, solved so that 72 % of the past
working time is booked (about two thirds after cancellations): about 21-22 thousand
appointments for seven stylists and 3-4 thousand customers. `appointments=N` returns
exactly N: the scale is solved for slightly more than N candidates, then a random subset
is dropped. Beyond what seven stylists can serve at that utilisation (about 10 % over
it), the salon grows instead: more staff (the same eight kinds and schedules, repeated)
and, through the visit model, more customers, in proportion; a million appointments is
a salon of about 300 stylists and 150 thousand customers.
"""

from __future__ import annotations

import json
import math
import time as clock
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.passwords import hash_password
from auth.roles import Actor
from data import demo_names as names
from data.audit import record_audit
from data.business import create_business, load_business_by_slug
from data.db import read_conn, write_tx
from data.schema import (
    accounts,
    appointments,
    customers,
    services,
    staff,
    staff_services,
    time_off,
    working_hours,
)
from scheduling.business import BusinessSettings

DEMO_SLUG = "demo-salon"
TIMEZONE = "Europe/Berlin"
SETTINGS = BusinessSettings(
    name="Salon Lindenblatt (demo)", timezone=TIMEZONE, country="DE", currency="EUR"
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str
    display_name: str


#: One sign-in per role. The passwords are public on purpose: this is demo data.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("owner@demo.slotboard.test", "owner", "demo-owner-2026", "Sabine Brandt"),
    DemoAccount("staff@demo.slotboard.test", "staff", "demo-staff-2026", names.STAFF_NAMES[0]),
    DemoAccount("analyst@demo.slotboard.test", "analyst", "demo-analyst-2026", "Tom Becker"),
)
#: The demo "staff" account signs in as this staff member (staff.account_id).
STAFF_ACCOUNT_STAFF_ID = 1


@dataclass(frozen=True)
class DemoSummary:
    business_id: int
    staff: int
    services: int
    customers: int
    appointments: int
    first_start: datetime
    last_start: datetime
    seconds: float


class DemoAlreadySeeded(RuntimeError):
    """A business with DEMO_SLUG exists already."""


@dataclass(frozen=True, eq=False)
class DemoData:
    """One generated business. Frames carry the table's columns (no business_id); ids are
    1-based within the demo and are remapped to real ids when seeded."""

    settings: BusinessSettings
    today: date
    now: datetime
    staff: pd.DataFrame
    services: pd.DataFrame
    staff_services: pd.DataFrame
    working_hours: pd.DataFrame
    time_off: pd.DataFrame
    customers: pd.DataFrame
    appointments: pd.DataFrame
    staff_account_staff_id: int = STAFF_ACCOUNT_STAFF_ID


# --- model parameters -------------------------------------------------------------------
DEFAULT_STAFF = 7
HISTORY_YEARS = 2
HORIZON_DAYS = 42
GRID_MIN = 15
EVENING_MIN = 16 * 60
TARGET_BOOKED_SHARE = 0.72
YEARLY_GROWTH = 0.15
MAX_LEAD_DAYS = 120
HOUR_POINTS = np.arange(8, 21)
HOUR_WEIGHTS = np.array([0.4, 0.62, 0.92, 1.0, 0.78, 0.55, 0.5, 0.58, 0.8, 1.0, 1.0, 0.85, 0.55])
WEEKDAY_WEIGHTS = np.array([0.62, 0.7, 0.8, 0.92, 1.12, 1.3, 0.0])
MONTH_WEIGHTS = np.array([0.74, 0.86, 0.96, 1.0, 1.02, 0.97, 0.84, 0.8, 0.98, 1.0, 1.05, 1.25])
GAPS_MIN, GAP_SHARES = np.array([0, 15, 30]), np.array([0.85, 0.1, 0.05])
NEW_CUSTOMER_SHARE = 0.1
ONE_TIMER_SHARE, LOYAL_SHARE = 0.33, 0.2
MEAN_LIFETIME_WEEKS = 75
MEAN_GAP_WEEKS = 7
WALK_IN_WITHOUT_RECORD = 0.4
SOURCES = np.array(["online", "phone", "staff", "walk_in"])
SECONDS_PER_DAY = 86_400
EPOCH = date(1970, 1, 1)


def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent stream per part, so changing one part never shifts another."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


# --- calendar ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Window:
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
        return np.array([_day_number(day) for day in self.holidays], dtype=np.int64)

    @property
    def years(self) -> range:
        return range(_date(self.first_day).year, _date(self.end_day).year + 1)


def _day_number(day: date) -> int:
    return (day - EPOCH).days


def _date(day_number: int) -> date:
    return EPOCH + timedelta(days=int(day_number))


def _build_window(today: date) -> _Window:
    leap_day = today.month == 2 and today.day == 29
    first = today.replace(year=today.year - HISTORY_YEARS, day=28 if leap_day else today.day)
    end = today + timedelta(days=HORIZON_DAYS)
    years = range(first.year, end.year + 1)
    closed = holidays.country_holidays(SETTINGS.country, years=years)
    in_window = {day: name for day, name in sorted(closed.items()) if first <= day < end}
    midnight = _local_to_utc(np.array([_day_number(today)]), np.zeros(1, np.int64))
    return _Window(
        _day_number(first), _day_number(end), _day_number(today), int(midnight[0]), in_window
    )


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def _local_to_utc(days: np.ndarray, minutes: np.ndarray) -> np.ndarray:
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


def _to_utc_column(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds, unit="s", utc=True))


# --- the salon: staff, services, hours, time off ----------------------------------------
def _staff_names(n: int, rng: np.random.Generator) -> list[str]:
    """The fixed names first, then random ones; repeats get a number ("Anna Weber 2")."""
    fixed = list(names.STAFF_NAMES[:n])
    firsts = rng.choice(names.FIRST_NAMES_FEMALE + names.FIRST_NAMES_MALE, n - len(fixed))
    lasts = rng.choice(names.LAST_NAMES, n - len(fixed))
    full = pd.Series(fixed + [f"{a} {b}" for a, b in zip(firsts, lasts, strict=True)], dtype=object)
    repeat = full.groupby(full).cumcount()
    return full.where(repeat == 0, full + " " + (repeat + 1).astype(str)).tolist()


def _email_local(full_names: pd.Series) -> pd.Series:
    text = full_names.str.translate(names.EMAIL_TRANSLITERATION).str.lower()
    return text.str.replace(r"[^a-z ]", "", regex=True).str.strip().str.replace(" ", ".")


def _hire_days(n_staff: int, window: _Window, seed: int) -> np.ndarray:
    """The day each stylist started: years ago, or during the first year for late joiners."""
    rng = _rng(seed, f"hires-{n_staff}")
    late = np.isin(np.arange(n_staff) % len(names.HOURS_PATTERNS), names.LATE_JOINERS)
    veteran = window.first_day - rng.integers(400, 3000, n_staff)
    joiner = window.first_day + rng.integers(240, 330, n_staff)
    return np.where(late, joiner, veteran)


def _build_staff(n: int, window: _Window, seed: int) -> pd.DataFrame:
    display = pd.Series(_staff_names(n, _rng(seed, "staff")), dtype=object)
    hired = _local_to_utc(_hire_days(n, window, seed), np.full(n, 8 * 60))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "display_name": display,
            "email": _email_local(display) + "@demo.slotboard.test",
            "phone": None,
            "color": [names.STAFF_COLORS[i % len(names.STAFF_COLORS)] for i in range(n)],
            "is_active": True,
            "created_at": _to_utc_column(hired),
            "updated_at": _to_utc_column(hired),
        }
    )


def _build_services(window: _Window) -> pd.DataFrame:
    rows = pd.DataFrame(
        names.SERVICES,
        columns=["name", "category", "duration_min", "buffer_min", "price_cents", "share"],
    )
    rows.insert(0, "id", np.arange(1, len(rows) + 1))
    opened = _to_utc_column(np.full(len(rows), window.now - 800 * SECONDS_PER_DAY))
    return rows.drop(columns="share").assign(is_active=True, created_at=opened, updated_at=opened)


def _build_staff_services(n_staff: int) -> pd.DataFrame:
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


def _build_working_hours(n_staff: int) -> pd.DataFrame:
    patterns = [_parse_hours(p) for p in names.HOURS_PATTERNS]
    rows = [(i + 1, *row) for i in range(n_staff) for row in patterns[i % len(patterns)]]
    frame = pd.DataFrame(rows, columns=["staff_id", "weekday", "start_time", "end_time"])
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def _monday_of_week(year: int, week: np.ndarray) -> np.ndarray:
    """Day numbers of the Mondays of ISO weeks `week` in `year`."""
    jan4 = _day_number(date(year, 1, 4))
    return jan4 - (jan4 + 3) % 7 + 7 * (week - 1)


def _before_joining(hired: np.ndarray, window: _Window) -> pd.DataFrame:
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


def _vacations(n_staff: int, window: _Window, rng: np.random.Generator) -> pd.DataFrame:
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


def _sick_leave(n_staff: int, window: _Window, rng: np.random.Generator) -> pd.DataFrame:
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


def _staff_absences(n_staff: int, window: _Window, seed: int) -> pd.DataFrame:
    """Per-staff time off as whole local days: staff_id, first (day), days, reason."""
    rng = _rng(seed, f"time-off-{n_staff}")
    joining = _before_joining(_hire_days(n_staff, window, seed), window)
    vacations = _without_clashes(_vacations(n_staff, window, rng), joining)
    settled = pd.concat([joining, vacations], ignore_index=True)
    sick = _without_clashes(_sick_leave(n_staff, window, rng), settled)
    rows = pd.concat([settled, sick], ignore_index=True)
    last = rows["first"].to_numpy() + rows["days"].to_numpy()
    keep = (last > window.first_day) & (rows["first"].to_numpy() < window.end_day)
    return rows[keep].sort_values(["first", "staff_id"], ignore_index=True)


def _build_time_off(absences: pd.DataFrame, window: _Window) -> pd.DataFrame:
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
    starts = _local_to_utc(first, zero)
    ends = _local_to_utc(first + rows["days"].to_numpy(), zero)
    planned = np.where(rows["reason"] == "Sick leave", starts + 7 * 3600, starts - 60 * 86_400)
    created = np.minimum(planned, window.now - 86_400)
    return pd.DataFrame(
        {
            "id": np.arange(1, len(rows) + 1),
            "staff_id": rows["staff_id"].astype("Int64"),
            "starts_at": _to_utc_column(starts),
            "ends_at": _to_utc_column(ends),
            "reason": rows["reason"].astype(object),
            "created_at": _to_utc_column(created),
            "updated_at": _to_utc_column(created),
        }
    )


# --- candidate slots ----------------------------------------------------------------------
def _minutes(times: pd.Series) -> np.ndarray:
    return np.array([t.hour * 60 + t.minute for t in times], dtype=np.int64)


def _expand_days(first: np.ndarray, days: np.ndarray) -> np.ndarray:
    """[first, first + days) for every row, concatenated: ([10, 20], [2, 1]) -> [10, 11, 20]."""
    offsets = np.arange(days.sum()) - np.repeat(np.cumsum(days) - days, days)
    return np.repeat(first, days) + offsets


def _build_blocks(hours: pd.DataFrame, absences: pd.DataFrame, window: _Window) -> pd.DataFrame:
    """Every working interval on every open day: staff_id, day, start_min, end_min."""
    days = window.days
    closed = np.isin(days, window.holiday_days)
    calendar = pd.DataFrame({"day": days, "weekday": _weekday(days)})[~closed]
    shifts = hours.assign(
        start_min=_minutes(hours["start_time"]), end_min=_minutes(hours["end_time"])
    )
    blocks = calendar.merge(shifts[["staff_id", "weekday", "start_min", "end_min"]], on="weekday")
    away = pd.DataFrame(
        {
            "staff_id": np.repeat(absences["staff_id"].to_numpy(), absences["days"]),
            "day": _expand_days(absences["first"].to_numpy(), absences["days"].to_numpy()),
            "away": True,
        }
    )
    blocks = blocks.merge(
        away.drop_duplicates(["staff_id", "day"]), on=["staff_id", "day"], how="left"
    )
    blocks = blocks[blocks["away"].isna()].drop(columns=["away", "weekday"])
    return blocks.sort_values(["day", "staff_id", "start_min"], ignore_index=True)


def _service_cdf(staff_services_: pd.DataFrame, n_staff: int) -> np.ndarray:
    """Per stylist and part of day (0: before 4 p.m., 1: after), the cumulative demand
    over the services they offer. After work, quick services win over long colour work."""
    shares = np.array([s[5] for s in names.SERVICES])
    duration = np.array([s[2] for s in names.SERVICES])
    evening = np.where(duration <= 45, 1.6, np.where(duration >= 90, 0.4, 1.0))
    offered = np.zeros((n_staff, 1, len(shares)))
    offered[staff_services_["staff_id"] - 1, 0, staff_services_["service_id"] - 1] = 1.0
    weights = offered * np.stack([shares, shares * evening])
    return np.cumsum(weights / weights.sum(axis=2, keepdims=True), axis=2)


def _pack_blocks(blocks: pd.DataFrame, cdf: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Fill each block with services back to back (with the odd gap) until it is full.

    Each service occupies its duration plus its buffer, rounded up to the grid, so the
    next one starts after the buffer. A block closes after three services that no longer
    fit before its end. Vectorised across blocks: one loop step places one service in
    every block that is still open.
    """
    duration = np.array([s[2] for s in names.SERVICES])
    occupied = np.ceil((duration + np.array([s[3] for s in names.SERVICES])) / GRID_MIN) * GRID_MIN
    staff_row = blocks["staff_id"].to_numpy() - 1
    cursor = blocks["start_min"].to_numpy().copy()
    end = blocks["end_min"].to_numpy()
    misses = np.zeros(len(blocks), np.int64)
    open_ = np.arange(len(blocks))
    placed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while open_.size:
        u = rng.random(open_.size)
        late = (cursor[open_] >= EVENING_MIN).astype(np.int64)
        service = (cdf[staff_row[open_], late] < u[:, None]).sum(axis=1)
        start = cursor[open_] + rng.choice(GAPS_MIN, open_.size, p=GAP_SHARES)
        fits = start + duration[service] <= end[open_]
        placed.append((open_[fits], start[fits], service[fits]))
        cursor[open_[fits]] = start[fits] + occupied[service[fits]].astype(np.int64)
        misses[open_[~fits]] += 1
        open_ = open_[(cursor[open_] < end[open_]) & (misses[open_] < 3)]
    block, start, service = (np.concatenate(part) for part in zip(*placed, strict=True))
    return pd.DataFrame(
        {
            "staff_id": blocks["staff_id"].to_numpy()[block],
            "day": blocks["day"].to_numpy()[block],
            "start_min": start,
            "service_id": service + 1,
            "duration_min": duration[service],
        }
    )


def _demand(
    slots: pd.DataFrame, window: _Window, n_staff: int, rng: np.random.Generator
) -> np.ndarray:
    """Relative demand for each slot: time of day x weekday x season x growth x noise."""
    days = slots["day"].to_numpy().astype("datetime64[D]")
    hour = np.interp(slots["start_min"].to_numpy() / 60, HOUR_POINTS, HOUR_WEIGHTS)
    weekday = WEEKDAY_WEIGHTS[_weekday(days)]
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64)
    mid_month = np.arange(12) * 30.44 + 15
    season = np.interp(day_of_year, mid_month, MONTH_WEIGHTS, period=365.25)
    offset = slots["day"].to_numpy() - window.first_day
    growth = (1 + YEARLY_GROWTH) ** (offset / 365.25)
    n_days = window.end_day - window.first_day
    noise = rng.lognormal(0.0, 0.12, n_days)[offset]
    popularity = rng.lognormal(0.0, 0.15, n_staff)[slots["staff_id"].to_numpy() - 1]
    return hour * weekday * season * _festive(days) * growth * noise * popularity


def _festive(days: np.ndarray) -> np.ndarray:
    """The run-up to Christmas is busier; the days between the years are quiet."""
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    rush = (month == 12) & (day >= 12) & (day <= 23)
    lull = ((month == 12) & (day >= 27)) | ((month == 1) & (day <= 6))
    return np.where(rush, 1.2, np.where(lull, 0.7, 1.0))


def _sample_leads(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lead time in seconds and booking source: walk-ins, short notice, planned ahead."""
    kind = rng.choice(3, n, p=[0.07, 0.2, 0.73])
    walk_in = rng.uniform(60, 25 * 60, n)
    short = rng.lognormal(math.log(6 * 3600), 0.9, n)
    planned = rng.lognormal(math.log(8 * SECONDS_PER_DAY), 0.85, n)
    lead = np.where(kind == 0, walk_in, np.where(kind == 1, short, planned))
    lead = np.clip(lead, 60, MAX_LEAD_DAYS * SECONDS_PER_DAY).astype(np.int64)
    far = lead > 21 * SECONDS_PER_DAY
    u = rng.random(n)
    booked = np.where(
        far, np.searchsorted([0.35, 0.55], u, "right"), np.searchsorted([0.6, 0.9], u, "right")
    )
    return lead, np.where(kind == 0, 3, booked)


@dataclass(frozen=True)
class _Candidates:
    slots: pd.DataFrame
    demand: np.ndarray
    starts: np.ndarray  # UTC epoch seconds
    lead: np.ndarray  # seconds
    source: np.ndarray  # index into SOURCES
    visible: np.ndarray  # booked by now
    natural_scale: float
    blocks: pd.DataFrame = field(repr=False)


def _build_candidates(n_staff: int, window: _Window, seed: int) -> _Candidates:
    rng = _rng(seed, f"slots-{n_staff}")
    absences = _staff_absences(n_staff, window, seed)
    blocks = _build_blocks(_build_working_hours(n_staff), absences, window)
    slots = _pack_blocks(blocks, _service_cdf(_build_staff_services(n_staff), n_staff), rng)
    demand = _demand(slots, window, n_staff, rng)
    starts = _local_to_utc(
        slots["day"].to_numpy().astype("datetime64[D]"), slots["start_min"].to_numpy()
    )
    lead, source = _sample_leads(len(slots), rng)
    visible = starts - lead <= window.now
    scale = _natural_scale(slots, demand, blocks, window)
    return _Candidates(slots, demand, starts, lead, source, visible, scale, blocks)


def _natural_scale(
    slots: pd.DataFrame, demand: np.ndarray, blocks: pd.DataFrame, window: _Window
) -> float:
    """The scale at which TARGET_BOOKED_SHARE of the past working time is booked."""
    past = slots["day"].to_numpy() < window.today
    open_minutes = (blocks["end_min"] - blocks["start_min"])[
        blocks["day"].to_numpy() < window.today
    ]
    duration = slots["duration_min"].to_numpy()[past]
    want = TARGET_BOOKED_SHARE * open_minutes.sum()
    return _solve_scale(demand[past], duration, want)


def _solve_scale(demand: np.ndarray, weight: np.ndarray, want: float) -> float:
    """The smallest scale with sum(min(1, scale * demand) * weight) >= want (bisection)."""
    low, high = 0.0, 1.0
    while np.minimum(1.0, high * demand) @ weight < want and high < 1e6:
        low, high = high, high * 2
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if np.minimum(1.0, mid * demand) @ weight < want else (low, mid)
    return high


def _select(
    cand: _Candidates, appointments: int | None, rng: np.random.Generator
) -> np.ndarray | None:
    """Indexes of the kept candidates, or None when there are too few for `appointments`."""
    visible = cand.visible.astype(float)
    if appointments is None:
        scale = cand.natural_scale
    else:
        want = appointments * 1.03 + 3 * math.sqrt(appointments) + 25
        if visible.sum() < want:
            return None
        scale = _solve_scale(cand.demand, visible, want)
    keep = cand.visible & (rng.random(len(visible)) < np.minimum(1.0, scale * cand.demand))
    chosen = np.flatnonzero(keep)
    if appointments is None:
        return chosen
    if chosen.size < appointments:
        return None
    return np.sort(rng.choice(chosen, appointments, replace=False))


def _choose_slots(
    appointments: int | None, window: _Window, seed: int
) -> tuple[_Candidates, np.ndarray]:
    """Build candidates for as many staff as `appointments` needs, then pick the slots."""
    n_staff = DEFAULT_STAFF
    for attempt in range(8):
        cand = _build_candidates(n_staff, window, seed)
        natural = float(np.minimum(1.0, cand.natural_scale * cand.demand) @ cand.visible)
        if appointments is None or appointments <= 1.1 * natural or attempt > 0:
            chosen = _select(cand, appointments, _rng(seed, f"select-{n_staff}"))
            if chosen is not None:
                return cand, chosen
        growth = (appointments or 0) / max(natural, 1.0) / 1.1
        n_staff = max(n_staff + 1, math.ceil(n_staff * max(growth, 1.05)))
    raise RuntimeError(f"cannot place {appointments} appointments")  # pragma: no cover


# --- customers --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clientele:
    join_week: np.ndarray  # -1: a customer from before the window
    visit_of: np.ndarray  # per appointment: customer index, -1 for none


def _initial_pool(week: np.ndarray, needs: np.ndarray) -> int:
    early = np.bincount(week[needs], minlength=8)[:8]
    return max(20, round(early.mean() * MEAN_GAP_WEEKS))


def _assign_customers(week: np.ndarray, needs: np.ndarray, rng: np.random.Generator) -> _Clientele:
    """Week by week: some visits are first visits, the rest go to active customers.

    A returning visit picks an active customer (joined earlier, not churned yet) with
    probability proportional to their own visit rate, at most once a week (weighted
    sampling without replacement via exponential keys). When too few are active, the
    rest become first visits.
    """
    n_initial = _initial_pool(week, needs)
    capacity = n_initial + int(needs.sum())
    rate = rng.lognormal(math.log(1 / MEAN_GAP_WEEKS) - 0.18, 0.6, capacity)
    lifetime = np.where(
        rng.random(capacity) < LOYAL_SHARE, np.inf, rng.exponential(MEAN_LIFETIME_WEEKS, capacity)
    )
    one_timer = rng.random(capacity) < ONE_TIMER_SHARE
    one_timer[:n_initial] = False
    join = np.full(capacity, -1, np.int64)
    churn = lifetime.copy()
    visit_of = np.full(len(week), -1, np.int64)
    rows_all = np.flatnonzero(needs)
    bounds = np.searchsorted(week[rows_all], np.arange(week.max(initial=0) + 2))
    n = n_initial
    for w in range(len(bounds) - 1):
        rows = rows_all[bounds[w] : bounds[w + 1]]
        if not rows.size:
            continue
        active = np.flatnonzero((join[:n] < w) & (churn[:n] > w))
        new = rng.random(rows.size) < NEW_CUSTOMER_SHARE
        returning = np.flatnonzero(~new)
        new[returning[active.size :]] = True
        returning = returning[: active.size]
        if returning.size:
            keys = rng.exponential(size=active.size) / rate[active]
            picked = active[np.argpartition(keys, returning.size - 1)[: returning.size]]
            visit_of[rows[returning]] = rng.permutation(picked)
        fresh = np.arange(n, n + int(new.sum()))
        visit_of[rows[new]] = fresh
        join[fresh] = w
        churn[fresh] = np.where(one_timer[fresh], w + 0.5, w + lifetime[fresh])
        n += fresh.size
    return _Clientele(join[:n], visit_of)


def _customer_created(
    clientele: _Clientele, created: np.ndarray, window: _Window, rng: np.random.Generator
) -> np.ndarray:
    """Before the customer's first booking; older customers joined before the window."""
    n = len(clientele.join_week)
    first_booking = np.full(n, np.iinfo(np.int64).max)
    has = clientele.visit_of >= 0
    np.minimum.at(first_booking, clientele.visit_of[has], created[has])
    start = _local_to_utc(np.array([window.first_day]), np.zeros(1, np.int64))[0]
    before = start - rng.uniform(1, 4 * 365, n) * SECONDS_PER_DAY
    ahead = first_booking - rng.uniform(60, 600, n)
    stamp = np.where(clientele.join_week < 0, np.minimum(before, ahead), ahead)
    return stamp.astype(np.int64)


def _phones(count: int, rng: np.random.Generator) -> np.ndarray:
    """Drama numbers only, mobiles first; unique until the 5,200 of them run out."""

    def expand(ranges: tuple[tuple[str, int], ...]) -> list[str]:
        width = {100: 2, 1000: 3}
        return [f"{prefix}{i:0{width[size]}d}" for prefix, size in ranges for i in range(size)]

    mobiles = rng.permutation(expand(names.DRAMA_MOBILE_RANGES))
    landlines = rng.permutation(expand(names.DRAMA_LANDLINE_RANGES))
    return np.resize(np.concatenate([mobiles, landlines]), count)


def _emails(first: pd.Series, last: pd.Series, rng: np.random.Generator) -> pd.Series:
    local_first, local_last = _email_local(first), _email_local(last)
    style = rng.choice(4, len(first), p=[0.45, 0.2, 0.2, 0.15])
    year = pd.Series(rng.integers(60, 100, len(first)).astype(str))
    local = np.select(
        [style == 0, style == 1, style == 2],
        [
            local_first + "." + local_last,
            local_first.str[0] + "." + local_last,
            local_first + local_last,
        ],
        local_first + "." + local_last + year,
    )
    local = pd.Series(local, dtype=object)
    repeat = local.groupby(local).cumcount()
    local = local.where(repeat == 0, local + (repeat + 1).astype(str))
    domain = rng.choice(names.EMAIL_DOMAINS, len(first), p=names.EMAIL_DOMAIN_WEIGHTS)
    return local + "@" + domain


def _tags(visits: np.ndarray, rng: np.random.Generator) -> list[list[str]]:
    picks = rng.random((len(visits), len(names.CUSTOMER_TAGS))) < 0.06
    vip = visits >= np.quantile(visits, 0.97) if len(visits) else visits.astype(bool)
    regular = visits >= 8
    tags = []
    for row, is_vip, is_regular in zip(picks, vip, regular, strict=True):
        chosen = [t for t, on in zip(names.CUSTOMER_TAGS, row, strict=True) if on]
        tags.append(sorted(chosen + ["vip"] * bool(is_vip) + ["regular"] * bool(is_regular)))
    return tags


def _opt_in(
    eligible: np.ndarray, share: float, created: np.ndarray, now: int, rng: np.random.Generator
) -> tuple[np.ndarray, pd.Series]:
    """Who opted in, and when: within two days of becoming a customer."""
    opted = eligible & (rng.random(len(eligible)) < share)
    delay = rng.uniform(0, 2 * SECONDS_PER_DAY, len(eligible)).astype(np.int64)
    when = np.minimum(created + delay, now - 1)
    return opted, _to_utc_column(np.where(opted, when, 0)).where(opted)


def _build_customers(
    created: np.ndarray, visits: np.ndarray, window: _Window, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(created)
    female = rng.random(n) < 0.62
    first = pd.Series(
        np.where(
            female, rng.choice(names.FIRST_NAMES_FEMALE, n), rng.choice(names.FIRST_NAMES_MALE, n)
        ),
        dtype=object,
    )
    rank = np.arange(len(names.LAST_NAMES))
    common = 1 / (rank + 8) ** 0.7
    last = pd.Series(rng.choice(names.LAST_NAMES, n, p=common / common.sum()), dtype=object)
    has_email = rng.random(n) < 0.86
    has_phone = (rng.random(n) < 0.92) | ~has_email
    phone = pd.Series(None, index=range(n), dtype=object)
    phone[has_phone] = _phones(int(has_phone.sum()), rng)
    sms, sms_at = _opt_in(has_phone, 0.78, created, window.now, rng)
    mail, mail_at = _opt_in(has_email, 0.6, created, window.now, rng)
    notes = np.where(rng.random(n) < 0.04, rng.choice(names.CUSTOMER_NOTES, n), "")
    created_col = _to_utc_column(created)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "external_id": None,
            "first_name": first,
            "last_name": last,
            "email": _emails(first, last, rng).where(has_email, None),
            "phone": phone,
            "sms_opt_in": sms,
            "sms_opt_in_at": sms_at,
            "email_opt_in": mail,
            "email_opt_in_at": mail_at,
            "notes": pd.Series(notes, dtype=object),
            "tags": _tags(visits, rng),
            "merged_into_id": pd.array([pd.NA] * n, dtype="Int64"),
            "created_at": created_col,
            "updated_at": pd.concat([created_col, sms_at, mail_at], axis=1).max(axis=1),
        }
    )


# --- outcomes ---------------------------------------------------------------------------
def _settle(
    booked: pd.DataFrame,
    reminded: np.ndarray,
    no_show_bias: np.ndarray,
    now: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Status, cancelled_at and updated_at from lead time, reminders and the clock.

    Cancellations and no-shows grow with the lead time; a reminder (SMS opt-in) makes a
    no-show about half as likely; walk-ins neither cancel nor miss. A cancellation only
    counts once it has happened (cancelled_at <= now); only finished visits can be
    completed or missed; upcoming ones are booked, or confirmed (mostly the reminded ones
    due within three days).
    """
    n = len(booked)
    starts, ends = booked["starts"].to_numpy(), booked["ends"].to_numpy()
    created = booked["created"].to_numpy()
    rise = 1 - np.exp(-(starts - created) / SECONDS_PER_DAY / np.array([[14], [10]]))
    walk_in = booked["source"].to_numpy() == 3
    p_cancel = np.where(walk_in, 0.0, 0.025 + 0.14 * rise[0])
    cancel_at = created + ((starts - created) * rng.beta(5, 1.5, n)).astype(np.int64)
    cancelled = (rng.random(n) < p_cancel) & (cancel_at <= now)
    p_no_show = (0.015 + 0.09 * rise[1]) * np.where(reminded, 0.55, 1.0) * no_show_bias
    ended = ends <= now
    no_show = ended & ~cancelled & ~walk_in & (rng.random(n) < p_no_show)
    soon = starts - now < 3 * SECONDS_PER_DAY
    confirmed = ~ended & ~cancelled & (rng.random(n) < np.where(soon & reminded, 0.7, 0.2))
    states = [cancelled, no_show, ended, confirmed]
    status = np.select(states, ["cancelled", "no_show", "completed", "confirmed"], "booked")
    confirm_at = created + (np.minimum(starts - SECONDS_PER_DAY, now) - created).clip(
        0
    ) * rng.random(n)
    touched = [cancel_at, starts + 20 * 60, ends + rng.integers(0, 20 * 60, n), confirm_at]
    updated = np.select(states, [t.astype(np.int64) for t in touched], created)
    return pd.DataFrame(
        {
            "status": status.astype(object),
            "updated": np.clip(updated, created, now),
            "cancelled": np.where(cancelled, cancel_at, -1),
        }
    )


# --- assembling the business -------------------------------------------------------------
def build_demo(
    *, appointments: int | None = None, seed: int = 7, today: date | None = None
) -> DemoData:
    """Generate the demo business (pure). See the module docstring for the model.

    `appointments=None` gives the natural size (seven stylists, about two thirds utilised);
    `appointments=N` gives exactly N, adding stylists (and so customers) in proportion
    when seven cannot serve N. `today` defaults to the current date in Europe/Berlin.
    """
    if appointments is not None and appointments < 1:
        raise ValueError("appointments must be at least 1")
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    window = _build_window(today)
    cand, chosen = _choose_slots(appointments, window, seed)
    n_staff = int(cand.blocks["staff_id"].max())
    booked = _booked(cand, chosen)
    people, visit_of = _build_clientele(booked, window, seed)
    reminded, bias = _visit_traits(people, visit_of, seed)
    outcome = _settle(booked, reminded, bias, window.now, _rng(seed, "outcomes"))
    return DemoData(
        settings=SETTINGS,
        today=today,
        now=datetime.fromtimestamp(window.now, UTC),
        staff=_build_staff(n_staff, window, seed),
        services=_build_services(window),
        staff_services=_build_staff_services(n_staff),
        working_hours=_build_working_hours(n_staff),
        time_off=_build_time_off(_staff_absences(n_staff, window, seed), window),
        customers=people,
        appointments=_appointments_frame(booked, visit_of, outcome),
    )


def _build_clientele(
    booked: pd.DataFrame, window: _Window, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers, and per appointment the customer's index (-1: walk-in, no record)."""
    rng = _rng(seed, "customers")
    week = (booked["day"].to_numpy() - window.first_day) // 7
    walk_in = booked["source"].to_numpy() == 3
    anonymous = walk_in & (rng.random(len(booked)) < WALK_IN_WITHOUT_RECORD)
    clientele = _assign_customers(week, ~anonymous, rng)
    created = _customer_created(clientele, booked["created"].to_numpy(), window, rng)
    visit_of = clientele.visit_of
    visits = np.bincount(visit_of[visit_of >= 0], minlength=len(created))
    return _build_customers(created, visits, window, rng), visit_of


def _visit_traits(
    people: pd.DataFrame, visit_of: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per appointment: was a reminder sent (SMS opt-in), and the customer's no-show bias
    (some people miss appointments more than others; mean 1)."""
    has = visit_of >= 0
    who = np.where(has, visit_of, 0)
    bias = _rng(seed, "no-show-bias").gamma(2.0, 0.5, len(people))
    return has & people["sms_opt_in"].to_numpy()[who], np.where(has, bias[who], 1.0)


def _booked(cand: _Candidates, chosen: np.ndarray) -> pd.DataFrame:
    slots = cand.slots.iloc[chosen]
    starts = cand.starts[chosen]
    frame = pd.DataFrame(
        {
            "staff_id": slots["staff_id"].to_numpy(),
            "service_id": slots["service_id"].to_numpy(),
            "day": slots["day"].to_numpy(),
            "starts": starts,
            "ends": starts + slots["duration_min"].to_numpy() * 60,
            "created": starts - cand.lead[chosen],
            "source": cand.source[chosen],
        }
    )
    return frame.sort_values(["starts", "staff_id"], ignore_index=True, kind="stable")


def _appointments_frame(
    booked: pd.DataFrame, visit_of: np.ndarray, outcome: pd.DataFrame
) -> pd.DataFrame:
    prices = np.array([s[4] for s in names.SERVICES])
    customer = pd.array(np.where(visit_of >= 0, visit_of + 1, 0), dtype="Int64")
    customer[visit_of < 0] = pd.NA
    cancelled = outcome["cancelled"].to_numpy()
    return pd.DataFrame(
        {
            "id": np.arange(1, len(booked) + 1),
            "staff_id": booked["staff_id"].to_numpy(),
            "customer_id": customer,
            "service_id": booked["service_id"].to_numpy(),
            "starts_at": _to_utc_column(booked["starts"].to_numpy()),
            "ends_at": _to_utc_column(booked["ends"].to_numpy()),
            "status": outcome["status"],
            "price_cents": prices[booked["service_id"].to_numpy() - 1],
            "source": pd.Series(SOURCES[booked["source"].to_numpy()], dtype=object),
            "external_id": None,
            "notes": "",
            "created_at": _to_utc_column(booked["created"].to_numpy()),
            "updated_at": _to_utc_column(outcome["updated"].to_numpy()),
            "cancelled_at": _to_utc_column(np.where(cancelled >= 0, cancelled, 0)).where(
                cancelled >= 0
            ),
        }
    )


# --- writing it --------------------------------------------------------------------------
Progress = Callable[[str, float], None]
CHUNK_ROWS = 50_000


def seed_demo(
    engine: Engine,
    *,
    appointments: int | None = None,
    seed: int = 7,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo business and write it in one transaction (all or nothing).

    Creates the business (slug DEMO_SLUG, is_demo), the DEMO_ACCOUNTS sign-ins (the staff
    one linked to staff member 1), staff, services, hours, time off, customers and
    appointments, and one audit_log entry with the counts. `progress(stage, fraction)` is
    called along the way with the overall fraction done, from 0.0 ("generating") through
    "generated", "writing staff and services", "writing customers" and "writing
    appointments" (once per chunk) to 1.0 ("done"). Big tables go in with COPY on
    PostgreSQL and chunked executemany on SQLite.
    Raises DemoAlreadySeeded when a business with DEMO_SLUG exists.
    """
    started = clock.perf_counter()
    report = progress or (lambda stage, fraction: None)
    with read_conn(engine) as conn:
        _refuse_if_seeded(conn)
    report("generating", 0.0)
    data = build_demo(appointments=appointments, seed=seed, today=today)
    report("generated", 0.25)
    with write_tx(engine) as conn:
        _refuse_if_seeded(conn)
        business_id = create_business(conn, settings=data.settings, slug=DEMO_SLUG, is_demo=True)
        _save_demo(conn, business_id, data, seed, report)
        report("committing", 0.99)
    report("done", 1.0)
    starts = data.appointments["starts_at"]
    return DemoSummary(
        business_id=business_id,
        staff=len(data.staff),
        services=len(data.services),
        customers=len(data.customers),
        appointments=len(data.appointments),
        first_start=starts.min().to_pydatetime(),
        last_start=starts.max().to_pydatetime(),
        seconds=clock.perf_counter() - started,
    )


def _refuse_if_seeded(conn: Connection) -> None:
    if load_business_by_slug(conn, slug=DEMO_SLUG) is not None:
        raise DemoAlreadySeeded(f"a business with slug '{DEMO_SLUG}' exists already")


def _save_demo(
    conn: Connection, business_id: int, data: DemoData, seed: int, report: Progress
) -> None:
    account_ids = _insert_accounts(conn, business_id, data.now)
    report("writing staff and services", 0.27)
    ids = _save_salon(conn, business_id, data, staff_account_id=account_ids["staff"])
    ids["customer_id"] = _reserve_ids(conn, customers, len(data.customers))
    people = data.customers.assign(id=ids["customer_id"])
    _bulk_insert(
        conn, customers, people, business_id, _stage(report, "writing customers", 0.28, 0.35)
    )
    booked = _remap(data.appointments.drop(columns="id"), **ids)
    _bulk_insert(
        conn, appointments, booked, business_id, _stage(report, "writing appointments", 0.35, 0.98)
    )
    _audit_seed(conn, business_id, data, seed)


def _stage(report: Progress, stage: str, start: float, end: float) -> Callable[[float], None]:
    return lambda done: report(stage, start + (end - start) * done)


def _save_salon(
    conn: Connection, business_id: int, data: DemoData, *, staff_account_id: int
) -> dict[str, np.ndarray]:
    """Staff (one linked to the staff account), services and their schedules."""
    ids = {
        "staff_id": _reserve_ids(conn, staff, len(data.staff)),
        "service_id": _reserve_ids(conn, services, len(data.services)),
    }
    link = data.staff["id"].map({data.staff_account_staff_id: staff_account_id}).astype("Int64")
    rows = {
        staff: data.staff.assign(id=ids["staff_id"], account_id=link),
        services: data.services.assign(id=ids["service_id"]),
        staff_services: _remap(data.staff_services, **ids),
        working_hours: _remap(data.working_hours.drop(columns="id"), **ids),
        time_off: _remap(data.time_off.drop(columns="id"), **ids),
    }
    for table, frame in rows.items():
        _insert_small(conn, table, frame, business_id)
    return ids


def _remap(frame: pd.DataFrame, **ids: np.ndarray) -> pd.DataFrame:
    """Replace 1-based demo ids by the database ids reserved for them."""
    out = frame.copy()
    for column, real in ids.items():
        if column not in out:
            continue
        local = out[column]
        if isinstance(local.dtype, pd.Int64Dtype):
            mapped = pd.array(real[local.fillna(1).to_numpy(np.int64) - 1], dtype="Int64")
            mapped[local.isna().to_numpy()] = pd.NA
            out[column] = mapped
        else:
            out[column] = real[local.to_numpy() - 1]
    return out


def _reserve_ids(conn: Connection, table: sa.Table, n: int) -> np.ndarray:
    """n fresh primary keys: from the sequence on PostgreSQL, after max(id) on SQLite
    (safe there: the write transaction holds the database lock)."""
    if conn.dialect.name == "postgresql":
        query = sa.text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
        )
        return np.sort(
            np.fromiter(conn.execute(query, {"t": table.name, "n": n}).scalars(), np.int64)
        )
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return np.arange(top + 1, top + n + 1, dtype=np.int64)


def _insert_accounts(conn: Connection, business_id: int, now: datetime) -> dict[str, int]:
    ids = {}
    for account in DEMO_ACCOUNTS:
        values = {
            "business_id": business_id,
            "email": account.email,
            "display_name": account.display_name,
            "role": account.role,
            "password_hash": hash_password(account.password),
            "auth_provider": "local",
            "created_at": now,
            "updated_at": now,
        }
        inserted = conn.execute(accounts.insert().values(**values).returning(accounts.c.id))
        ids[account.role] = int(inserted.scalar_one())
    return ids


def _python_values(series: pd.Series) -> list:
    """A column as plain Python values for the driver: None for missing, datetimes tz-aware."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return [None if v is pd.NaT else v.to_pydatetime() for v in series]
    if isinstance(series.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in series]
    return series.tolist()


def _insert_small(conn: Connection, table: sa.Table, frame: pd.DataFrame, business_id: int) -> None:
    """Core executemany for the small tables (hundreds of rows)."""
    columns = {c: _python_values(frame[c]) for c in frame.columns if c in table.c}
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    if rows:
        conn.execute(table.insert(), [{"business_id": business_id, **row} for row in rows])


def _text_values(series: pd.Series, dialect: str) -> list:
    """A column as driver-ready values for the bulk paths.

    Instants become text exactly as SQLAlchemy writes them: naive UTC with microseconds
    on SQLite (so string comparisons in queries keep working), `+00:00` on PostgreSQL.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        raw = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
        text = np.datetime_as_string(raw, unit="us")
        suffix = "" if dialect == "sqlite" else "+00:00"
        return [None if t == "NaT" else t.replace("T", " ") + suffix for t in text]
    if isinstance(series.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in series]
    if series.name == "tags":
        return [json.dumps(v) for v in series]
    return series.tolist()


def _chunks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _bulk_insert(
    conn: Connection,
    table: sa.Table,
    frame: pd.DataFrame,
    business_id: int,
    done: Callable[[float], None],
) -> None:
    """Big tables: COPY on PostgreSQL, chunked executemany on SQLite."""
    frame = frame.assign(business_id=business_id)
    columns = [c for c in frame.columns if c in table.c]
    dialect = conn.dialect.name
    writer = _copy_rows if dialect == "postgresql" else _executemany_rows
    written = 0
    for chunk in _chunks(frame[columns], CHUNK_ROWS):
        values = [_text_values(chunk[c], dialect) for c in columns]
        writer(conn, table, columns, zip(*values, strict=True))
        written += len(chunk)
        done(written / max(len(frame), 1))


def _executemany_rows(
    conn: Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple]
) -> None:
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our own identifiers
    conn.exec_driver_sql(sql, list(rows))


def _copy_rows(
    conn: Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple]
) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _audit_seed(conn: Connection, business_id: int, data: DemoData, seed: int) -> None:
    counts = {
        "accounts": len(DEMO_ACCOUNTS),
        "staff": len(data.staff),
        "services": len(data.services),
        "customers": len(data.customers),
        "appointments": len(data.appointments),
        "time_off": len(data.time_off),
        "seed": seed,
        "today": data.today.isoformat(),
    }
    record_audit(
        conn,
        actor=Actor.operator(business_id=business_id, label="seed"),
        action="seed",
        entity="businesses",
        entity_id=business_id,
        after=counts,
    )

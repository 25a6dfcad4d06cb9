"""Candidate slots: working blocks packed with services, their demand, and the choice."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.demo import names
from data.demo.calendar import Window, local_to_utc, weekday_of
from data.demo.model import (
    DEFAULT_STAFF,
    EVENING_MIN,
    GAP_SHARES,
    GAPS_MIN,
    GRID_MIN,
    HOUR_POINTS,
    HOUR_WEIGHTS,
    MAX_LEAD_DAYS,
    MONTH_WEIGHTS,
    SECONDS_PER_DAY,
    TARGET_BOOKED_SHARE,
    WEEKDAY_WEIGHTS,
    YEARLY_GROWTH,
    make_rng,
)
from data.demo.salon import build_staff_services, build_working_hours, staff_absences


def _minutes(times: pd.Series) -> np.ndarray:
    return np.array([t.hour * 60 + t.minute for t in times], dtype=np.int64)


def _expand_days(first: np.ndarray, days: np.ndarray) -> np.ndarray:
    """[first, first + days) for every row, concatenated: ([10, 20], [2, 1]) -> [10, 11, 20]."""
    offsets = np.arange(days.sum()) - np.repeat(np.cumsum(days) - days, days)
    return np.repeat(first, days) + offsets


def _build_blocks(hours: pd.DataFrame, absences: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Every working interval on every open day: staff_id, day, start_min, end_min."""
    days = window.days
    closed = np.isin(days, window.holiday_days)
    calendar = pd.DataFrame({"day": days, "weekday": weekday_of(days)})[~closed]
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
    slots: pd.DataFrame, window: Window, n_staff: int, rng: np.random.Generator
) -> np.ndarray:
    """Relative demand for each slot: time of day x weekday x season x growth x noise."""
    days = slots["day"].to_numpy().astype("datetime64[D]")
    hour = np.interp(slots["start_min"].to_numpy() / 60, HOUR_POINTS, HOUR_WEIGHTS)
    weekday = WEEKDAY_WEIGHTS[weekday_of(days)]
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
class Candidates:
    slots: pd.DataFrame
    demand: np.ndarray
    starts: np.ndarray  # UTC epoch seconds
    lead: np.ndarray  # seconds
    source: np.ndarray  # index into SOURCES
    visible: np.ndarray  # booked by now
    natural_scale: float
    blocks: pd.DataFrame = field(repr=False)


def _build_candidates(n_staff: int, window: Window, seed: int) -> Candidates:
    rng = make_rng(seed, f"slots-{n_staff}")
    absences = staff_absences(n_staff, window, seed)
    blocks = _build_blocks(build_working_hours(n_staff), absences, window)
    slots = _pack_blocks(blocks, _service_cdf(build_staff_services(n_staff), n_staff), rng)
    demand = _demand(slots, window, n_staff, rng)
    starts = local_to_utc(
        slots["day"].to_numpy().astype("datetime64[D]"), slots["start_min"].to_numpy()
    )
    lead, source = _sample_leads(len(slots), rng)
    visible = starts - lead <= window.now
    scale = _natural_scale(slots, demand, blocks, window)
    return Candidates(slots, demand, starts, lead, source, visible, scale, blocks)


def _natural_scale(
    slots: pd.DataFrame, demand: np.ndarray, blocks: pd.DataFrame, window: Window
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
    cand: Candidates, appointments: int | None, rng: np.random.Generator
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


def choose_slots(
    appointments: int | None, window: Window, seed: int
) -> tuple[Candidates, np.ndarray]:
    """Build candidates for as many staff as `appointments` needs, then pick the slots."""
    n_staff = DEFAULT_STAFF
    for attempt in range(8):
        cand = _build_candidates(n_staff, window, seed)
        natural = float(np.minimum(1.0, cand.natural_scale * cand.demand) @ cand.visible)
        if appointments is None or appointments <= 1.1 * natural or attempt > 0:
            chosen = _select(cand, appointments, make_rng(seed, f"select-{n_staff}"))
            if chosen is not None:
                return cand, chosen
        growth = (appointments or 0) / max(natural, 1.0) / 1.1
        n_staff = max(n_staff + 1, math.ceil(n_staff * max(growth, 1.05)))
    raise RuntimeError(f"cannot place {appointments} appointments")  # pragma: no cover

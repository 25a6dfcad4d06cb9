"""Customers: who books which visit, and their (fictional) contact details."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.demo import names
from data.demo.calendar import Window, local_to_utc, to_utc_column
from data.demo.model import (
    LOYAL_SHARE,
    MEAN_GAP_WEEKS,
    MEAN_LIFETIME_WEEKS,
    NEW_CUSTOMER_SHARE,
    ONE_TIMER_SHARE,
    SECONDS_PER_DAY,
    WALK_IN_WITHOUT_RECORD,
    make_rng,
)
from data.demo.salon import email_local


def build_clientele(
    booked: pd.DataFrame, window: Window, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers, and per appointment the customer's index (-1: walk-in, no record)."""
    rng = make_rng(seed, "customers")
    week = (booked["day"].to_numpy() - window.first_day) // 7
    walk_in = booked["source"].to_numpy() == 3
    anonymous = walk_in & (rng.random(len(booked)) < WALK_IN_WITHOUT_RECORD)
    clientele = _assign_customers(week, ~anonymous, rng)
    created = _customer_created(clientele, booked["created"].to_numpy(), window, rng)
    visit_of = clientele.visit_of
    visits = np.bincount(visit_of[visit_of >= 0], minlength=len(created))
    return _build_customers(created, visits, window, rng), visit_of


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
    clientele: _Clientele, created: np.ndarray, window: Window, rng: np.random.Generator
) -> np.ndarray:
    """Before the customer's first booking; older customers joined before the window."""
    n = len(clientele.join_week)
    first_booking = np.full(n, np.iinfo(np.int64).max)
    has = clientele.visit_of >= 0
    np.minimum.at(first_booking, clientele.visit_of[has], created[has])
    start = local_to_utc(np.array([window.first_day]), np.zeros(1, np.int64))[0]
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
    local_first, local_last = email_local(first), email_local(last)
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
    return opted, to_utc_column(np.where(opted, when, 0)).where(opted)


def _build_customers(
    created: np.ndarray, visits: np.ndarray, window: Window, rng: np.random.Generator
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
    created_col = to_utc_column(created)
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

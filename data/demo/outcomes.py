"""Outcomes: cancellations, no-shows and confirmations, from lead time and reminders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.demo.model import SECONDS_PER_DAY


def settle(
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

"""Turning churn features into what people read: the probability-alive heuristic, risk
bands and plain-worded drivers. Pure.

The heuristic treats a customer as visiting at a steady rate (visits over tenure, with a
month of prior) and dropping out after any visit with a fixed probability, as the BG/NBD
model does; the longer the silence relative to their rate, the likelier they are gone.
Its churn probability is 1 - P(alive) x P(a visit within the horizon | alive).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.churn_features import CHURN_FEATURES
from analytics.risk_model import compute_driver_effects, compute_reference, top_drivers

DROPOUT_PER_VISIT = 0.15
PRIOR_DAYS = 30.0
BANDS = (("high", 0.5), ("medium", 0.25), ("low", 0.0))
BAND_LABELS = {"high": "High", "medium": "Medium", "low": "Low", "too_new": "Too new to score"}
TOO_NEW_DAYS = 30  # one visit and a customer for less than this: "too new to score"


def score_p_alive(features: pd.DataFrame, *, horizon_days: int) -> np.ndarray:
    """The heuristic's churn probability per row (0..1)."""
    if features.empty:
        return np.zeros(0)
    visits = features["visits_total"].to_numpy(dtype=float)
    tenure = features["tenure_days"].to_numpy(dtype=float).clip(min=0.0)
    recency = features["recency_days"].to_numpy(dtype=float).clip(min=0.0)
    rate = visits / (tenure + PRIOR_DAYS)  # visits per day
    odds = DROPOUT_PER_VISIT / (1 - DROPOUT_PER_VISIT) * np.exp(np.minimum(rate * recency, 50.0))
    alive = 1.0 / (1.0 + odds)
    return np.clip(1.0 - alive * (1.0 - np.exp(-rate * horizon_days)), 0.0, 1.0)


def assign_bands(scores: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """high / medium / low by score; "too_new" for one visit less than TOO_NEW_DAYS ago."""
    p = np.asarray(scores, dtype=float)
    bands = np.select([p >= BANDS[0][1], p >= BANDS[1][1]], [BANDS[0][0], BANDS[1][0]], "low")
    too_new = (features["visits_total"].to_numpy() <= 1) & (
        features["tenure_days"].to_numpy() < TOO_NEW_DAYS
    )
    return np.where(too_new, "too_new", bands).astype(object)


def describe_driver(feature: str, value: float) -> str:
    """A feature's value in plain words (no names, no contact details)."""
    if pd.isna(value):
        return {
            "typical_gap_days": "Only one visit so far",
            "recency_gap_ratio": "Only one visit so far",
        }.get(feature, feature.replace("_", " "))
    texts: dict[str, Callable[[float], str]] = {
        "recency_days": lambda v: f"Last visit {v:.0f} days ago",
        "frequency_365d": lambda v: f"{v:.0f} visit{'s' if v != 1 else ''} in the last year",
        "visits_total": lambda v: f"{v:.0f} visit{'s' if v != 1 else ''} in total",
        "spend_365d": lambda v: f"Spent {v:,.0f} in the last year",
        "avg_ticket": lambda v: f"Spends {v:,.0f} per visit",
        "tenure_days": lambda v: f"Customer for {v:.0f} days",
        "typical_gap_days": lambda v: f"Usually comes every {v:.0f} days",
        "recency_gap_ratio": lambda v: f"Silent for {v:.1f}× their usual gap",
        "frequency_trend": lambda v: (
            "Coming less often than before"
            if v < 0
            else ("Coming more often than before" if v > 0 else "Steady visit rhythm")
        ),
        "no_show_rate": lambda v: f"Missed {v:.0%} of appointments",
        "cancellation_rate": lambda v: f"Cancelled {v:.0%} of bookings",
        "top_service_share": lambda v: f"{v:.0%} of visits for one service",
        "top_staff_share": lambda v: f"{v:.0%} of visits with the same staff member",
        "mean_lead_days": lambda v: f"Books {v:.0f} days ahead on average",
        "has_future_booking": lambda v: (
            "Has an upcoming booking" if v >= 0.5 else "No upcoming booking"
        ),
    }
    text = texts.get(feature)
    return text(float(value)) if text else f"{feature.replace('_', ' ')}: {value:g}"


def build_churn_scores(
    features: pd.DataFrame,
    score: Callable[[pd.DataFrame], np.ndarray],
    *,
    reference: pd.Series | None = None,
    candidates: tuple[str, ...] | None = None,
    drivers: int = 3,
) -> pd.DataFrame:
    """Per population member: customer_id, score, band and drivers. Customers in the
    high and medium bands get up to `drivers` drivers, each {"feature", "text", "effect"}
    (effect: score points it adds against a typical value); the others an empty list,
    since nothing notable raises their risk. `reference` defaults to these medians;
    `candidates` limits the features drivers are chosen from (default: all)."""
    x = features[list(CHURN_FEATURES)].astype("float64")
    if x.empty:
        return pd.DataFrame({
            "customer_id": pd.Series(dtype="int64"), "score": pd.Series(dtype="float64"),
            "band": pd.Series(dtype=object), "drivers": pd.Series(dtype=object),
        })  # fmt: skip
    reference = compute_reference(x) if reference is None else reference
    scores = np.asarray(score(x), dtype=float)
    bands = assign_bands(scores, features)
    at_risk = np.flatnonzero(np.isin(bands, ("high", "medium")))
    explained = _explain(x.iloc[at_risk], score, reference, candidates, drivers)
    rows: list[list[dict[str, object]]] = [[] for _ in range(len(x))]
    for position, row_drivers in zip(at_risk, explained, strict=True):
        rows[position] = row_drivers
    return pd.DataFrame({
        "customer_id": x.index.to_numpy(dtype="int64"),
        "score": np.round(scores, 4),
        "band": bands,
        "drivers": rows,
    })  # fmt: skip


def _explain(
    x: pd.DataFrame,
    score: Callable[[pd.DataFrame], np.ndarray],
    reference: pd.Series,
    candidates: tuple[str, ...] | None,
    k: int,
) -> list[list[dict[str, object]]]:
    if x.empty:
        return []
    effects = compute_driver_effects(score, x, reference, columns=candidates)
    values, effect_values = x.to_numpy(), effects.to_numpy()
    position = {name: i for i, name in enumerate(x.columns)}
    effect_at = {name: i for i, name in enumerate(effects.columns)}
    explained = []
    for row, picked in enumerate(top_drivers(effects, k=k + 1)):
        texts: dict[str, dict[str, object]] = {}  # two features may read alike: keep one
        for name in picked:
            text = describe_driver(name, values[row, position[name]])
            effect = round(float(effect_values[row, effect_at[name]]), 3)
            texts.setdefault(text, {"feature": name, "text": text, "effect": effect})
        explained.append(list(texts.values())[:k])
    return explained

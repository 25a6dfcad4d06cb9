"""Churn risk: who will not come back within the horizon. Pure.

Label: a customer in the population at a cutoff (a completed visit within `active_days`
before it) churned when they have no completed visit in the `horizon_days` after it.

Training uses only what was known before `end`, the instant the model is for:
- the calibration cutoff is `end - horizon` (its labels end exactly at `end`);
- base cutoffs step back every `step_days` from `end - 2 * horizon`, so no base label
  reaches into the calibration fold; the gradient-boosted model learns on them and is
  calibrated on the later fold.
Evaluating at a cutoff V means: fit for `end = V`, then score the population at V and
compare with what happened in the horizon after V (which must have fully passed). The
same recipe, fitted for `end = now`, scores customers today. Two baselines are fitted or
computed on the same rows: recency alone (a logistic regression on log recency), and a
"probability alive" heuristic from recency and frequency (analytics.churn_scoring).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

from analytics.churn_features import CHURN_FEATURES, build_churn_features, build_churn_labels
from analytics.churn_scoring import score_p_alive
from analytics.risk_model import (
    Evaluation,
    NotEnoughData,
    check_classes,
    compute_reference,
    evaluate_scores,
    fit_calibrated,
    make_classifier,
    predict_risk,
    rank_driver_features,
)

MODEL_NAMES = {
    "model": "Churn model",
    "recency": "Recency only",
    "heuristic": "Probability-alive heuristic",
}


@dataclass(frozen=True)
class ChurnSettings:
    horizon_days: int = 90  # the label: no completed visit within this many days
    step_days: int = 28  # spacing of training cutoffs
    max_base_cutoffs: int = 8
    active_days: int = 365  # the population: a completed visit within this many days
    min_history_days: int = 60  # a training cutoff needs this much history before it

    def __post_init__(self) -> None:
        if not 14 <= self.horizon_days <= 365:
            raise ValueError("horizon_days must be between 14 and 365")
        if not 7 <= self.step_days <= 180:
            raise ValueError("step_days must be between 7 and 180")
        if not 1 <= self.max_base_cutoffs <= 52:
            raise ValueError("max_base_cutoffs must be between 1 and 52")
        if self.active_days < self.horizon_days:
            raise ValueError("active_days must be at least horizon_days")

    @property
    def horizon(self) -> pd.Timedelta:
        return pd.Timedelta(days=self.horizon_days)


@dataclass(frozen=True)
class CutoffPlan:
    base: tuple[pd.Timestamp, ...]  # oldest first
    calibration: pd.Timestamp


def plan_cutoffs(
    first_visit: pd.Timestamp, end: pd.Timestamp, settings: ChurnSettings
) -> CutoffPlan:
    """The training cutoffs for a model used at `end`. NotEnoughData when the history
    (from `first_visit`) is too short for even one base cutoff."""
    earliest = first_visit + pd.Timedelta(days=settings.min_history_days)
    latest = end - 2 * settings.horizon
    step = pd.Timedelta(days=settings.step_days)
    base = [latest - k * step for k in range(settings.max_base_cutoffs)]
    base = [cutoff for cutoff in base if cutoff >= earliest]
    if not base:
        days = (2 * settings.horizon_days) + settings.min_history_days
        raise NotEnoughData(
            f"Training needs about {days} days of visit history before the cutoff "
            f"(two {settings.horizon_days}-day horizons and {settings.min_history_days} days "
            "of history); there is less."
        )
    return CutoffPlan(tuple(sorted(base)), end - settings.horizon)


def build_training_rows(
    visits: pd.DataFrame, cutoffs: tuple[pd.Timestamp, ...], settings: ChurnSettings
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels of every population member at each cutoff, stacked."""
    frames, labels = [], []
    for cutoff in cutoffs:
        features = build_churn_features(visits, cutoff, active_days=settings.active_days)
        churned = build_churn_labels(
            visits, cutoff, horizon_days=settings.horizon_days, customers=features.index
        )
        frames.append(features[list(CHURN_FEATURES)])
        labels.append(churned.to_numpy(dtype=bool))
    x = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHURN_FEATURES)
    return x.astype("float64"), np.concatenate(labels) if labels else np.zeros(0, bool)


@dataclass(frozen=True, eq=False)
class ChurnModel:
    """A calibrated churn model for use at `end`, and the recency baseline fitted on the
    same rows."""

    model: CalibratedClassifierCV
    recency: LogisticRegression
    reference: pd.Series
    settings: ChurnSettings
    end: pd.Timestamp
    plan: CutoffPlan
    counts: dict[str, int] = field(default_factory=dict)
    driver_features: tuple[str, ...] = CHURN_FEATURES  # candidates for per-customer drivers

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return predict_risk(self.model, features[list(CHURN_FEATURES)].astype("float64"))

    def score_recency(self, features: pd.DataFrame) -> np.ndarray:
        if features.empty:
            return np.zeros(0)
        return self.recency.predict_proba(_log_recency(features))[:, 1]


def fit_churn_model(
    visits: pd.DataFrame, *, end: pd.Timestamp, settings: ChurnSettings
) -> ChurnModel:
    """Fit the recipe for use at `end` on visits known before it. NotEnoughData when the
    history or the classes are too thin."""
    known = visits[visits["created_at"] < end]
    completed = known.loc[known["status"] == "completed", "starts_at"]
    if completed.empty:
        raise NotEnoughData("There are no completed visits to learn from yet.")
    plan = plan_cutoffs(completed.min(), end, settings)
    x_base, y_base = build_training_rows(known, plan.base, settings)
    x_cal, y_cal = build_training_rows(known, (plan.calibration,), settings)
    model = fit_calibrated(make_classifier(seed=0), x_base, y_base, x_cal, y_cal)
    x_all, y_all = pd.concat([x_base, x_cal], ignore_index=True), np.concatenate([y_base, y_cal])
    recency = LogisticRegression().fit(_log_recency(x_all), y_all)
    counts = {
        "base_cutoffs": len(plan.base), "base_rows": len(y_base), "base_churned": int(y_base.sum()),
        "calibration_rows": len(y_cal), "calibration_churned": int(y_cal.sum()),
    }  # fmt: skip
    reference = compute_reference(x_base)
    churn = ChurnModel(model, recency, reference, settings, end, plan, counts)
    drivers = rank_driver_features(churn.score, x_cal, reference)
    return ChurnModel(model, recency, reference, settings, end, plan, counts, drivers)


def _log_recency(x: pd.DataFrame) -> np.ndarray:
    return np.log1p(x[["recency_days"]].to_numpy(dtype=float).clip(min=0.0))


def evaluate_churn(
    visits: pd.DataFrame, *, cutoff: pd.Timestamp, settings: ChurnSettings, now: pd.Timestamp
) -> tuple[ChurnModel, Evaluation]:
    """Fit for `end = cutoff`, then score the population at the cutoff against what
    happened in the horizon after it. ValueError if that horizon has not passed by `now`."""
    if cutoff + settings.horizon > now:
        raise ValueError(
            f"The {settings.horizon_days}-day horizon after {cutoff:%Y-%m-%d} has not passed yet; "
            f"choose a cutoff on or before {(now - settings.horizon):%Y-%m-%d}."
        )
    model = fit_churn_model(visits, end=cutoff, settings=settings)
    features = build_churn_features(visits, cutoff, active_days=settings.active_days)
    if features.empty:
        raise NotEnoughData(
            f"No customer had a completed visit in the {settings.active_days} days before "
            f"{cutoff:%Y-%m-%d}; for a history that ended earlier, evaluate at an earlier date."
        )
    y = build_churn_labels(
        visits, cutoff, horizon_days=settings.horizon_days, customers=features.index
    ).to_numpy(dtype=bool)
    check_classes(y, "The evaluation cutoff")
    scores = {
        "model": model.score(features),
        "recency": model.score_recency(features),
        "heuristic": score_p_alive(features, horizon_days=settings.horizon_days),
    }
    counts = model.counts | {"test_rows": len(y), "test_churned": int(y.sum())}
    window: dict[str, object] = {"horizon_days": settings.horizon_days}
    return model, evaluate_scores(y, scores, cutoff=cutoff, counts=counts, window=window)

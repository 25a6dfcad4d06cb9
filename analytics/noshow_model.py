"""No-show risk of an appointment. Pure.

Rows are appointments with a known outcome (completed or no-show; cancelled ones never
reach their slot). A model for use at `end` learns from the outcomes of appointments
that started before `end`, in the `train_days` up to the latest of them: the earlier ones
train the gradient-boosted trees and the latest `calibration_share` of them (by start)
calibrate them. Each row's customer history is what was known just before it started.

Evaluating at a cutoff V: fit for `end = V`, then score the appointments that started
from V up to `now`, with customer histories as of V (what a reminder sent at V would
have known), against their outcomes. The baseline is the customer's own historical
no-show rate, shrunk towards the business's rate for customers with little history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV

from analytics.noshow_features import (
    NOSHOW_CATEGORICAL,
    NOSHOW_FEATURES,
    build_noshow_features,
    build_noshow_labels,
)
from analytics.risk_model import (
    Evaluation,
    NotEnoughData,
    check_classes,
    evaluate_scores,
    fit_calibrated,
    make_classifier,
    predict_risk,
)

MODEL_NAMES = {"model": "No-show model", "history": "Customer's own no-show rate"}
OUTCOMES = ("completed", "no_show")
BANDS = (("high", 0.25), ("medium", 0.10), ("low", 0.0))


@dataclass(frozen=True)
class NoShowSettings:
    train_days: int = 730
    calibration_share: float = 0.2  # the latest fifth of the training rows calibrates
    evaluation_days: int = 56  # `noshow train` evaluates the last this many days by default
    prior_visits: float = 5.0  # the baseline's shrinkage towards the business's rate

    def __post_init__(self) -> None:
        if not 60 <= self.train_days <= 3 * 365:
            raise ValueError("train_days must be between 60 and 1095")
        if not 0.05 <= self.calibration_share <= 0.5:
            raise ValueError("calibration_share must be between 0.05 and 0.5")
        if not 7 <= self.evaluation_days <= 365:
            raise ValueError("evaluation_days must be between 7 and 365")


def select_outcome_rows(visits: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Index:
    """Appointment ids with a known outcome that started in [start, end)."""
    mask = (
        visits["status"].isin(OUTCOMES)
        & (visits["starts_at"] >= start)
        & (visits["starts_at"] < end)
    )
    return pd.Index(visits.loc[mask, "appointment_id"], name="appointment_id")


@dataclass(frozen=True, eq=False)
class NoShowModel:
    model: CalibratedClassifierCV
    base_rate: float  # the business's no-show rate over the training rows
    settings: NoShowSettings
    end: pd.Timestamp
    tz: str
    counts: dict[str, int] = field(default_factory=dict)

    def score(self, features: pd.DataFrame) -> np.ndarray:
        inputs = with_own_rate(features, base_rate=self.base_rate, prior=self.settings.prior_visits)
        return predict_risk(self.model, inputs)

    def score_history(self, features: pd.DataFrame) -> np.ndarray:
        return score_own_rate(features, base_rate=self.base_rate, prior=self.settings.prior_visits)


def with_own_rate(features: pd.DataFrame, *, base_rate: float, prior: float) -> pd.DataFrame:
    """The model's inputs: NOSHOW_FEATURES and the baseline's shrunk own rate, which the
    trees would otherwise have to piece together from two counts."""
    rate = score_own_rate(features, base_rate=base_rate, prior=prior)
    return features[list(NOSHOW_FEATURES)].assign(own_no_show_rate=rate)


def score_own_rate(features: pd.DataFrame, *, base_rate: float, prior: float) -> np.ndarray:
    """The baseline: (no-shows + prior x base rate) / (outcomes + prior)."""
    no_shows = features["prior_no_shows"].to_numpy(dtype=float)
    outcomes = no_shows + features["prior_visits"].to_numpy(dtype=float)
    return (no_shows + prior * base_rate) / (outcomes + prior)


def fit_noshow_model(
    visits: pd.DataFrame, *, end: pd.Timestamp, tz: str, settings: NoShowSettings
) -> NoShowModel:
    """Fit for use at `end` on appointments that started before it. NotEnoughData when
    there are too few outcomes of either kind."""
    known = visits[visits["created_at"] < end]
    finished = select_outcome_rows(known, pd.Timestamp.min.tz_localize("UTC"), end)
    latest = known.loc[known["appointment_id"].isin(finished), "starts_at"].max()
    since = (latest if pd.notna(latest) else end) - pd.Timedelta(days=settings.train_days)
    rows = select_outcome_rows(known, since, end)  # a closed history trains on its last years
    starts = known.set_index("appointment_id").loc[rows, "starts_at"].sort_values()
    split = int(len(starts) * (1 - settings.calibration_share))
    base_rows, cal_rows = pd.Index(starts.index[:split]), pd.Index(starts.index[split:])
    if base_rows.empty or cal_rows.empty:
        raise NotEnoughData(
            f"No-show training needs finished appointments in the {settings.train_days} days "
            "before the cutoff; there are too few."
        )
    x_base, y_base = _rows(known, base_rows, tz)
    x_cal, y_cal = _rows(known, cal_rows, tz)
    base_rate = float(y_base.mean()) if len(y_base) else 0.0
    prior = settings.prior_visits
    classifier = make_classifier(categorical=NOSHOW_CATEGORICAL, seed=0)
    model = fit_calibrated(
        classifier,
        with_own_rate(x_base, base_rate=base_rate, prior=prior), y_base,
        with_own_rate(x_cal, base_rate=base_rate, prior=prior), y_cal,
    )  # fmt: skip
    counts = {
        "base_rows": len(y_base), "base_no_shows": int(y_base.sum()),
        "calibration_rows": len(y_cal), "calibration_no_shows": int(y_cal.sum()),
    }  # fmt: skip
    return NoShowModel(model, base_rate, settings, end, tz, counts)


def _rows(
    visits: pd.DataFrame, rows: pd.Index, tz: str, history_end: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    labels = build_noshow_labels(visits, rows)
    features = build_noshow_features(visits, labels.index, tz=tz, history_end=history_end)
    return features[list(NOSHOW_FEATURES)], labels.to_numpy(dtype=bool)


def evaluate_noshow(
    visits: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    now: pd.Timestamp,
    tz: str,
    settings: NoShowSettings,
) -> tuple[NoShowModel, Evaluation]:
    """Fit for `end = cutoff`; score the appointments that started in [cutoff, now) with
    histories as of the cutoff; compare with their outcomes."""
    if cutoff >= now:
        raise ValueError("The evaluation cutoff must be in the past.")
    model = fit_noshow_model(visits, end=cutoff, tz=tz, settings=settings)
    x, y = _rows(visits, select_outcome_rows(visits, cutoff, now), tz, history_end=cutoff)
    check_classes(y, "The evaluation period")
    scores = {"model": model.score(x), "history": model.score_history(x)}
    counts = model.counts | {"test_rows": len(y), "test_no_shows": int(y.sum())}
    window: dict[str, object] = {"until": now.isoformat()}
    return model, evaluate_scores(y, scores, cutoff=cutoff, counts=counts, window=window)


def assign_noshow_bands(scores: np.ndarray) -> np.ndarray:
    p = np.asarray(scores, dtype=float)
    return np.select(
        [p >= BANDS[0][1], p >= BANDS[1][1]], [BANDS[0][0], BANDS[1][0]], "low"
    ).astype(object)

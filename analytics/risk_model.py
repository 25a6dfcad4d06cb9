"""The machinery that churn and no-show risk share. Pure: frames in, numbers out.

A risk model is a scikit-learn Pipeline around a HistGradientBoostingClassifier (it takes
missing values as they are, so a single-visit customer's unknown gap stays unknown),
calibrated with isotonic regression (or Platt's sigmoid on small folds) on a fold that
comes strictly later in time than the rows it was trained on. Metrics are ROC AUC,
PR AUC (average precision), the Brier score and a calibration table. Per-row drivers are
"what if this one feature were typical": the change in the calibrated score when a
feature is set to its training median, so a driver reads "raises the risk by 12 points".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

ISOTONIC_MIN_ROWS = 1000  # smaller calibration folds get a sigmoid (isotonic overfits)
MIN_CLASS_ROWS = 20  # fewer positives or negatives than this: nothing to learn or score
CHUNK_ROWS = 200_000  # rows per predict call when computing drivers


class NotEnoughData(ValueError):
    """Too few rows or too few of one class to train or evaluate; the message says which."""


def make_classifier(*, categorical: Sequence[str] = (), seed: int = 0) -> Pipeline:
    """The uncalibrated model: gradient-boosted trees, regularised for a few thousand rows
    as well as a million, deterministic for a seed. `categorical` columns (ids, codes)
    are ordinal-encoded first (unseen values become missing) and split as categories."""
    booster = HistGradientBoostingClassifier(
        learning_rate=0.06,  # small, well-populated trees: chosen on the demo salon and
        max_iter=150,  # the synthetic populations; more trees gained nothing and cost time
        max_leaf_nodes=8,
        min_samples_leaf=200,
        l2_regularization=1.0,
        categorical_features=list(categorical) if categorical else None,
        early_stopping=False,
        random_state=seed,
    )
    if not categorical:
        return Pipeline([("model", booster)])
    encode = ColumnTransformer(
        [("categories", _encoder(), list(categorical))],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    return Pipeline([("encode", encode), ("model", booster)])


def _encoder() -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=200,
    )


def check_classes(y: np.ndarray, what: str) -> None:
    """NotEnoughData unless `y` holds at least MIN_CLASS_ROWS of each class."""
    positives = int(np.sum(y))
    negatives = len(y) - positives
    if min(positives, negatives) < MIN_CLASS_ROWS:
        raise NotEnoughData(
            f"{what} has {positives} positive and {negatives} negative examples; "
            f"at least {MIN_CLASS_ROWS} of each are needed"
        )


def fit_calibrated(
    base: Pipeline,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_calibrate: pd.DataFrame,
    y_calibrate: np.ndarray,
) -> CalibratedClassifierCV:
    """Fit a clone of `base` on the earlier rows, then calibrate it on the later fold."""
    check_classes(y_train, "The training data")
    check_classes(y_calibrate, "The calibration fold")
    fitted = clone(base).fit(x_train, y_train)
    method = "isotonic" if len(y_calibrate) >= ISOTONIC_MIN_ROWS else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted), method=method)
    return calibrated.fit(x_calibrate, y_calibrate)


def predict_risk(model: CalibratedClassifierCV, x: pd.DataFrame) -> np.ndarray:
    """Calibrated probabilities of the positive class, in chunks."""
    if x.empty:
        return np.zeros(0)
    parts = [
        model.predict_proba(x.iloc[start : start + CHUNK_ROWS])[:, 1]
        for start in range(0, len(x), CHUNK_ROWS)
    ]
    return np.clip(np.concatenate(parts), 0.0, 1.0)


@dataclass(frozen=True)
class Metrics:
    roc_auc: float | None  # None when the rows hold one class only
    pr_auc: float | None
    brier: float
    rows: int
    positives: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "roc_auc": self.roc_auc, "pr_auc": self.pr_auc, "brier": self.brier,
            "rows": self.rows, "positives": self.positives,
        }  # fmt: skip


def compute_metrics(y_true: np.ndarray, scores: np.ndarray) -> Metrics:
    y = np.asarray(y_true, dtype=bool)
    p = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    both = 0 < y.sum() < len(y)
    return Metrics(
        roc_auc=round(float(roc_auc_score(y, p)), 4) if both else None,
        pr_auc=round(float(average_precision_score(y, p)), 4) if both else None,
        brier=round(float(brier_score_loss(y, p)), 4) if len(y) else float("nan"),
        rows=len(y),
        positives=int(y.sum()),
    )


@dataclass(frozen=True)
class Evaluation:
    """A model and its baselines scored on the same held-out rows (keys of `metrics`:
    "model" and the baselines' names). `window` says what was held out, e.g.
    {"horizon_days": 90} or {"until": "2026-11-25T..."}, and goes into `to_dict`."""

    cutoff: pd.Timestamp
    counts: dict[str, int]
    metrics: dict[str, Metrics]
    calibration: dict[str, pd.DataFrame]
    calibration_error: dict[str, float]
    window: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            **self.window,
            "counts": dict(self.counts),
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
            "calibration_error": {k: round(v, 4) for k, v in self.calibration_error.items()},
            "calibration": {k: t.round(4).to_dict("records") for k, t in self.calibration.items()},
        }


def evaluate_scores(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    cutoff: pd.Timestamp,
    counts: dict[str, int],
    window: dict[str, object],
) -> Evaluation:
    """Metrics, calibration table and calibration error of every named score on `y`."""
    return Evaluation(
        cutoff, counts,
        metrics={name: compute_metrics(y, p) for name, p in scores.items()},
        calibration={name: build_calibration_table(y, p) for name, p in scores.items()},
        calibration_error={name: compute_calibration_error(y, p) for name, p in scores.items()},
        window=window,
    )  # fmt: skip


def build_calibration_table(
    y_true: np.ndarray, scores: np.ndarray, *, bins: int = 10
) -> pd.DataFrame:
    """Rows grouped by predicted risk (equal-width bins over 0..1, empty bins dropped):
    bin (e.g. "20–30%"), rows, predicted (mean score), observed (share positive)."""
    y = np.asarray(y_true, dtype=float)
    p = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "p": p, "y": y})
    table = frame.groupby("bin").agg(
        rows=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")
    )
    labels = [f"{edges[i]:.0%}–{edges[i + 1]:.0%}" for i in table.index]
    return table.reset_index(drop=True).assign(bin=labels)[["bin", "rows", "predicted", "observed"]]


def compute_calibration_error(y_true: np.ndarray, scores: np.ndarray, *, bins: int = 10) -> float:
    """Expected calibration error: the row-weighted mean |predicted - observed| over bins."""
    table = build_calibration_table(y_true, scores, bins=bins)
    if table.empty:
        return float("nan")
    gaps = (table["predicted"] - table["observed"]).abs()
    return float((gaps * table["rows"]).sum() / table["rows"].sum())


def compute_reference(x: pd.DataFrame) -> pd.Series:
    """The typical value of each feature (the median, ignoring missing values)."""
    return x.median(numeric_only=True).reindex(x.columns)


def compute_driver_effects(
    score: Callable[[pd.DataFrame], np.ndarray],
    x: pd.DataFrame,
    reference: pd.Series,
    *,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per row and feature (`columns`, default all): score(x) minus the score with that
    feature set to its reference value. Positive: it raises the risk above typical."""
    base = np.asarray(score(x), dtype=float)
    effects = {}
    for column in columns if columns is not None else x.columns:
        value = reference.get(column)
        if value is None or pd.isna(value):
            effects[column] = np.zeros(len(x))
            continue
        changed = x.copy(deep=False)
        changed[column] = value
        effects[column] = base - np.asarray(score(changed), dtype=float)
    return pd.DataFrame(effects, index=x.index)


def rank_driver_features(
    score: Callable[[pd.DataFrame], np.ndarray],
    x: pd.DataFrame,
    reference: pd.Series,
    *,
    keep: int = 6,
    sample: int = 2000,
    seed: int = 0,
) -> tuple[str, ...]:
    """The `keep` features whose typical-value swap moves the score most, on average over
    a sample of rows: the only candidates for per-row drivers, which keeps scoring fast."""
    rows = x.sample(min(sample, len(x)), random_state=seed) if len(x) else x
    effects = compute_driver_effects(score, rows, reference).abs().mean()
    return tuple(effects.sort_values(ascending=False, kind="stable").index[:keep])


def top_drivers(effects: pd.DataFrame, *, k: int = 3, min_effect: float = 0.01) -> list[list[str]]:
    """Per row, up to `k` feature names that raise the risk most (effect >= min_effect)."""
    values = effects.to_numpy()
    order = np.argsort(-values, axis=1)[:, :k]
    names = np.asarray(effects.columns)
    out = []
    for row, picks in enumerate(order):
        out.append([str(names[j]) for j in picks if values[row, j] >= min_effect])
    return out

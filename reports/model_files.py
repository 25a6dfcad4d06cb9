"""Trained risk models on disk: one joblib file per business and kind, written atomically.

A file holds a StoredModel: the fitted model object, the format version, the
scikit-learn version it was fitted with, the feature names, the data fingerprint, when
and for which instant it was trained, its settings and its evaluation. Reading refuses
(returns a reason instead of a model) anything that doesn't match today's code: another
format or scikit-learn version, other features, another business, or a file that can't
be read at all. The caller then retrains; nothing crashes on an old file.

joblib files are pickles: only files this app wrote into its own models folder are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from reports.files import write_atomically

FORMAT_VERSION = 1
KINDS = ("churn", "noshow")
log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StoredModel:
    kind: str
    business_id: int
    model: Any  # analytics.churn_model.ChurnModel or analytics.noshow_model.NoShowModel
    features: tuple[str, ...]
    fingerprint: str
    trained_at: datetime
    end: datetime  # trained on what was known before this instant
    settings: dict[str, Any]
    evaluation: dict[str, Any] | None  # the evaluation's to_dict(), when there was one
    format_version: int = FORMAT_VERSION
    sklearn_version: str = field(default=sklearn.__version__)

    @property
    def version(self) -> str:
        """A short id for scores made with this model (churn_scores.model_version)."""
        return f"{self.kind}-v{self.format_version}-{self.end:%Y%m%d}-{self.fingerprint[:8]}"


def model_path(models_dir: Path, *, business_id: int, kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return Path(models_dir) / f"{kind}-business-{int(business_id)}.joblib"


def save_model(models_dir: Path, stored: StoredModel) -> Path:
    """Write the model file atomically (a reader never sees half a file)."""
    path = model_path(models_dir, business_id=stored.business_id, kind=stored.kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda stream: joblib.dump(stored, stream, compress=3))
    return path


def load_model(
    models_dir: Path, *, business_id: int, kind: str, features: tuple[str, ...]
) -> tuple[StoredModel | None, str]:
    """(the stored model, "") or (None, why it can't be used): missing, unreadable, or
    made by another format, scikit-learn version, feature set or business."""
    path = model_path(models_dir, business_id=business_id, kind=kind)
    if not path.exists():
        return None, "no model has been trained yet"
    try:
        stored = joblib.load(path)
    except Exception as exc:  # a truncated, foreign or incompatible pickle
        log.warning("model file %s unreadable: %s", path.name, type(exc).__name__)
        return None, "the model file could not be read"
    reason = _mismatch(stored, business_id=business_id, kind=kind, features=features)
    return (None, reason) if reason else (stored, "")


def _mismatch(stored: object, *, business_id: int, kind: str, features: tuple[str, ...]) -> str:
    if not isinstance(stored, StoredModel):
        return "the model file holds something else"
    if getattr(stored, "format_version", None) != FORMAT_VERSION:
        return "the model file is from an older version of Slotboard"
    if stored.sklearn_version != sklearn.__version__:
        return f"the model was trained with scikit-learn {stored.sklearn_version}"
    if stored.kind != kind or stored.business_id != business_id:
        return "the model file belongs to another business"
    if tuple(stored.features) != tuple(features):
        return "the model was trained on other features"
    return ""

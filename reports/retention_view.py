"""What the Retention page shows, read in one call: the stored churn model and its
evaluation, the newest stored scores with each customer's last visit, usual gap and
spend, risk bands with the value at stake, and whether anything needs (re)computing.

Scores are refreshed once a day (a score set made before today's local midnight is
stale), the model when it is older than PAGE_RETRAIN_AGE or can't be used. Computing is
the page's decision (it shows progress); this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.churn_features import CHURN_FEATURES, build_churn_features
from analytics.churn_model import ChurnSettings
from analytics.churn_scoring import BAND_LABELS
from analytics.noshow_features import NOSHOW_FEATURES
from auth.roles import Actor, Permission
from data.db import read_conn
from data.retention import load_churn_customer_details, load_latest_churn_scores
from data.types import utcnow
from reports.model_files import StoredModel, load_model
from reports.retention_inputs import PAGE_RETRAIN_AGE, load_inputs, local_date

BAND_ORDER = ("high", "medium", "low", "too_new")


@dataclass(frozen=True)
class RetentionView:
    churn_model: StoredModel | None
    churn_model_note: str  # why there is no usable model ("" when there is)
    noshow_model: StoredModel | None
    scores: pd.DataFrame  # customer_id, score, band, drivers, as_of, model_version, + details
    bands: pd.DataFrame  # band, label, customers, value_at_stake (major units, last 12 months)
    needs_training: bool
    needs_scoring: bool

    @property
    def scored_at(self) -> datetime | None:
        return None if self.scores.empty else pd.Timestamp(self.scores["as_of"].iloc[0])


def build_retention_view(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    settings: ChurnSettings,
    include_names: bool,
    now: datetime | None = None,
) -> RetentionView:
    """Everything the page shows; `include_names` adds first and last names (owners)."""
    actor.require(Permission.VIEW_ANALYTICS)
    now_ts = pd.Timestamp(now or utcnow())
    churn, note = load_model(
        models_dir, business_id=actor.business_id, kind="churn", features=CHURN_FEATURES
    )
    noshow, _ = load_model(
        models_dir, business_id=actor.business_id, kind="noshow", features=NOSHOW_FEATURES
    )
    stale_model = churn is None or now_ts - pd.Timestamp(churn.end) > PAGE_RETRAIN_AGE
    if churn is not None and churn.settings.get("horizon_days") != settings.horizon_days:
        stale_model, note = True, "the churn horizon setting has changed"
    with read_conn(engine) as conn:
        stored = load_latest_churn_scores(conn, actor=actor)
        inputs = load_inputs(conn, actor=actor)
        details = load_churn_customer_details(
            conn, actor=actor, customer_ids=stored["customer_id"].tolist(),
            include_names=include_names,
        )  # fmt: skip
    scores = _with_details(stored, details, inputs.visits, settings)
    today = local_date(now_ts, inputs.tz)
    stale_scores = scores.empty or local_date(scores["as_of"].iloc[0], inputs.tz) < today
    return RetentionView(
        churn, note if churn is None else "", noshow, scores, build_band_table(scores),
        needs_training=stale_model, needs_scoring=stale_scores or stale_model,
    )  # fmt: skip


def _with_details(
    stored: pd.DataFrame, details: pd.DataFrame, visits: pd.DataFrame, settings: ChurnSettings
) -> pd.DataFrame:
    """Stored scores joined with names or external ids and the customer's last visit,
    usual gap and spend as of the scores' instant."""
    if stored.empty:
        return stored.assign(last_visit_at=pd.NaT, typical_gap_days=0.0, spend_365d=0.0)
    at = pd.Timestamp(stored["as_of"].iloc[0])
    features = build_churn_features(visits, at, active_days=settings.active_days)
    shown = features[["last_visit_at", "typical_gap_days", "spend_365d"]].reset_index()
    merged = stored.merge(details, on="customer_id", how="left")
    return merged.merge(shown, on="customer_id", how="left")


def build_band_table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per band (BAND_ORDER): label, customers, value_at_stake (their spend over
    the last 12 months, major units)."""
    grouped: Any = scores.groupby("band")
    counts = grouped.size().reindex(BAND_ORDER, fill_value=0)
    value = grouped["spend_365d"].sum().reindex(BAND_ORDER, fill_value=0.0)
    return pd.DataFrame({
        "band": list(BAND_ORDER),
        "label": [BAND_LABELS[band] for band in BAND_ORDER],
        "customers": counts.to_numpy(dtype=int),
        "value_at_stake": value.to_numpy(dtype=float).round(2),
    })  # fmt: skip

"""Churn: train and evaluate a model, score customers, store the scores. No Streamlit: the
Retention page and `cli.py churn` both call this.

`train_churn` evaluates the recipe at a cutoff whose horizon has passed (the latest one
by default), then fits the same recipe on everything known up to the end of that
horizon and stores it (reports.model_files). `score_churn` scores the population as of
an instant with a stored model that knew nothing after it; without one it fits for that
instant (or, for "now", trains and stores first). When there is too little to learn
from, the scores come from the probability-alive heuristic and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.churn_features import CHURN_FEATURES, build_churn_features
from analytics.churn_model import ChurnModel, ChurnSettings, evaluate_churn, fit_churn_model
from analytics.churn_scoring import build_churn_scores, score_p_alive
from analytics.risk_model import NotEnoughData
from auth.roles import Actor, Permission
from data.db import read_conn, write_tx
from data.retention import load_churn_customer_details, save_churn_scores
from data.types import utcnow
from reports.model_files import StoredModel
from reports.retention_inputs import (
    RetentionInputs,
    compute_fingerprint,
    load_inputs,
    local_date,
    local_midnight,
    save_trained,
    usable_model,
)
from reports.retention_verdict import churn_verdict

HEURISTIC_VERSION = "churn-heuristic-v1"


def default_churn_cutoff(now: datetime, tz: str, settings: ChurnSettings) -> date:
    """The latest local day whose horizon has fully passed by `now`."""
    return local_date(pd.Timestamp(now) - settings.horizon, tz)


def train_churn(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    settings: ChurnSettings | None = None,
    as_of: date | None = None,
    now: datetime | None = None,
) -> StoredModel:
    """Evaluate at `as_of` (local midnight; default: the latest cutoff whose horizon has
    passed), fit the recipe for the end of that horizon and store it. Raises
    NotEnoughData (too little history or too few churned / retained customers) or
    ValueError (a cutoff whose horizon hasn't passed)."""
    actor.require(Permission.VIEW_ANALYTICS)
    settings = settings or ChurnSettings()
    with read_conn(engine) as conn:
        inputs = load_inputs(conn, actor=actor)
    return _train(inputs, actor, models_dir, settings, as_of, pd.Timestamp(now or utcnow()))


def _train(
    inputs: RetentionInputs,
    actor: Actor,
    models_dir: Path,
    settings: ChurnSettings,
    as_of: date | None,
    now: pd.Timestamp,
) -> StoredModel:
    day = as_of or default_churn_cutoff(now, inputs.tz, settings)
    cutoff = local_midnight(day, inputs.tz)
    _, evaluation = evaluate_churn(inputs.visits, cutoff=cutoff, settings=settings, now=now)
    end = cutoff + settings.horizon
    final = fit_churn_model(inputs.visits, end=end, settings=settings)
    known = inputs.visits[inputs.visits["created_at"] < end]
    return save_trained(
        models_dir, kind="churn", business_id=actor.business_id, model=final,
        features=CHURN_FEATURES, fingerprint=compute_fingerprint(known), end=end,
        settings=settings, evaluation=evaluation, verdict=churn_verdict(evaluation),
    )  # fmt: skip


@dataclass(frozen=True)
class ChurnScoring:
    """Scores of the population as of an instant, and how they were made."""

    as_of: datetime
    method: str  # "model" (a stored, evaluated model), "fitted" (fitted for as_of) or "heuristic"
    note: str  # why not the stored model, or why the heuristic ("" when stored)
    model_version: str
    stored: StoredModel | None
    scores: pd.DataFrame  # customer_id, score, band, drivers, + DISPLAY_COLUMNS
    rows_saved: int


DISPLAY_COLUMNS = [
    "last_visit_at", "typical_gap_days", "recency_days", "spend_365d", "visits_total"
]  # fmt: skip


def score_churn(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    settings: ChurnSettings | None = None,
    as_of: date | None = None,
    now: datetime | None = None,
    save: bool = True,
) -> ChurnScoring:
    """Score every customer in the population as of local midnight of `as_of` (default:
    now) using only what was known then, and store the scores (unless `save` is False)."""
    actor.require(Permission.VIEW_ANALYTICS)
    settings = settings or ChurnSettings()
    now_ts = pd.Timestamp(now or utcnow())
    with read_conn(engine) as conn:
        inputs = load_inputs(conn, actor=actor)
    at = local_midnight(as_of, inputs.tz) if as_of else now_ts
    model, method, note, stored = _model_for(inputs, actor, models_dir, settings, at, as_of)
    features = build_churn_features(inputs.visits, at, active_days=settings.active_days)
    if model is not None:
        scores = build_churn_scores(
            features, model.score, reference=model.reference, candidates=model.driver_features
        )
    else:
        horizon = settings.horizon_days
        scores = build_churn_scores(features, lambda x: score_p_alive(x, horizon_days=horizon))
    version = _version(method, stored, at, inputs.fingerprint)
    display = features[DISPLAY_COLUMNS].reset_index()
    scores = scores.merge(display, on="customer_id", how="left")
    saved = 0
    if save:
        with write_tx(engine) as conn:
            saved = save_churn_scores(
                conn, actor=actor, as_of=at.to_pydatetime(), model_version=version,
                fingerprint=inputs.fingerprint,
                scores=scores[["customer_id", "score", "band", "drivers"]],
            )  # fmt: skip
    return ChurnScoring(at.to_pydatetime(), method, note, version, stored, scores, saved)


def _model_for(
    inputs: RetentionInputs,
    actor: Actor,
    models_dir: Path,
    settings: ChurnSettings,
    at: pd.Timestamp,
    as_of: date | None,
) -> tuple[ChurnModel | None, str, str, StoredModel | None]:
    """(model or None for the heuristic, method, note, the stored model if used)."""
    stored, reason = usable_model(
        models_dir,
        business_id=actor.business_id,
        kind="churn",
        features=CHURN_FEATURES,
        at=at,
        tz=inputs.tz,
    )
    if stored is not None and stored.settings.get("horizon_days") == settings.horizon_days:
        return stored.model, "model", "", stored
    reason = reason or "the stored model uses another horizon"
    try:
        if as_of is None:  # scoring now: train, evaluate and store a model first
            stored = _train(inputs, actor, models_dir, settings, None, at)
            return stored.model, "model", f"Trained a new model ({reason}).", stored
        model = fit_churn_model(inputs.visits, end=at, settings=settings)
        return (
            model,
            "fitted",
            f"Fitted a model for {local_date(at, inputs.tz)} ({reason}); not evaluated.",
            None,
        )
    except NotEnoughData as exc:
        return None, "heuristic", f"Heuristic scores, not a trained model: {exc}", None


def _version(method: str, stored: StoredModel | None, at: pd.Timestamp, fingerprint: str) -> str:
    if stored is not None:
        return stored.version
    if method == "fitted":
        return f"churn-fitted-{at:%Y%m%d}-{fingerprint[:8]}"
    return HEURISTIC_VERSION


def build_churn_table(
    engine: Engine, *, actor: Actor, scores: pd.DataFrame, include_names: bool = False
) -> pd.DataFrame:
    """Scores for people and files: customer_id, external_id (and first and last name
    when `include_names`), score, band, drivers (their texts, "; "-joined), last_visit_at,
    typical_gap_days. Highest risk first. Never e-mail or phone."""
    actor.require(Permission.VIEW_ANALYTICS)
    with read_conn(engine) as conn:
        details = load_churn_customer_details(
            conn, actor=actor, customer_ids=scores["customer_id"].tolist(),
            include_names=include_names,
        )  # fmt: skip
    table = scores.merge(details, on="customer_id", how="left")
    table["drivers"] = [
        "; ".join(str(driver["text"]) for driver in drivers) for drivers in table["drivers"]
    ]
    names = ["first_name", "last_name"] if include_names else []
    columns = ["customer_id", "external_id", *names, "score", "band", "drivers",
               "last_visit_at", "typical_gap_days"]  # fmt: skip
    return table[columns].sort_values("score", ascending=False, ignore_index=True)

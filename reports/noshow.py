"""No-show risk: train and evaluate, and score upcoming appointments. No Streamlit: the
Retention page, `cli.py noshow` and (later) the reminder planner call this.

`score_noshow_risk` is the plain function the notifications work uses to target extra
reminders: it never trains (a reminder run must stay fast); without a usable stored
model it falls back to each customer's own no-show rate and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analytics.noshow_features import NOSHOW_FEATURES, build_noshow_features
from analytics.noshow_model import (
    NoShowModel,
    NoShowSettings,
    assign_noshow_bands,
    evaluate_noshow,
    fit_noshow_model,
    score_own_rate,
    select_outcome_rows,
)
from analytics.risk_model import NotEnoughData
from auth.roles import Actor, Permission
from data.db import read_conn
from data.types import utcnow
from reports.model_files import StoredModel
from reports.retention_inputs import (
    RetentionInputs,
    load_inputs,
    local_date,
    local_midnight,
    save_trained,
    usable_model,
)
from reports.retention_verdict import noshow_verdict

SCORE_COLUMNS = ["appointment_id", "customer_id", "staff_id", "service_id", "starts_at",
                 "price_cents", "score", "band"]  # fmt: skip


def train_noshow(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    settings: NoShowSettings | None = None,
    as_of: date | None = None,
    now: datetime | None = None,
) -> StoredModel:
    """Evaluate on the appointments from `as_of` (local midnight; default: the last
    `evaluation_days`) up to now with a model that knew only what came before, then fit
    for now and store. Raises NotEnoughData or ValueError (a cutoff not in the past)."""
    actor.require(Permission.VIEW_ANALYTICS)
    settings = settings or NoShowSettings()
    with read_conn(engine) as conn:
        inputs = load_inputs(conn, actor=actor)
    return _train(inputs, actor, models_dir, settings, as_of, pd.Timestamp(now or utcnow()))


def _train(
    inputs: RetentionInputs,
    actor: Actor,
    models_dir: Path,
    settings: NoShowSettings,
    as_of: date | None,
    now: pd.Timestamp,
) -> StoredModel:
    day = as_of or local_date(now - pd.Timedelta(days=settings.evaluation_days), inputs.tz)
    cutoff = local_midnight(day, inputs.tz)
    _, evaluation = evaluate_noshow(
        inputs.visits, cutoff=cutoff, now=now, tz=inputs.tz, settings=settings
    )
    final = fit_noshow_model(inputs.visits, end=now, tz=inputs.tz, settings=settings)
    return save_trained(
        models_dir, kind="noshow", business_id=actor.business_id, model=final,
        features=NOSHOW_FEATURES, fingerprint=inputs.fingerprint, end=now, settings=settings,
        evaluation=evaluation, verdict=noshow_verdict(evaluation),
    )  # fmt: skip


@dataclass(frozen=True)
class NoShowScoring:
    as_of: datetime
    method: str  # "model", "fitted" (for an explicit past as_of) or "history" (own rate)
    note: str
    stored: StoredModel | None
    scores: pd.DataFrame  # SCORE_COLUMNS, soonest first


def score_noshow_risk(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> NoShowScoring:
    """No-show risk of the booked or confirmed appointments starting in [start, end)
    (default: now to 14 days ahead), with the stored model or, failing that, each
    customer's own no-show rate. Never trains."""
    actor.require(Permission.VIEW_ANALYTICS)
    at = pd.Timestamp(now or utcnow())
    with read_conn(engine) as conn:
        inputs = load_inputs(conn, actor=actor)
    stored, reason = usable_model(
        models_dir,
        business_id=actor.business_id,
        kind="noshow",
        features=NOSHOW_FEATURES,
        at=at,
        tz=inputs.tz,
    )
    model = stored.model if stored is not None else None
    note = "" if model else f"Each customer's own no-show rate ({reason})."
    window = (pd.Timestamp(start or at), pd.Timestamp(end or at + pd.Timedelta(days=14)))
    frame = _score(inputs, model, at, window, upcoming_only=True)
    method = "model" if model else "history"
    return NoShowScoring(at.to_pydatetime(), method, note, stored, frame)


def score_noshow_as_of(
    engine: Engine,
    *,
    actor: Actor,
    models_dir: Path,
    as_of: date | None = None,
    days: int = 28,
    settings: NoShowSettings | None = None,
    now: datetime | None = None,
) -> NoShowScoring:
    """`cli.py noshow score`: every appointment booked by local midnight of `as_of`
    (default: now) that starts in the `days` after it, scored with what was known then.
    Uses the stored model if it may, else fits one for that instant (not stored)."""
    actor.require(Permission.VIEW_ANALYTICS)
    settings = settings or NoShowSettings()
    now_ts = pd.Timestamp(now or utcnow())
    with read_conn(engine) as conn:
        inputs = load_inputs(conn, actor=actor)
    at = local_midnight(as_of, inputs.tz) if as_of else now_ts
    stored, reason = usable_model(
        models_dir,
        business_id=actor.business_id,
        kind="noshow",
        features=NOSHOW_FEATURES,
        at=at,
        tz=inputs.tz,
    )
    model, method, note = (stored.model if stored else None), "model", ""
    if model is None:
        try:
            model = fit_noshow_model(inputs.visits, end=at, tz=inputs.tz, settings=settings)
            method, note = (
                "fitted",
                f"Fitted a model for {local_date(at, inputs.tz)} ({reason}); not evaluated.",
            )
        except NotEnoughData as exc:
            method, note = "history", f"Each customer's own no-show rate: {exc}"
    window = (at, at + pd.Timedelta(days=days))
    frame = _score(inputs, model, at, window, upcoming_only=as_of is None)
    return NoShowScoring(at.to_pydatetime(), method, note, stored, frame)


def _score(
    inputs: RetentionInputs,
    model: NoShowModel | None,
    at: pd.Timestamp,
    window: tuple[pd.Timestamp, pd.Timestamp],
    *,
    upcoming_only: bool,
) -> pd.DataFrame:
    """Rows booked before `at`, not cancelled by then, starting in the window; histories
    as of `at`. upcoming_only: also still booked or confirmed today."""
    visits = inputs.visits
    starts = visits["starts_at"]
    exists = (visits["created_at"] < at) & (starts >= window[0]) & (starts < window[1])
    not_cancelled = visits["cancelled_at"].isna() | (visits["cancelled_at"] >= at)
    mask = exists & not_cancelled
    if upcoming_only:
        mask &= visits["status"].isin(("booked", "confirmed"))
    rows = pd.Index(visits.loc[mask, "appointment_id"], name="appointment_id")
    features = build_noshow_features(visits, rows, tz=inputs.tz, history_end=at)
    if model is not None:
        scores = model.score(features)
    else:
        scores = score_own_rate(features, base_rate=_base_rate(visits, at), prior=5.0)
    picked = visits.set_index("appointment_id").loc[rows].reset_index()
    frame = picked.assign(score=np.round(scores, 4), band=assign_noshow_bands(scores))
    return frame[SCORE_COLUMNS].sort_values("starts_at", ignore_index=True)


def _base_rate(visits: pd.DataFrame, at: pd.Timestamp) -> float:
    rows = select_outcome_rows(visits, at - pd.Timedelta(days=365), at)
    outcomes = visits.loc[visits["appointment_id"].isin(rows), "status"]
    return float((outcomes == "no_show").mean()) if len(outcomes) else 0.05

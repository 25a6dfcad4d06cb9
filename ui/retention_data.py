"""Cached readers, the "compute with progress" step and display text behind the
Retention page (and the churn line on the customer profile). Readers are keyed by
business, database, data version, naming rule, horizon and the model files' mtimes (a
retrain anywhere is a miss); new scores are not, so `refresh_scores` clears them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from analytics.churn_model import ChurnSettings
from analytics.risk_model import NotEnoughData
from auth.roles import Actor
from data.campaigns import create_campaign_draft, list_campaigns
from data.db import read_conn, write_tx
from data.retention import load_churn_customer_details
from data.types import utcnow
from reports.churn import score_churn, train_churn
from reports.model_files import KINDS, model_path
from reports.noshow import NoShowScoring, score_noshow_risk, train_noshow
from reports.retention_inputs import PAGE_RETRAIN_AGE
from reports.retention_view import RetentionView, build_retention_view
from ui.analytics_data import Version
from ui.session import get_settings

RAN_KEY = "ret_scored_for"  # (business, version, horizon) of this session's last scoring run
NOTES_KEY = "ret_notes"  # what that run said (model trained, heuristic, no-show skipped)


def churn_settings() -> ChurnSettings:
    return ChurnSettings(horizon_days=get_settings().churn_horizon_days)


def _key(actor: Actor, engine: Engine) -> tuple[Any, ...]:
    """What every cached reader is keyed by: business, database, models folder and the
    model files' modification times (a retrain anywhere is a cache miss)."""
    models_dir = get_settings().models_dir
    paths = [model_path(models_dir, business_id=actor.business_id, kind=k) for k in KINDS]
    mtimes = tuple(path.stat().st_mtime if path.exists() else None for path in paths)
    return actor.business_id, str(engine.url), str(models_dir), mtimes


def load_retention_view(
    actor: Actor, engine: Engine, *, version: Version, include_names: bool
) -> RetentionView:
    """The page's read model (reports.retention_view), cached (see the module doc)."""
    horizon = churn_settings().horizon_days
    return _cached_view(_key(actor, engine), version, include_names, horizon, actor, engine)


@st.cache_data(ttl=600, max_entries=16, show_spinner="Reading the scores…")
def _cached_view(
    key: tuple, version: Version, names: bool, horizon: int, _actor: Actor, _engine: Engine
) -> RetentionView:
    return build_retention_view(
        _engine, actor=_actor, models_dir=Path(key[2]),
        settings=ChurnSettings(horizon_days=horizon), include_names=names,
    )  # fmt: skip


def load_noshow_risks(
    actor: Actor, engine: Engine, *, version: Version, include_names: bool
) -> tuple[NoShowScoring, pd.DataFrame]:
    """No-show risk of the next 14 days' appointments (never trains) and their
    customers' display details (customer_id, external_id, names when asked), cached."""
    return _cached_noshow(_key(actor, engine), version, include_names, actor, engine)


@st.cache_data(ttl=600, max_entries=16, show_spinner="Scoring upcoming appointments…")
def _cached_noshow(
    key: tuple, version: Version, names: bool, _actor: Actor, _engine: Engine
) -> tuple[NoShowScoring, pd.DataFrame]:
    scoring = score_noshow_risk(_engine, actor=_actor, models_dir=Path(key[2]))
    ids = scoring.scores["customer_id"].tolist()
    with read_conn(_engine) as conn:
        return scoring, load_churn_customer_details(
            conn, actor=_actor, customer_ids=ids, include_names=names
        )


def load_campaign_table(actor: Actor, engine: Engine, *, tz: str) -> pd.DataFrame:
    """The business's campaigns for display, win-back first, newest first within a kind:
    Name, Kind, Channel, Status, Audience, Created (local). Not cached: one small query,
    and a draft made elsewhere shows at once."""
    with read_conn(engine) as conn:
        rows = sorted(list_campaigns(conn, actor=actor), key=lambda r: r["kind"] != "win_back")
    return pd.DataFrame([
        {"Name": row["name"], "Kind": str(row["kind"]).replace("_", "-"),
         "Channel": {"sms": "SMS", "email": "E-mail"}.get(row["channel"], row["channel"]),
         "Status": row["status"], "Audience": row["audience"],
         "Created": f"{pd.Timestamp(row['created_at']).tz_convert(tz):%d %b %Y %H:%M}"}
        for row in rows
    ])  # fmt: skip


def already_scored(actor: Actor, version: Version) -> bool:
    """Whether this session already ran the scoring for this data (the loop guard)."""
    return st.session_state.get(RAN_KEY) == (actor.business_id, version, churn_settings())


def refresh_scores(
    actor: Actor, engine: Engine, *, view: RetentionView, version: Version, retrain: bool
) -> None:
    """Train what needs training and score every customer, inside a progress box; keep
    what happened in the session (NOTES_KEY) and forget the cached readers."""
    with st.status("Training the churn model and scoring customers…") as status:
        notes = compute_scores(actor, engine, view=view, retrain=retrain)
        status.update(label="Scores updated.", state="complete")
    st.session_state[RAN_KEY] = (actor.business_id, version, churn_settings())
    st.session_state[NOTES_KEY] = notes
    _cached_view.clear()
    _cached_noshow.clear()


def compute_scores(
    actor: Actor, engine: Engine, *, view: RetentionView, retrain: bool
) -> list[str]:
    """Retrain the churn model when asked, score (score_churn trains when no model is
    usable), and train the no-show model when there is none usable or on request.
    Returns plain notes; NotEnoughData and ValueError become notes, never errors."""
    models_dir, settings, notes = get_settings().models_dir, churn_settings(), []
    if retrain:
        try:
            train_churn(engine, actor=actor, models_dir=models_dir, settings=settings)
        except (NotEnoughData, ValueError) as exc:
            notes.append(f"The churn model was not retrained: {exc}")
    try:
        scoring = score_churn(engine, actor=actor, models_dir=models_dir, settings=settings)
        notes += [scoring.note] if scoring.note else []
    except (NotEnoughData, ValueError) as exc:
        notes.append(f"The customers could not be scored: {exc}")
    if retrain or (noshow := view.noshow_model) is None or utcnow() - noshow.end > PAGE_RETRAIN_AGE:
        try:
            train_noshow(engine, actor=actor, models_dir=models_dir)
        except (NotEnoughData, ValueError) as exc:
            notes.append(f"No no-show model: {exc}")
    return notes


def heuristic_reason(view: RetentionView, notes: Sequence[str]) -> str | None:
    """None for model scores; for heuristic ones, why (this session's note, else the view's)."""
    if not any(str(v).startswith("churn-heuristic") for v in view.scores["model_version"][:1]):
        return None
    said = [note.split(": ", 1)[-1] for note in notes if note.startswith("Heuristic scores")]
    return (said or [view.churn_model_note or "too little history to train a model"])[0]


def save_campaign_draft(
    actor: Actor, engine: Engine, *, view: RetentionView, band: str | None, ids: Sequence[int],
    name: str, channel: str,
) -> int:  # fmt: skip
    """Store a win-back draft naming `ids` (band None: a hand-picked selection), with where
    it came from; ValueError or PermissionDenied with nothing written."""
    version = view.scores["model_version"]
    segment = {
        "source": "retention", "band": band, "customer_ids": [int(i) for i in ids],
        "as_of": view.scored_at.isoformat() if view.scored_at else None,
        "model_version": None if version.empty else str(version.iloc[0]),
    }  # fmt: skip
    with write_tx(engine) as conn:
        return create_campaign_draft(
            conn, actor=actor, name=name, kind="win_back", channel=channel, segment=segment
        )

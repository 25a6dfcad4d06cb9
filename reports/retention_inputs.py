"""What the churn and no-show services share: the visits as the models see them, their
fingerprint, local-midnight cutoffs and the model-file rules.

Times known for a visit: a booking exists from min(created_at, starts_at), because an
imported history often carries the import's time as created_at; a cancellation without
a recorded time happened by the start. With that, a history imported years after the
fact is scored as of its own dates, exactly like one booked in Slotboard.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from analytics.risk_model import Evaluation
from auth.roles import Actor
from data.business import load_business
from data.retention import load_visit_events
from data.types import utcnow
from reports.model_files import StoredModel, load_model, save_model
from reports.retention_verdict import Verdict
from scheduling.timezones import local_day_bounds

MAX_MODEL_AGE = timedelta(days=120)  # older than this before the scoring instant: refit
PAGE_RETRAIN_AGE = timedelta(days=30)  # the Retention page offers a retrain after this


@dataclass(frozen=True)
class RetentionInputs:
    business: dict[str, Any]
    visits: pd.DataFrame
    fingerprint: str

    @property
    def tz(self) -> str:
        return str(self.business["timezone"])


def load_inputs(conn: Connection, *, actor: Actor) -> RetentionInputs:
    business = load_business(conn, business_id=actor.business_id)
    visits = normalise_visits(load_visit_events(conn, actor=actor))
    return RetentionInputs(business, visits, compute_fingerprint(visits))


def normalise_visits(visits: pd.DataFrame) -> pd.DataFrame:
    """created_at no later than the start; a cancellation without a time dated by then."""
    out = visits.copy()
    out["created_at"] = out["created_at"].where(
        out["created_at"] <= out["starts_at"], out["starts_at"]
    )
    undated = (out["status"] == "cancelled") & out["cancelled_at"].isna()
    out.loc[undated, "cancelled_at"] = out.loc[undated, "created_at"]
    return out


def compute_fingerprint(visits: pd.DataFrame) -> str:
    """A short hash of what the models learn from: ids, statuses, times and prices."""
    digest = hashlib.sha256()
    columns = ["appointment_id", "customer_id", "starts_at", "created_at", "cancelled_at"]
    hashed = pd.util.hash_pandas_object(visits[[*columns, "status", "price_cents"]], index=False)
    digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()[:16]


def local_midnight(day: date, tz: str) -> pd.Timestamp:
    """The UTC instant at which `day` starts in the business's zone."""
    start, _ = local_day_bounds(day, tz, days=1)
    return pd.Timestamp(start).tz_convert("UTC")


def local_date(instant: datetime | pd.Timestamp, tz: str) -> date:
    return pd.Timestamp(instant).tz_convert(tz).date()


def usable_model(
    models_dir: Path,
    *,
    business_id: int,
    kind: str,
    features: tuple[str, ...],
    at: pd.Timestamp,
    tz: str,
) -> tuple[StoredModel | None, str]:
    """The stored model if it may score at `at`: trained only on what was known before
    `at` and not older than MAX_MODEL_AGE; else None and the reason."""
    stored, reason = load_model(models_dir, business_id=business_id, kind=kind, features=features)
    if stored is None:
        return None, reason
    end = pd.Timestamp(stored.end)
    if end > at:
        return None, f"the stored model knows data after {local_date(at, tz)}"
    if at - end > MAX_MODEL_AGE:
        made, used = local_date(end, tz), local_date(at, tz)
        return None, f"the stored model is from {made}, too old for {used}"
    return stored, ""


def save_trained(
    models_dir: Path,
    *,
    kind: str,
    business_id: int,
    model: Any,
    features: tuple[str, ...],
    fingerprint: str,
    end: pd.Timestamp,
    settings: Any,
    evaluation: Evaluation,
    verdict: Verdict,
) -> StoredModel:
    """Store a fitted model with the evaluation of its recipe (its counts extended by
    the final fit's, prefixed "final_") and the plain-words verdict."""
    counts = evaluation.counts | {"final_" + k: v for k, v in model.counts.items()}
    report = evaluation.to_dict() | {"verdict": asdict(verdict), "counts": counts}
    stored = StoredModel(
        kind, business_id, model, features, fingerprint, utcnow(), end.to_pydatetime(),
        asdict(settings), report,
    )  # fmt: skip
    save_model(models_dir, stored)
    return stored

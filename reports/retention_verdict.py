"""Model quality in plain words: is a risk model good enough to act on?

A model earns "act on it" when its ROC AUC on the held-out cutoff is at least
TRUST_AUC, it beats every baseline by at least MIN_LIFT, and its probabilities are
calibrated to within MAX_CALIBRATION_ERROR. Otherwise it is "use with care" (beats the
baselines, but weakly or loosely calibrated) or "not better than the baseline".
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.risk_model import Evaluation

TRUST_AUC = 0.70
MIN_LIFT = 0.01
MAX_CALIBRATION_ERROR = 0.05


@dataclass(frozen=True)
class Verdict:
    level: str  # "act", "care" or "baseline"
    text: str


def churn_verdict(evaluation: Evaluation) -> Verdict:
    return _verdict(evaluation, names={"recency": "recency alone", "heuristic": "the heuristic"})


def noshow_verdict(evaluation: Evaluation) -> Verdict:
    return _verdict(evaluation, names={"history": "each customer's own no-show rate"})


def _verdict(evaluation: Evaluation, *, names: dict[str, str]) -> Verdict:
    model = evaluation.metrics["model"].roc_auc or 0.5
    baselines = {key: evaluation.metrics[key].roc_auc or 0.5 for key in names}
    best_key = max(baselines, key=lambda key: baselines[key])
    best = baselines[best_key]
    error = evaluation.calibration_error["model"]
    against = f"AUC {model:.2f} against {best:.2f} for {names[best_key]}"
    if model < best + MIN_LIFT:
        return Verdict(
            "baseline",
            f"Not better than {names[best_key]} ({against}): treat the scores as a rough "
            "ranking only.",
        )
    if model >= TRUST_AUC and error <= MAX_CALIBRATION_ERROR:
        return Verdict(
            "act",
            f"Good enough to act on: it ranks risk better than every baseline "
            f"({against}) and its probabilities are within {error:.0%} of what happened.",
        )
    return Verdict(
        "care",
        f"Use with care: better than the baselines ({against}), but "
        + (
            f"its probabilities were off by {error:.0%} on average."
            if error > MAX_CALIBRATION_ERROR
            else "its ranking is weak."
        ),
    )

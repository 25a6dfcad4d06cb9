"""The win-back rule: a campaign for the high churn-risk band, as sure as the churn model
allows. Pure."""

from __future__ import annotations

from assistant.facts import Fact
from assistant.rules.base import Candidate, Context
from assistant.rules.common import _candidate, _cites, _link, _n, _number
from assistant.schema import Confidence

# Win-back: a band of five customers or more is worth a campaign; one in ten coming
# back is a common win-back response rate. A customer won back keeps a year's spend.
WIN_BACK_MIN_CUSTOMERS = 5
WIN_BACK_SHARE = 0.10


# --- churn: win back the high-risk band ---


def win_back(ctx: Context) -> list[Candidate]:
    """A win-back campaign for the high churn-risk band."""
    band = ctx.by_id.get("churn.band.high")
    customers = _number(band)
    if band is None or customers is None or customers < WIN_BACK_MIN_CUSTOMERS:
        return []
    spend, share = _number(band, "spend_at_stake") or 0.0, _number(band, "share")
    model = ctx.by_id.get("churn.model")
    level, note = _churn_note(model)
    kept, back = spend * WIN_BACK_SHARE, customers * WIN_BACK_SHARE
    scored = f" ({share:.0%} of those scored)" if share else ""
    caveat = " Less likely with a model no better than the baseline." if level == "baseline" else ""
    return [
        _candidate(
            kept or back * ctx.hour_value(),
            "retention",
            CHURN_CONFIDENCE.get(level, "medium"),
            title=f"Win back {customers:.0f} high-risk customers"
            + (f": {ctx.money(spend)} of yearly spend at stake" if spend else ""),
            rationale=(
                f"{customers:.0f} customers{scored} are in the high churn-risk band; they spent "
                f"{ctx.money(spend)} in the last 12 months.{note}"
            ),
            action=(
                "This week, send the high-risk band a win-back message from a Notifications "
                "draft: a personal invitation to book, with a small reason to come back."
            ),
            impact=(
                f"If {WIN_BACK_SHARE:.0%} come back: about {_n(back)} customers and "
                f"{ctx.money(kept)} of yearly spend kept.{caveat}"
            ),
            cites=_cites(band, model),
            link=_link("win_back_campaign", band="high"),
        )
    ]


def _churn_note(model: Fact | None) -> tuple[str, str]:
    """The churn model's level ("act", "care", "baseline" or "") from its verdict (a level
    or Retention's verdict text), and a sentence on it for the rationale."""
    verdict = str(model.detail.get("verdict") or "").strip().lower() if model else ""
    auc, base = _number(model), _number(model, "baseline_auc")
    auc_text = (
        f" (AUC {auc:.2f}" + (f" against {base:.2f})" if base is not None else ")") if auc else ""
    )
    if verdict == "baseline" or "not better than" in verdict:
        return "baseline", (
            f" The churn model is not better than the baseline{auc_text}, so treat the band as "
            "a rough ranking and check the list before sending."
        )
    if verdict == "act" or verdict.startswith("good enough"):
        return "act", f" The churn model is good enough to act on{auc_text}."
    if verdict == "care" or verdict.startswith("use with care"):
        return "care", f" The churn model beats the baseline but needs care{auc_text}."
    return "", ""


CHURN_CONFIDENCE: dict[str, Confidence] = {"act": "high", "care": "medium", "baseline": "low"}

"""The recommendation schema both engines produce (OpenAI's structured output and the
offline rule engine), and the checks every recommendation passes before it is shown.
Pure.

The models are kept to what OpenAI's strict structured output accepts: every field is
required (optional ones are nullable), no free-form mappings, no numeric or length
constraints in the schema itself. Limits are enforced afterwards by `check_recommendation`,
which also drops a recommendation that cites a fact the facts do not hold.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from assistant.facts import BusinessFacts

Category = Literal["marketing", "capacity", "retention", "no_shows", "services", "operations"]
CATEGORIES: tuple[Category, ...] = (
    "marketing", "capacity", "retention", "no_shows", "services", "operations",
)  # fmt: skip
Confidence = Literal["low", "medium", "high"]
# Where an action link opens, pre-filled:
# - "win_back_campaign": Notifications, a win-back draft for `band` (Retention's bands);
# - "staffing_view": Peak times, staffing for `weekday`/`start`/`end`;
# - "reminder_rules": Message templates, the automatic reminder rules;
# - "targeted_campaign": Notifications, a campaign to fill `weekday`/`start`/`end`;
# - "service_review": Team & services, the service `service_id`.
LinkKind = Literal[
    "win_back_campaign", "staffing_view", "reminder_rules", "targeted_campaign", "service_review"
]
LINK_KINDS: tuple[LinkKind, ...] = (
    "win_back_campaign", "staffing_view", "reminder_rules", "targeted_campaign", "service_review",
)  # fmt: skip
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_RECOMMENDATIONS = 8
MAX_TITLE = 120
MAX_TEXT = 600


class ActionLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LinkKind
    band: str | None
    weekday: str | None
    start: str | None
    end: str | None
    service_id: int | None


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    category: Category
    rationale: str  # why, in plain words, naming the facts it rests on
    cites: list[str]  # ids of the facts (assistant.facts.Fact.id)
    action: str  # the concrete thing to do this week
    expected_impact: str
    confidence: Confidence
    action_link: ActionLink | None


class RecommendationSet(BaseModel):
    """What an engine returns (the OpenAI response format)."""

    model_config = ConfigDict(extra="forbid")

    recommendations: list[Recommendation]


def check_recommendation(rec: Recommendation, facts: BusinessFacts) -> list[str]:
    """Why `rec` must not be shown ([] when it may): no citation, a cited id the facts do
    not hold, an empty or over-long title or text, a weekday that is not "Mon".."Sun"."""
    known = facts.by_id()
    problems = []
    if not rec.cites:
        problems.append("cites no fact")
    unknown = [fact_id for fact_id in rec.cites if fact_id not in known]
    if unknown:
        problems.append(f"cites unknown facts: {', '.join(unknown[:5])}")
    if not rec.title.strip() or len(rec.title) > MAX_TITLE:
        problems.append(f"the title must have 1 to {MAX_TITLE} characters")
    for name in ("rationale", "action", "expected_impact"):
        text = getattr(rec, name)
        if not text.strip() or len(text) > MAX_TEXT:
            problems.append(f"{name} must have 1 to {MAX_TEXT} characters")
    link = rec.action_link
    if link is not None and link.weekday is not None and link.weekday not in WEEKDAYS:
        problems.append(f"unknown weekday {link.weekday!r}")
    return problems

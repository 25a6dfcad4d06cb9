"""The offline rule engine: deterministic recommendations from a business's facts. Pure.

`recommend(facts)` runs every rule in RULES over `assistant.facts.BusinessFacts` and
returns recommendations in the schema the OpenAI path produces (`assistant.schema`),
plus the rules that produced nothing and why: the reason a family of facts is missing
("no forecast has been run yet") or NOTHING_TO_ACT_ON when no threshold was crossed.

Each rule is a small function from the facts to candidates. A candidate's priority is
the money at stake in its expected impact, in the facts' currency, over the facts'
period (weekly and 14-day figures are scaled to it; a win-back counts the year's spend a
returning customer keeps). Hours are valued at the average ticket (HOURS_AS_VISITS), or
at 1 when it is unknown. The list is ordered by priority, then by the first cited fact
id, so the same facts always give the same list. Every recommendation cites the ids of
the facts it rests on and passes `check_recommendation` before it is returned.

The engine lives here; the rules live in one module per family, on the shared types in
`base` and the shared helpers in `common`: `capacity` (idle windows, staffing shortfall
and over-staffing), `no_shows`, `retention` (win-back), `services` and `operations`
(rebooking, cancellations). Each module keeps its thresholds beside its rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.facts import BusinessFacts
from assistant.rules.base import HOURS_AS_VISITS, Candidate, Context, Rule
from assistant.rules.capacity import (
    FILL_SHARE,
    GOOD_FORECAST_RATIO,
    IDLE_MAX_UTILIZATION,
    IDLE_MIN_FREE_HOURS,
    IDLE_MIN_WEEKS,
    OVER_MIN_HOURS_PER_WEEK,
    OVER_STAFFED_WEIGHT,
    UNDER_MIN_HOURS_PER_WEEK,
    add_capacity,
    fill_idle_windows,
    trim_overstaffing,
)
from assistant.rules.common import DAY_NAMES, MAX_NAME, MAX_PER_RULE, Window, _number, _positive
from assistant.rules.no_shows import (
    NOSHOW_MIN_EXPECTED,
    NOSHOW_MIN_HIGH_RISK,
    NOSHOW_RATE_RISE,
    REMINDER_SAVE_SHARE,
    extra_reminders,
)
from assistant.rules.operations import (
    CANCELLATION_RISE,
    REBOOKING_DROP,
    curb_cancellations,
    recover_rebooking,
)
from assistant.rules.retention import (
    CHURN_CONFIDENCE,
    WIN_BACK_MIN_CUSTOMERS,
    WIN_BACK_SHARE,
    win_back,
)
from assistant.rules.services import (
    SERVICE_MAX_CHANGE,
    SERVICE_MIN_BOOKINGS,
    SERVICE_RECOVER_SHARE,
    SERVICE_SURE_BOOKINGS,
    review_services,
)
from assistant.schema import MAX_RECOMMENDATIONS, Recommendation, check_recommendation

__all__ = [
    "CANCELLATION_RISE",
    "CHURN_CONFIDENCE",
    "DAY_NAMES",
    "FILL_SHARE",
    "GOOD_FORECAST_RATIO",
    "HOURS_AS_VISITS",
    "IDLE_MAX_UTILIZATION",
    "IDLE_MIN_FREE_HOURS",
    "IDLE_MIN_WEEKS",
    "MAX_NAME",
    "MAX_PER_RULE",
    "NOSHOW_MIN_EXPECTED",
    "NOSHOW_MIN_HIGH_RISK",
    "NOSHOW_RATE_RISE",
    "NOTHING_TO_ACT_ON",
    "OVER_MIN_HOURS_PER_WEEK",
    "OVER_STAFFED_WEIGHT",
    "REBOOKING_DROP",
    "REMINDER_SAVE_SHARE",
    "RULES",
    "SERVICE_MAX_CHANGE",
    "SERVICE_MIN_BOOKINGS",
    "SERVICE_RECOVER_SHARE",
    "SERVICE_SURE_BOOKINGS",
    "UNDER_MIN_HOURS_PER_WEEK",
    "WIN_BACK_MIN_CUSTOMERS",
    "WIN_BACK_SHARE",
    "Candidate",
    "Context",
    "Rule",
    "RuleOutcome",
    "SkippedRule",
    "Window",
    "add_capacity",
    "curb_cancellations",
    "extra_reminders",
    "fill_idle_windows",
    "recommend",
    "recover_rebooking",
    "review_services",
    "trim_overstaffing",
    "win_back",
]

NOTHING_TO_ACT_ON = "nothing to act on"


@dataclass(frozen=True)
class SkippedRule:
    """A rule that produced nothing, and why in plain words."""

    rule: str
    reason: str

    @property
    def text(self) -> str:
        return f"{self.rule}: {self.reason}"


@dataclass(frozen=True)
class RuleOutcome:
    """What the rule engine returns: the recommendations, best first, and the skipped rules."""

    recommendations: list[Recommendation]
    skipped: list[SkippedRule]


def recommend(facts: BusinessFacts, *, limit: int = MAX_RECOMMENDATIONS) -> RuleOutcome:
    """At most `limit` recommendations, highest priority first, and the skipped rules."""
    ctx = Context(facts, facts.by_id(), _positive(_number(facts.get("kpi.avg_ticket"))))
    candidates: list[Candidate] = []
    skipped: list[SkippedRule] = []
    for rule in RULES:
        found = rule.build(ctx)
        problems = [check_recommendation(c.rec, facts) for c in found]
        candidates += [c for c, problem in zip(found, problems, strict=True) if not problem]
        failed = [problem for problem in problems if problem]
        if failed:
            skipped.append(SkippedRule(rule.name, f"failed the checks: {failed[0][0]}"))
        elif not found:
            skipped.append(SkippedRule(rule.name, _skip_reason(rule, facts)))
    candidates.sort(key=lambda c: (-c.priority, c.rec.cites[0], c.rec.title))
    return RuleOutcome([c.rec for c in candidates[: max(limit, 0)]], skipped)


def _skip_reason(rule: Rule, facts: BusinessFacts) -> str:
    """The first missing family's reason, or NOTHING_TO_ACT_ON."""
    for topic in rule.topics:
        reason = facts.missing_reason(topic)
        if reason:
            return f"{reason.strip().rstrip('.')}, so no {rule.advice}"
    return NOTHING_TO_ACT_ON


RULES: tuple[Rule, ...] = (
    Rule("Idle windows", ("utilization",), "campaigns for idle hours", fill_idle_windows),
    Rule("Staffing shortfall", ("staffing", "forecast"), "staffing advice", add_capacity),
    Rule("Over-staffing", ("staffing", "forecast"), "staffing advice", trim_overstaffing),
    Rule("No-shows", ("noshow", "kpi"), "reminder advice", extra_reminders),
    Rule("Win-back", ("churn",), "win-back advice", win_back),
    Rule("Services", ("service",), "service advice", review_services),
    Rule("Rebooking", ("kpi",), "rebooking advice", recover_rebooking),
    Rule("Cancellations", ("kpi",), "cancellation advice", curb_cancellations),
)

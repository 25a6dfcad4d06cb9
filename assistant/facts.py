"""The facts recommendations rest on: a compact, typed, PII-free summary of one business.
Pure (pydantic models and helpers; `reports/assistant_facts.py` builds them from data).

Every fact is citable by its `id`. A recommendation names the ids it rests on, and one
that cites an id not in the facts is dropped. Families, with their id shape and the keys
of `detail` that rules and the page rely on (weekdays are "Mon" to "Sun", times "HH:MM"
local to the business, "24:00" for midnight at the end of a window):

- kpi `kpi.{key}`, key from analytics.kpis.KPI_SPECS (bookings, revenue, utilization,
  no_show_rate, cancellation_rate, new_customers, rebooking_rate, avg_ticket, ...).
  value: this period's value (percent kinds as 0..1 fractions, money in major units);
  change: against the previous period of equal length; detail: kind ("count", "money",
  "percent", "days"), better ("up"/"down"), previous.
- utilization `idle.{Mon}.{HH:MM}-{HH:MM}`: a window of open hours that was mostly free
  over the last 8 weeks. value: its utilization 0..1; detail: weekday, start, end,
  free_hours_per_week, weeks.
- forecast `forecast.model`: value: the shown forecast's MAE ratio to seasonal-naive
  (< 1 beats it); detail: model, coverage, horizon_days.
- forecast `peak.{Mon}.{HH:MM}-{HH:MM}` and `quiet.{Mon}.{HH:MM}-{HH:MM}`: the forecast's
  busiest and quietest open windows. value: expected bookings per hour; detail: weekday,
  start, end, kind ("peak"/"quiet").
- staffing `staffing.summary`: value: forecast demand / rota capacity (0..1+); detail:
  open_hours, under_staffed_hours, over_staffed_hours, shortfall_hours, slack_hours, weeks
  (forecasting.staffing.build_staffing_facts).
- staffing `staffing.{under|over}.{Mon}.{HH:MM}-{HH:MM}`: value: staff_delta (+1 add a
  person, -1 one fewer); detail: flag, weekday, start, end, staff_delta, expected_hours,
  weeks.
- churn `churn.model`: value: ROC AUC; detail: verdict, baseline_auc.
- churn `churn.band.{band}` (the Retention page's bands): value: customers in the band;
  detail: band, spend_at_stake (their last 12 months' spend, major units), share.
- noshow `noshow.upcoming`: value: appointments in the next 14 days; detail: high_risk,
  expected_no_shows, revenue_at_risk (major units), method ("model"/"own rates").
- service `service.{id}`: value: bookings this period; change: relative to the previous
  period; detail: name, revenue, previous_bookings, share.
- staff `staff.{id}`: value: utilization 0..1 this period; detail: label ("Staff #3": no
  names), bookings, revenue, previous_utilization.

`label` is a short plain-words line for people ("Revenue, last 28 days"). Free text from
the database (a service's name) is data: it is carried in `detail["name"]` and in
`label`, and the prompt builder passes every fact as delimited JSON, never as
instructions. No customer name, phone, e-mail or note is ever a fact; staff appear as
"Staff #id" only.

`missing` says, per topic, why a family could not be built ("no forecast has been run
yet", "fewer than 8 weeks of history"), so the rules skip what they cannot support and
the page says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Topic = Literal["kpi", "utilization", "forecast", "staffing", "churn", "noshow", "service", "staff"]
TOPICS: tuple[Topic, ...] = (
    "kpi", "utilization", "forecast", "staffing", "churn", "noshow", "service", "staff",
)  # fmt: skip
DetailValue = str | float | int | bool | None


class Fact(BaseModel):
    """One citable fact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=80)
    topic: Topic
    label: str = Field(max_length=200)
    value: float | int | str | None
    unit: str = ""  # "count", "money", "percent" (a 0..1 fraction), "hours", "ratio", ...
    change: float | None = None  # against the previous period (relative for counts/money)
    detail: dict[str, DetailValue] = Field(default_factory=dict)


class Missing(BaseModel):
    """A family of facts that could not be built, and why (shown to the owner)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: Topic
    reason: str = Field(max_length=300)


class BusinessFacts(BaseModel):
    """The facts of one business as of one local day, over one period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: date
    period_start: date  # inclusive, local
    period_end: date  # exclusive, local
    currency: str
    timezone: str
    facts: tuple[Fact, ...] = ()
    missing: tuple[Missing, ...] = ()

    def by_id(self) -> dict[str, Fact]:
        return {fact.id: fact for fact in self.facts}

    def of_topic(self, topic: Topic) -> list[Fact]:
        return [fact for fact in self.facts if fact.topic == topic]

    def get(self, fact_id: str) -> Fact | None:
        return self.by_id().get(fact_id)

    def missing_reason(self, topic: Topic) -> str | None:
        return next((m.reason for m in self.missing if m.topic == topic), None)

    def facts_hash(self) -> str:
        """SHA-256 of the canonical JSON: the same facts, the same hash (the cache key)."""
        return hashlib.sha256(canonical_json(self).encode("utf-8")).hexdigest()


def canonical_json(facts: BusinessFacts) -> str:
    """Sorted keys, no spaces: stable across runs and processes."""
    return json.dumps(facts.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

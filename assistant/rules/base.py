"""The types every rule works with: the context it reads, the candidates it returns, and the
rule itself (its name, the fact families it rests on, and its function). Pure.

Hours are valued at the average ticket (HOURS_AS_VISITS), or at 1 when it is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.facts import BusinessFacts, Fact, Topic
from assistant.schema import Recommendation

HOURS_AS_VISITS = 1.0  # visits per booked hour: an hour is valued at one average ticket


@dataclass(frozen=True)
class Candidate:
    """A recommendation and its priority: money at stake in the facts' currency."""

    priority: float
    rec: Recommendation


@dataclass(frozen=True)
class Context:
    """The facts, and what several rules need from them."""

    facts: BusinessFacts
    by_id: dict[str, Fact]
    ticket: float | None  # kpi.avg_ticket, when known and positive

    def money(self, amount: float) -> str:
        """Whole units of the facts' currency: "EUR 1,240"."""
        return f"{self.facts.currency.upper()} {round(amount):,}"

    def hour_value(self) -> float:
        """Money per booked hour for priorities (1 per hour when the ticket is unknown)."""
        return self.ticket * HOURS_AS_VISITS if self.ticket else 1.0

    def per_period(self, weekly: float) -> float:
        """A weekly figure over the facts' period (at least one week)."""
        days = (self.facts.period_end - self.facts.period_start).days
        return weekly * max(1.0, days / 7)

    def ticket_fact(self) -> Fact | None:
        """kpi.avg_ticket when its value prices hours or visits (then it is cited)."""
        return self.by_id.get("kpi.avg_ticket") if self.ticket else None

    def at_ticket(self, visits: float) -> str:
        """What `visits` are worth, as a clause (empty when the ticket is unknown):
        ", roughly EUR 240 at the average ticket of EUR 60"."""
        if not self.ticket:
            return ""
        worth, ticket = self.money(visits * self.ticket), self.money(self.ticket)
        return f", roughly {worth} at the average ticket of {ticket}"


@dataclass(frozen=True)
class Rule:
    """One rule: its name for people, the families it needs, and its function."""

    name: str
    topics: tuple[Topic, ...]  # families it rests on: a missing one explains a skip
    advice: str  # what the owner does not get when it is skipped
    build: Callable[[Context], list[Candidate]]

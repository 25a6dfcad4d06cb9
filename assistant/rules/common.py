"""What the rules share: weekday names, reading facts safely (numbers, changes, windows,
families), formatting (hours, points, names) and building candidates. Pure.

The underscore helpers are internal to the `assistant.rules` package: the rule modules
import them from here, nothing outside the package should.
"""

from __future__ import annotations

import math
import re

from assistant.facts import Fact
from assistant.rules.base import Candidate, Context
from assistant.schema import WEEKDAYS, ActionLink, Category, Confidence, LinkKind, Recommendation

DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))  # fmt: skip
Window = tuple[str, str, str]  # weekday ("Mon".."Sun"), start, end ("HH:MM", local)
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_NAME = 40  # a service's name is cut to this in titles and texts (titles stay <= 120)
MAX_PER_RULE = 2  # windows, shifts or services per rule: keeps the short list varied


# --- reading facts safely (a rule never crashes on a thin or odd fact) ---


def _number(fact: Fact | None, key: str | None = None) -> float | None:
    """The fact's value (or detail[key]) as a finite float, else None."""
    if fact is None:
        return None
    raw = fact.value if key is None else fact.detail.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    return float(raw)


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def _change(fact: Fact | None) -> float | None:
    change = fact.change if fact is not None else None
    return change if change is not None and math.isfinite(change) else None


def _window(fact: Fact) -> Window | None:
    """(weekday, start, end) when the detail holds a valid window."""
    day, start, end = (fact.detail.get(key) for key in ("weekday", "start", "end"))
    if day not in WEEKDAYS or not isinstance(start, str) or not isinstance(end, str):
        return None
    if not _TIME.match(start) or not _TIME.match(end) or start >= end:
        return None
    return str(day), start, end


def _family(ctx: Context, prefix: str) -> list[Fact]:
    """The facts whose id starts with `prefix`, by id (the input order never matters)."""
    return sorted((f for f in ctx.facts.facts if f.id.startswith(prefix)), key=lambda f: f.id)


def _when(window: Window) -> str:
    return f"{DAY_NAMES[window[0]]} {window[1]}–{window[2]}"


def _n(value: float) -> str:
    """1 decimal at most: "6.5", "4"."""
    return f"{value:.1f}".removesuffix(".0")


def _pts(change: float) -> str:
    return f"{abs(change) * 100:.0f} pts"


def _name(fact: Fact) -> str:
    """A service's name on one line, cut to MAX_NAME (it is data, never instructions)."""
    name = fact.detail.get("name")
    text = " ".join(str(name).split()) if name else fact.id
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"


def _cites(*facts: Fact | None) -> list[str]:
    """The ids of the facts used, in order, once each."""
    return list(dict.fromkeys(f.id for f in facts if f is not None))


def _link(kind: LinkKind, window: Window | None = None, *,
          band: str | None = None, service_id: int | None = None) -> ActionLink:  # fmt: skip
    day, start, end = window or (None, None, None)
    return ActionLink(kind=kind, band=band, weekday=day, start=start, end=end,
                      service_id=service_id)  # fmt: skip


def _candidate(priority: float, category: Category, confidence: Confidence, *, title: str,
               rationale: str, action: str, impact: str, cites: list[str],
               link: ActionLink | None) -> Candidate:  # fmt: skip
    rec = Recommendation(
        title=title, category=category, rationale=rationale, cites=cites,
        action=action, expected_impact=impact, confidence=confidence, action_link=link,
    )  # fmt: skip
    return Candidate(priority if math.isfinite(priority) and priority > 0 else 0.0, rec)


def _back_at(ctx: Context, previous: float, count: float | None, what: str) -> str:
    """The impact of getting a rate back to its previous value."""
    if count is None:
        return f"Back at the previous {previous:.0%}, this period's loss would be recovered."
    return f"Back at the previous {previous:.0%}, about {_n(count)} {what}{ctx.at_ticket(count)}."

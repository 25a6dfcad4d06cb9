"""The services rule: a review of the services whose bookings fell the most. Pure."""

from __future__ import annotations

from assistant.facts import Fact
from assistant.rules.base import Candidate, Context
from assistant.rules.common import (
    MAX_PER_RULE,
    _candidate,
    _change,
    _cites,
    _family,
    _link,
    _n,
    _name,
    _number,
)

# Services: a fall of a fifth or more, on enough bookings that it is not noise.
SERVICE_MAX_CHANGE = -0.20
SERVICE_MIN_BOOKINGS = 10  # bookings in the previous period
SERVICE_SURE_BOOKINGS = 30  # from this many, the fall is clear: high confidence
SERVICE_RECOVER_SHARE = 0.5


# --- services with falling demand ---


def review_services(ctx: Context) -> list[Candidate]:
    """A review of the services whose bookings fell the most, on enough volume."""
    found = []
    for fact in _family(ctx, "service."):
        now, change, before = _number(fact), _change(fact), _number(fact, "previous_bookings")
        if now is not None and change is not None and before is not None:
            if change <= SERVICE_MAX_CHANGE and before >= SERVICE_MIN_BOOKINGS:
                found.append((now - before, fact.id, fact))
    return [_service(ctx, fact) for *_, fact in sorted(found)[:MAX_PER_RULE]]


def _service(ctx: Context, fact: Fact) -> Candidate:
    """The review of one service whose bookings fell."""
    name, revenue, change = _name(fact), _number(fact, "revenue"), _change(fact) or 0.0
    now, before = _number(fact) or 0.0, _number(fact, "previous_bookings") or 0.0
    price = revenue / now if revenue and now > 0 else None
    recover, suffix = max(before - now, 0) * SERVICE_RECOVER_SHARE, fact.id.removeprefix("service.")
    return _candidate(
        recover * (price or 1.0),
        "services",
        "high" if before >= SERVICE_SURE_BOOKINGS else "medium",
        title=f"Review {name}: bookings down {abs(change):.0%} ({before:.0f} → {now:.0f})",
        rationale=(
            f"{name} had {now:.0f} bookings this period against {before:.0f} in the previous one "
            f"({change:+.0%})"
            + (f", bringing {ctx.money(revenue)} in revenue." if revenue else ".")
        ),
        action=(
            f"This week, compare {name}'s price, availability and description with your other "
            "services, then decide whether to promote, reprice or retire it."
        ),
        impact=(
            f"Winning back {SERVICE_RECOVER_SHARE:.0%} of the lost bookings would mean about "
            f"{_n(recover)} bookings a period"
            + (f", roughly {ctx.money(recover * price)} at its average price." if price else ".")
        ),
        cites=_cites(fact),
        link=_link("service_review", service_id=int(suffix) if suffix.isdigit() else None),
    )

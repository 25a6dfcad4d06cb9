"""The no-show rule: a second reminder when many no-shows are expected in the next 14 days,
many bookings are high-risk, or the no-show rate is rising. Pure."""

from __future__ import annotations

from assistant.facts import Fact
from assistant.rules.base import Candidate, Context
from assistant.rules.common import (
    _back_at,
    _candidate,
    _change,
    _cites,
    _link,
    _n,
    _number,
    _positive,
    _pts,
)

# No-shows: two expected no-shows in 14 days, three high-risk bookings, or a no-show
# rate up two points are each worth a second reminder; reminders are assumed to save a
# third of the expected no-shows (published effects range from a fifth to a half).
NOSHOW_MIN_EXPECTED = 2.0
NOSHOW_MIN_HIGH_RISK = 3
NOSHOW_RATE_RISE = 0.02  # percentage points, as a fraction
REMINDER_SAVE_SHARE = 1 / 3


# --- no-shows: extra reminders ---


def extra_reminders(ctx: Context) -> list[Candidate]:
    """A second reminder when many no-shows are expected or the no-show rate is rising."""
    upcoming, rate = _risky_upcoming(ctx), _rising_no_shows(ctx)
    if upcoming is None and rate is None:
        return []
    value, rise = _number(rate) or 0.0, _change(rate) or 0.0
    expected, high_risk = _number(upcoming, "expected_no_shows"), _number(upcoming, "high_risk")
    if expected is not None and expected >= NOSHOW_MIN_EXPECTED:
        title = f"Send extra reminders: about {_n(expected)} no-shows expected in 14 days"
    elif upcoming and high_risk is not None:
        title = f"Send extra reminders: {high_risk:.0f} high-risk bookings in the next 14 days"
    else:
        title = f"Send extra reminders: the no-show rate rose to {value:.0%} (+{_pts(rise)})"
    rationale = _upcoming_text(ctx, upcoming) if upcoming else ""
    if rate:
        rationale += (
            f" The no-show rate was {value:.0%} this period, up {_pts(rise)} on the previous one."
        )
    priority, impact, used = _reminder_impact(ctx, upcoming, rate)
    return [
        _candidate(
            priority,
            "no_shows",
            "high" if upcoming and rate else "medium",
            title=title,
            rationale=rationale.strip(),
            action=(
                "This week, add a second reminder (for example 2 hours before) to the automatic "
                "reminder rules, and ask the high-risk bookings to confirm."
            ),
            impact=impact,
            cites=_cites(upcoming, rate, *used),
            link=_link("reminder_rules"),
        )
    ]


def _risky_upcoming(ctx: Context) -> Fact | None:
    """noshow.upcoming when enough no-shows are expected or enough bookings are high-risk."""
    upcoming = ctx.by_id.get("noshow.upcoming")
    expected = _number(upcoming, "expected_no_shows") or 0.0
    high_risk = _number(upcoming, "high_risk") or 0.0
    if expected < NOSHOW_MIN_EXPECTED and high_risk < NOSHOW_MIN_HIGH_RISK:
        return None
    return upcoming


def _rising_no_shows(ctx: Context) -> Fact | None:
    """kpi.no_show_rate when it rose by NOSHOW_RATE_RISE or more."""
    rate = ctx.by_id.get("kpi.no_show_rate")
    rise = _change(rate)
    if _number(rate) is None or rise is None or rise < NOSHOW_RATE_RISE:
        return None
    return rate


def _upcoming_text(ctx: Context, upcoming: Fact) -> str:
    """The rationale's sentence on the next 14 days' no-show risk."""
    count, high_risk = _number(upcoming), _number(upcoming, "high_risk")
    expected, revenue = _number(upcoming, "expected_no_shows"), _number(upcoming, "revenue_at_risk")
    how = {"model": "by the no-show model", "own rates": "from customers' own no-show rates"}
    method = str(upcoming.detail.get("method"))
    text = f"Of {count:.0f} appointments in the next 14 days" if count is not None else "Soon"
    text += f", {high_risk:.0f} look high-risk" if high_risk is not None else ""
    if expected is not None:
        text += f"; about {_n(expected)} no-shows are expected" + (
            f" ({how[method]})" if method in how else ""
        )
    text += f", with {ctx.money(revenue)} of revenue at risk" if revenue else ""
    return text + "."


def _reminder_impact(
    ctx: Context, upcoming: Fact | None, rate: Fact | None
) -> tuple[float, str, list[Fact | None]]:
    """(priority, impact text, further facts used) of extra reminders."""
    expected, revenue = _number(upcoming, "expected_no_shows"), _number(upcoming, "revenue_at_risk")
    if expected is not None:
        saved = expected * REMINDER_SAVE_SHARE
        kept = revenue * REMINDER_SAVE_SHARE if revenue else saved * ctx.hour_value()
        worth = f" and {ctx.money(kept)}" if revenue else ctx.at_ticket(saved)
        text = (
            f"If reminders prevent {REMINDER_SAVE_SHARE:.0%} of the expected no-shows: about "
            f"{_n(saved)} visits{worth} kept over the next 14 days. A rough estimate."
        )
        return ctx.per_period(kept / 2), text, [None if revenue else ctx.ticket_fact()]
    completed = ctx.by_id.get("kpi.completed")
    visits, rise, value = _positive(_number(completed)), _change(rate), _number(rate)
    if rate is None or visits is None or rise is None or value is None:
        high_risk = _number(upcoming, "high_risk") or 0.0
        text = "Confirmed bookings turn up more often, and slots released early can be rebooked."
        return high_risk * REMINDER_SAVE_SHARE * ctx.hour_value(), text, [ctx.ticket_fact()]
    kept = visits * rise
    text = _back_at(ctx, value - rise, kept, "fewer visits a period would be lost to no-shows")
    return kept * ctx.hour_value(), text, [completed, ctx.ticket_fact()]

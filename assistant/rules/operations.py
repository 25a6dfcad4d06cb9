"""Operations rules: ask for the next visit when rebooking fell, and look into
cancellations when they rose. Pure."""

from __future__ import annotations

from assistant.facts import Fact
from assistant.rules.base import Candidate, Context
from assistant.rules.common import _back_at, _candidate, _change, _cites, _number, _positive, _pts

# Operations: rebooking down five points, cancellations up three points.
REBOOKING_DROP = 0.05
CANCELLATION_RISE = 0.03


# --- operations: rebooking falling, cancellations rising ---


def recover_rebooking(ctx: Context) -> list[Candidate]:
    """Ask for the next visit at checkout when the rebooking rate fell."""
    rate, value, change = _kpi_shift(ctx, "rebooking_rate")
    if rate is None or change > -REBOOKING_DROP:
        return []
    base, lost = _affected(ctx, "completed", change)
    return [
        _candidate(
            (lost or 0.0) * ctx.hour_value(),
            "operations",
            "medium",
            title=f"Rebooking fell to {value:.0%} (−{_pts(change)}): ask for the next visit",
            rationale=(
                f"{value:.0%} of this period's completed visits were followed by a new booking, "
                f"down {_pts(change)} on the previous period"
                + (f" ({_number(base):.0f} completed visits)." if base else ".")
            ),
            action=(
                "This week, offer every client their next appointment before they leave, and "
                "message those who leave without one a few days later."
            ),
            impact=_back_at(
                ctx, value - change, lost, "more visits a period would be booked again"
            ),
            cites=_cites(rate, base, ctx.ticket_fact() if lost else None),
            link=None,
        )
    ]


def curb_cancellations(ctx: Context) -> list[Candidate]:
    """Look into cancellations when their rate rose."""
    rate, value, change = _kpi_shift(ctx, "cancellation_rate")
    if rate is None or change < CANCELLATION_RISE:
        return []
    base, lost = _affected(ctx, "bookings", change)
    return [
        _candidate(
            (lost or 0.0) * ctx.hour_value(),
            "operations",
            "medium",
            title=f"Cancellations rose to {value:.0%} (+{_pts(change)}): find out why",
            rationale=(
                f"{value:.0%} of this period's bookings were cancelled, up {_pts(change)} on the "
                "previous period" + (f" ({_number(base):.0f} bookings)." if base else ".")
            ),
            action=(
                "This week, read the recent cancellations, ask for a reason when someone cancels, "
                "and consider a 24-hour cancellation policy or a deposit."
            ),
            impact=_back_at(ctx, value - change, lost, "more bookings a period would be kept"),
            cites=_cites(rate, base, ctx.ticket_fact() if lost else None),
            link=None,
        )
    ]


def _kpi_shift(ctx: Context, key: str) -> tuple[Fact | None, float, float]:
    """(kpi.{key}, its value, its change in points), or (None, 0, 0) when not both known."""
    rate = ctx.by_id.get(f"kpi.{key}")
    value, change = _number(rate), _change(rate)
    return (rate, value, change) if value is not None and change is not None else (None, 0.0, 0.0)


def _affected(ctx: Context, key: str, change: float) -> tuple[Fact | None, float | None]:
    """(kpi.{key}, the count a change of `change` points moved), when that count is known."""
    base = ctx.by_id.get(f"kpi.{key}")
    count = _positive(_number(base))
    return (base, abs(change) * count) if count else (None, None)

"""Capacity rules: a targeted campaign for idle windows, and staffing advice where the
forecast's demand and the rota disagree (add where short, trim where clearly over). Pure."""

from __future__ import annotations

from assistant.facts import Fact
from assistant.rules.base import HOURS_AS_VISITS, Candidate, Context
from assistant.rules.common import (
    DAY_NAMES,
    MAX_PER_RULE,
    Window,
    _candidate,
    _cites,
    _family,
    _link,
    _n,
    _number,
    _positive,
    _when,
    _window,
)
from assistant.schema import Confidence

# Idle windows: at most half the open hours booked, and enough free time to be worth a
# campaign (a message to fill one free hour a week costs more attention than it earns).
IDLE_MAX_UTILIZATION = 0.5
IDLE_MIN_FREE_HOURS = 2.0  # free staff hours per week
IDLE_MIN_WEEKS = 4  # fewer weeks of history than this: low confidence
FILL_SHARE = 0.25  # share of the free time a targeted campaign fills: a modest guess
# Staffing: a shortfall of an hour a week already loses bookings; trimming is only
# advised when clearly over-staffed (several idle staff hours a week), since cutting a
# shift on noise costs more than an idle hour. Trimming saves wages, not revenue, and
# wages are not in the facts: its hours count at OVER_STAFFED_WEIGHT of a visit.
UNDER_MIN_HOURS_PER_WEEK = 1.0
OVER_MIN_HOURS_PER_WEEK = 4.0
OVER_STAFFED_WEIGHT = 0.5
GOOD_FORECAST_RATIO = 0.9  # MAE ratio to seasonal-naive: clearly better than "last week"


# --- idle windows: a targeted campaign ---


def fill_idle_windows(ctx: Context) -> list[Candidate]:
    """A targeted campaign for the idle windows with the most free hours a week."""
    found = []
    for fact in _family(ctx, "idle."):
        window, used = _window(fact), _number(fact)
        free = _number(fact, "free_hours_per_week")
        if window and used is not None and free is not None:
            if used <= IDLE_MAX_UTILIZATION and free >= IDLE_MIN_FREE_HOURS:
                found.append((-free, fact.id, fact, window))
    return [_idle(ctx, fact, window) for *_, fact, window in sorted(found)[:MAX_PER_RULE]]


def _idle(ctx: Context, fact: Fact, window: Window) -> Candidate:
    """The campaign for one idle window."""
    used, free = _number(fact) or 0.0, _number(fact, "free_hours_per_week") or 0.0
    weeks, quiet, gained = _positive(_number(fact, "weeks")), _quiet(ctx, window), free * FILL_SHARE
    rationale = (
        f"{f'Over the last {weeks:.0f} weeks' if weeks else 'Lately'}, {_when(window)} was "
        f"{used:.0%} booked, leaving about {_n(free)} free staff hours a week."
    )
    if quiet:
        rationale += (
            f" The forecast expects it to stay quiet ({_n(_number(quiet) or 0)} bookings an hour)."
        )
    confidence: Confidence = "high" if quiet else "medium"
    return _candidate(
        ctx.per_period(gained * ctx.hour_value()),
        "marketing",
        "low" if weeks is not None and weeks < IDLE_MIN_WEEKS else confidence,
        title=f"Fill {_when(window)}: {1 - used:.0%} of the hours were free",
        rationale=rationale,
        action=(
            f"This week, send customers who usually book on {DAY_NAMES[window[0]]}s a targeted "
            f"offer for {_when(window)}, such as a short-notice slot or an off-peak price."
        ),
        impact=(
            f"If the campaign fills {FILL_SHARE:.0%} of the free time: about {_n(gained)} more "
            f"booked hours a week{ctx.at_ticket(gained * HOURS_AS_VISITS)}. A rough estimate."
        ),
        cites=_cites(fact, quiet, ctx.ticket_fact()),
        link=_link("targeted_campaign", window),
    )


def _quiet(ctx: Context, window: Window) -> Fact | None:
    """The forecast's first quiet window that overlaps `window` on the same weekday."""
    for fact in _family(ctx, "quiet."):
        other = _window(fact)
        if other and other[0] == window[0] and other[1] < window[2] and window[1] < other[2]:
            return fact
    return None


# --- staffing: add where short, trim where clearly over ---


def add_capacity(ctx: Context) -> list[Candidate]:
    """More staff where the forecast's demand exceeds the rota."""
    shifts = _shifts(ctx, "staffing.under.", UNDER_MIN_HOURS_PER_WEEK, sign=1)
    return [_add_shift(ctx, fact, window) for fact, window in shifts]


def trim_overstaffing(ctx: Context) -> list[Candidate]:
    """One person fewer where the rota clearly exceeds the forecast's demand."""
    shifts = _shifts(ctx, "staffing.over.", OVER_MIN_HOURS_PER_WEEK, sign=-1)
    return [_trim_shift(ctx, fact, window) for fact, window in shifts]


def _shifts(ctx: Context, prefix: str, min_hours: float, *, sign: int) -> list[tuple[Fact, Window]]:
    """The flagged shifts of at least `min_hours` a week, most hours first."""
    found = []
    for fact in _family(ctx, prefix):
        window, delta = _window(fact), _number(fact, "staff_delta")
        per_week = _per_week(fact)
        if window and delta is not None and delta * sign >= 1 and per_week >= min_hours:
            found.append((-per_week, fact.id, fact, window))
    return [(fact, window) for *_, fact, window in sorted(found)[:MAX_PER_RULE]]


def _per_week(fact: Fact) -> float:
    """A shift's expected hours (summed over its weeks) per week."""
    return (_number(fact, "expected_hours") or 0.0) / (_positive(_number(fact, "weeks")) or 1.0)


def _shift_words(fact: Fact) -> tuple[float, str, str, str]:
    """(hours per week, total hours, "1 person", weeks) of a staffing fact, for the texts."""
    people = round(abs(_number(fact, "staff_delta") or 1))
    return (
        _per_week(fact),
        _n(_number(fact, "expected_hours") or 0),
        f"{people} {'person' if people == 1 else 'people'}",
        _n(_number(fact, "weeks") or 1),
    )


def _add_shift(ctx: Context, fact: Fact, window: Window) -> Candidate:
    """More staff on one under-staffed shift."""
    model, note, confidence = _forecast_note(ctx)
    per_week, hours, people, weeks = _shift_words(fact)
    return _candidate(
        ctx.per_period(per_week * ctx.hour_value()),
        "capacity",
        confidence,
        title=(
            f"Add {people} on {_when(window)}: about {_n(per_week)} hours a week of demand "
            "go unserved"
        ),
        rationale=(
            f"The forecast expects more bookings on {_when(window)} than the rota can serve: "
            f"about {hours} hours short over the next {weeks} weeks.{note}"
        ),
        action=(
            f"This week, add {people} to the rota for {_when(window)}, or move a shift there "
            "from a quieter hour."
        ),
        impact=(
            f"About {_n(per_week)} more bookable hours a week"
            f"{ctx.at_ticket(per_week * HOURS_AS_VISITS)}, if the forecast demand comes."
        ),
        cites=_cites(fact, model, ctx.ticket_fact()),
        link=_link("staffing_view", window),
    )


def _trim_shift(ctx: Context, fact: Fact, window: Window) -> Candidate:
    """Fewer staff on one clearly over-staffed shift."""
    model, note, confidence = _forecast_note(ctx)
    per_week, hours, people, weeks = _shift_words(fact)
    return _candidate(
        ctx.per_period(per_week * ctx.hour_value()) * OVER_STAFFED_WEIGHT,
        "capacity",
        "low" if confidence == "low" else "medium",
        title=(
            f"Trim {_when(window)}: {people} fewer would still cover demand "
            f"({_n(per_week)} idle staff hours a week)"
        ),
        rationale=(
            f"The forecast expects {_when(window)} to leave about {hours} staff hours idle over "
            f"the next {weeks} weeks.{note}"
        ),
        action=(
            f"Before the next rota, move {people} from {_when(window)} to a busier hour, or "
            "offer that time off."
        ),
        impact=(
            f"Frees about {_n(per_week)} staff hours a week for busier hours, with no bookings "
            "lost if the forecast holds."
        ),
        cites=_cites(fact, model, ctx.ticket_fact()),
        link=_link("staffing_view", window),
    )


def _forecast_note(ctx: Context) -> tuple[Fact | None, str, Confidence]:
    """The forecast model fact, a sentence on its quality, and the confidence it allows."""
    model = ctx.by_id.get("forecast.model")
    ratio = _number(model)
    if model is None or ratio is None:
        return None, "", "medium"
    if ratio < 1:
        note = f' The forecast beats "same as last week" (error ratio {ratio:.2f}).'
        return model, note, "high" if ratio <= GOOD_FORECAST_RATIO else "medium"
    note = (
        f' The forecast does not beat "same as last week" (error ratio {ratio:.2f}): a rough guide.'
    )
    return model, note, "low"

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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.facts import BusinessFacts, Fact, Topic
from assistant.schema import (
    MAX_RECOMMENDATIONS,
    WEEKDAYS,
    ActionLink,
    Category,
    Confidence,
    LinkKind,
    Recommendation,
    check_recommendation,
)

NOTHING_TO_ACT_ON = "nothing to act on"
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))  # fmt: skip
Window = tuple[str, str, str]  # weekday ("Mon".."Sun"), start, end ("HH:MM", local)
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_NAME = 40  # a service's name is cut to this in titles and texts (titles stay <= 120)
HOURS_AS_VISITS = 1.0  # visits per booked hour: an hour is valued at one average ticket

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
# No-shows: two expected no-shows in 14 days, three high-risk bookings, or a no-show
# rate up two points are each worth a second reminder; reminders are assumed to save a
# third of the expected no-shows (published effects range from a fifth to a half).
NOSHOW_MIN_EXPECTED = 2.0
NOSHOW_MIN_HIGH_RISK = 3
NOSHOW_RATE_RISE = 0.02  # percentage points, as a fraction
REMINDER_SAVE_SHARE = 1 / 3
# Win-back: a band of five customers or more is worth a campaign; one in ten coming
# back is a common win-back response rate. A customer won back keeps a year's spend.
WIN_BACK_MIN_CUSTOMERS = 5
WIN_BACK_SHARE = 0.10
# Services: a fall of a fifth or more, on enough bookings that it is not noise.
SERVICE_MAX_CHANGE = -0.20
SERVICE_MIN_BOOKINGS = 10  # bookings in the previous period
SERVICE_SURE_BOOKINGS = 30  # from this many, the fall is clear: high confidence
SERVICE_RECOVER_SHARE = 0.5
MAX_PER_RULE = 2  # windows, shifts or services per rule: keeps the short list varied
# Operations: rebooking down five points, cancellations up three points.
REBOOKING_DROP = 0.05
CANCELLATION_RISE = 0.03


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


def _back_at(ctx: Context, previous: float, count: float | None, what: str) -> str:
    """The impact of getting a rate back to its previous value."""
    if count is None:
        return f"Back at the previous {previous:.0%}, this period's loss would be recovered."
    return f"Back at the previous {previous:.0%}, about {_n(count)} {what}{ctx.at_ticket(count)}."


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

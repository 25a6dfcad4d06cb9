"""Smart slot suggestions: rank free slots for one customer. Pure: no I/O.

A customer's habits come from their past completed visits (`build_customer_habits`):
the local weekdays and start times they book and the staff they see. The business's
idle capacity is a map (local weekday 0 = Monday, local hour) -> free share 0..1 over
the last weeks (`build_idle_map`). `rank_slots` scores every free slot and returns the
best few, spread over days, each with its reasons in plain words.

Score of a slot (all parts 0..1 before weighting; local weekday and time of its start):

    confidence * (WEEKDAY_WEIGHT * weekday fit + TIME_WEIGHT * time fit
                  + STAFF_WEIGHT * staff fit)  +  IDLE_WEIGHT * idle share

- weekday fit: the weekday's share of visits over the top weekday's share (1 on the
  customer's most frequent day);
- time fit: how many past visits started near this time of day, as a triangular
  kernel (a visit counts 1 at the same minute, falling to 0 at TIME_WINDOW away), over
  the densest time's value: 1 at their usual time. A customer who comes at 09:00 and at
  18:00 scores both, and not the 13:30 between them a median would pick;
- staff fit: the share of visits with the slot's staff member;
- idle share: how free the business usually is in the local hours the slot covers,
  weighted by the minutes in each (0 for hours not in the map);
- confidence = visits / (visits + PRIOR_VISITS): one visit is a hint, ten a habit.
  A new customer has confidence 0, so slots rank by idle capacity, then earliest.

Ties go to the earlier start, then the lower staff id. The chosen slots are spread: at
most MAX_PER_DAY per local day, at least MIN_GAP apart on one day (so the same time
with another staff member is not a second suggestion). Only when that leaves fewer than
`limit` are the best remaining slots added, after the spread ones. Reasons carry no
names: the UI may name the staff member.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.availability import Slot
from scheduling.catalog import WEEKDAYS

WEEKDAY_WEIGHT = 3.0
TIME_WEIGHT = 3.0
STAFF_WEIGHT = 2.0
IDLE_WEIGHT = 2.0
PRIOR_VISITS = 2  # visits that count for nothing: confidence = n / (n + PRIOR_VISITS)
TIME_WINDOW = 120  # minutes from a visit's start at which its weight falls to 0
USUAL_SHARE = 0.5  # weekday or time fit, or staff share, from which it is "usual"
MIN_VISITS_FOR_REASON = 2  # one visit is no habit to name
QUIET_SHARE = 0.5  # idle share from which an hour is "quiet"
MAX_PER_DAY = 2
MIN_GAP = timedelta(hours=2)
COUNTED_STATUS = "completed"


class ReasonCode(StrEnum):
    USUAL_DAY = "usual_day"
    USUAL_TIME = "usual_time"
    USUAL_STAFF = "usual_staff"
    QUIET_HOUR = "quiet_hour"


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    text: str  # e.g. "Their usual day (Tuesday)"


@dataclass(frozen=True)
class CustomerHabits:
    """What a customer usually books, from `visits` completed visits (local time)."""

    visits: int = 0
    weekday_shares: tuple[float, ...] = (0.0,) * 7  # index 0 = Monday; sums to 1
    start_minutes: tuple[int, ...] = ()  # local starts, minutes after midnight, sorted
    staff_shares: tuple[tuple[int, float], ...] = ()  # (staff_id, share), most seen first

    @property
    def confidence(self) -> float:
        return self.visits / (self.visits + PRIOR_VISITS)

    def weekday_fit(self, weekday: int) -> float:
        return self._weekday_fits[weekday]

    @cached_property
    def _weekday_fits(self) -> tuple[float, ...]:
        return tuple(_relative(self.weekday_shares, day) for day in range(7))

    def staff_share(self, staff_id: int) -> float:
        return self._staff_map.get(staff_id, 0.0)

    @cached_property
    def _staff_map(self) -> dict[int, float]:
        return dict(self.staff_shares)

    def density(self, minute: int) -> float:
        """Visits started near `minute` (triangular kernel of TIME_WINDOW), per visit."""
        if not self.start_minutes:
            return 0.0
        near = (max(0.0, 1.0 - abs(minute - m) / TIME_WINDOW) for m in self.start_minutes)
        return sum(near) / len(self.start_minutes)

    @cached_property
    def _at_starts(self) -> dict[int, float]:
        """The density at each distinct visit start."""
        return {m: self.density(m) for m in sorted(set(self.start_minutes))}

    @cached_property
    def _peak(self) -> float:
        # A sum of triangles peaks at one of their centres: the visit starts.
        return max(self._at_starts.values(), default=0.0)

    def time_fit(self, minute: int) -> float:
        """The density at `minute` over the densest time's: 1 at their usual time."""
        return self.density(minute) / self._peak if self._peak > 0 else 0.0

    def usual_minute_near(self, minute: int) -> int | None:
        """The densest visit start within TIME_WINDOW of `minute` (earliest on a tie)."""
        near = [m for m in self._at_starts if abs(m - minute) <= TIME_WINDOW]
        return max(near, key=lambda m: (self._at_starts[m], -m)) if near else None

    @property
    def usual_minute(self) -> int | None:
        """Their usual local start (the densest one), minutes after midnight."""
        if not self.start_minutes:
            return None
        return max(self._at_starts, key=lambda m: (self._at_starts[m], -m))


@dataclass(frozen=True)
class RankedSlot:
    slot: Slot
    score: float
    reasons: tuple[Reason, ...]


def _relative(shares: Sequence[float], index: int) -> float:
    top = max(shares, default=0.0)
    return shares[index] / top if top > 0 else 0.0


def _shares(counts: Counter[int], size: int) -> tuple[float, ...]:
    total = sum(counts.values())
    return tuple(counts[i] / total if total else 0.0 for i in range(size))


def _records(visits: Any) -> list[Mapping[str, Any]]:
    """A DataFrame (anything with `to_dict("records")`) or an iterable of mappings."""
    return list(visits.to_dict("records") if hasattr(visits, "to_dict") else visits)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"starts_at must be a tz-aware instant, got {value!r}")
    return value.astimezone(UTC)


def build_customer_habits(visits: Iterable[Mapping[str, Any]] | Any, *, tz: str) -> CustomerHabits:
    """Habits from past visits (starts_at tz-aware, staff_id, status); only completed
    visits count. Weekday and time of day are local to `tz`, so a 10:00 visit is 10:00
    in summer and winter alike."""
    zone = ZoneInfo(tz)
    done = [v for v in _records(visits) if v.get("status", COUNTED_STATUS) == COUNTED_STATUS]
    if not done:
        return CustomerHabits()
    local = [_utc(v["starts_at"]).astimezone(zone) for v in done]
    staff = Counter(int(v["staff_id"]) for v in done if v.get("staff_id") is not None)
    staff_total = sum(staff.values())
    by_staff = sorted(staff.items(), key=lambda item: (-item[1], item[0]))
    return CustomerHabits(
        visits=len(done),
        weekday_shares=_shares(Counter(t.weekday() for t in local), 7),
        start_minutes=tuple(sorted(t.hour * 60 + t.minute for t in local)),
        staff_shares=tuple((sid, count / staff_total) for sid, count in by_staff),
    )


def build_idle_map(
    cells: Iterable[tuple[int, int, float, float]],
) -> dict[tuple[int, int], float]:
    """(weekday, hour, booked minutes, available minutes) -> {(weekday, hour): free share}.
    Hours without capacity are left out; overbooked hours are 0."""
    return {
        (int(weekday), int(hour)): min(1.0, max(0.0, 1.0 - booked / available))
        for weekday, hour, booked, available in cells
        if available > 0
    }


# --- ranking -------------------------------------------------------------------------


class _Scorer:
    """Scores slots for one customer. The habit part depends only on a slot's local
    weekday, wall-clock start and staff member, the idle part on its local weekday,
    start and length (unless a DST switch falls inside it): each is computed once per
    combination, as a 14-day search repeats them every week and for every staff member."""

    def __init__(
        self, habits: CustomerHabits, idle: Mapping[tuple[int, int], float], zone: ZoneInfo
    ) -> None:
        self.habits, self.idle, self.zone = habits, idle, zone
        self.time_fit = lru_cache(maxsize=None)(habits.time_fit)
        self.habit = lru_cache(maxsize=None)(self._habit)
        self.quiet: dict[tuple[Any, ...], float] = {}

    def score(self, slot: Slot) -> tuple[float, float]:
        """(score, idle share) of one slot."""
        local = slot.start.astimezone(self.zone)
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        if local.utcoffset() == slot.end.astimezone(self.zone).utcoffset():
            key = (weekday, local.time(), slot.end - slot.start)
            quiet = self.quiet.get(key)
            if quiet is None:
                quiet = self.quiet[key] = self.idle_share(slot)
        else:  # a DST switch inside the slot: its wall-clock hours are its own
            quiet = self.idle_share(slot)
        habit = self.habit(weekday, minute, slot.staff_id)
        return round(self.habits.confidence * habit + IDLE_WEIGHT * quiet, 9), quiet

    def _habit(self, weekday: int, minute: int, staff_id: int) -> float:
        return (
            WEEKDAY_WEIGHT * self.habits.weekday_fit(weekday)
            + TIME_WEIGHT * self.time_fit(minute)
            + STAFF_WEIGHT * self.habits.staff_share(staff_id)
        )

    def _share(self, weekday: int, hour: int) -> float:
        return min(1.0, max(0.0, self.idle.get((weekday, hour), 0.0)))

    def idle_share(self, slot: Slot) -> float:
        """The idle map averaged over the local hours [start, end) covers, by minutes."""
        total, weighted, cursor = 0.0, 0.0, slot.start
        while cursor < slot.end:
            local = cursor.astimezone(self.zone)
            to_next_hour = timedelta(minutes=60 - local.minute, seconds=-local.second)
            piece_end = min(slot.end, cursor + to_next_hour)
            minutes = (piece_end - cursor).total_seconds() / 60
            total += minutes
            weighted += minutes * self._share(local.weekday(), local.hour)
            cursor = piece_end
        return weighted / total if total else 0.0

    def explain(self, slot: Slot, score: float, quiet: float) -> RankedSlot:
        """The slot with its reasons in plain words (computed for the chosen few only)."""
        habits, local, reasons = self.habits, slot.start.astimezone(self.zone), []
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        if habits.visits >= MIN_VISITS_FOR_REASON:
            if habits.weekday_fit(weekday) >= USUAL_SHARE:
                text = f"Their usual day ({WEEKDAYS[weekday]})"
                reasons.append(Reason(ReasonCode.USUAL_DAY, text))
            usual = habits.usual_minute_near(minute)
            if usual is not None and self.time_fit(minute) >= USUAL_SHARE:
                text = f"Around their usual time ({_hhmm(usual)})"
                reasons.append(Reason(ReasonCode.USUAL_TIME, text))
            if habits.staff_share(slot.staff_id) >= USUAL_SHARE:
                reasons.append(Reason(ReasonCode.USUAL_STAFF, "With their usual stylist"))
        if quiet >= QUIET_SHARE:
            reasons.append(Reason(ReasonCode.QUIET_HOUR, "A quiet hour: fills the book"))
        return RankedSlot(slot, score, tuple(reasons))


def _hhmm(minute: int) -> str:
    rounded = 15 * round(minute / 15)
    return f"{rounded // 60 % 24:02d}:{rounded % 60:02d}"


def _fits_spread(candidate: Slot, chosen: list[Slot], zone: ZoneInfo) -> bool:
    """At most MAX_PER_DAY per local day, at least MIN_GAP apart within a day."""
    day = candidate.start.astimezone(zone).date()
    same_day = [c for c in chosen if c.start.astimezone(zone).date() == day]
    if len(same_day) >= MAX_PER_DAY:
        return False
    return all(abs(c.start - candidate.start) >= MIN_GAP for c in same_day)


def rank_slots(
    slots: Iterable[Slot],
    *,
    habits: CustomerHabits,
    idle: Mapping[tuple[int, int], float],
    tz: str,
    limit: int = 5,
) -> list[RankedSlot]:
    """The best `limit` slots for this customer, spread over days, best first (fill-ins
    from crowded days last; see the module docstring for the score). Deterministic: ties
    go to the earlier start, then the lower staff id."""
    if limit <= 0:
        return []
    zone = ZoneInfo(tz)
    scorer = _Scorer(habits, idle, zone)
    ranked = sorted(
        ((*scorer.score(slot), slot) for slot in slots),
        key=lambda item: (-item[0], item[2].start, item[2].staff_id),
    )
    chosen: list[int] = []  # indexes into ranked
    for index, (_, _, slot) in enumerate(ranked):
        if len(chosen) == limit:
            break
        if _fits_spread(slot, [ranked[i][2] for i in chosen], zone):
            chosen.append(index)
    if len(chosen) < limit:
        taken = set(chosen)
        chosen += [i for i in range(len(ranked)) if i not in taken][: limit - len(chosen)]
    return [scorer.explain(ranked[i][2], ranked[i][0], ranked[i][1]) for i in chosen]

"""Smart slot suggestions: habits from visits (local time across DST), ranking by habit
and by idle capacity, new customers, spreading, tie-breaks and the limit."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.availability import Slot
from scheduling.slot_ranking import (
    MAX_PER_DAY,
    MIN_GAP,
    CustomerHabits,
    RankedSlot,
    ReasonCode,
    build_customer_habits,
    build_idle_map,
    rank_slots,
)

BERLIN, SYDNEY = "Europe/Berlin", "Australia/Sydney"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
ANNA, BEN = 7, 8


def at(day: str, hhmm: str = "10:00", tz: str = BERLIN) -> datetime:
    """The UTC instant of a local wall-clock time."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def slot(day: str, hhmm: str, staff_id: int = ANNA) -> Slot:
    start = at(day, hhmm)
    return Slot(start, staff_id, start + timedelta(minutes=45))


def visit(day: str, hhmm: str = "10:00", staff_id: int = ANNA, status: str = "completed") -> dict:
    return {"starts_at": at(day, hhmm), "staff_id": staff_id, "status": status}


# Tuesdays at 10:00 with Anna, in summer (UTC+2) and winter (UTC+1).
REGULAR = [visit(day) for day in ("2026-01-13", "2026-02-10", "2026-06-02", "2026-07-07")]


# --- habits ----------------------------------------------------------------------------


def test_habits_count_completed_visits_in_local_time() -> None:
    visits = [
        *REGULAR,
        visit("2026-03-05", "15:00", BEN, status="cancelled"),
        visit("2026-03-06", "15:00", BEN, status="no_show"),
        visit("2026-03-07", "16:00", BEN, status="booked"),
    ]
    habits = build_customer_habits(visits, tz=BERLIN)
    assert habits.visits == 4
    assert habits.weekday_shares[TUE] == 1.0 and sum(habits.weekday_shares) == 1.0
    assert habits.start_minutes == (600,) * 4 and habits.usual_minute == 600
    assert habits.staff_shares == ((ANNA, 1.0),)
    assert habits.confidence == pytest.approx(4 / 6)


def test_habits_on_dst_switch_days_keep_the_wall_clock_hour() -> None:
    # Berlin springs forward on Sun 29 March 2026 and falls back on Sun 25 October.
    visits = [visit("2026-03-29", "10:30"), visit("2026-10-25", "10:30")]
    assert [v["starts_at"].hour for v in visits] == [8, 9]  # different UTC hours
    habits = build_customer_habits(visits, tz=BERLIN)
    assert habits.weekday_shares[SUN] == 1.0
    assert habits.start_minutes == (630, 630)


def test_habits_in_the_southern_hemisphere() -> None:
    # Sydney: daylight saving ends Sun 5 April 2026, starts Sun 4 October 2026.
    visits = [
        {"starts_at": at(day, "09:00", SYDNEY), "staff_id": BEN, "status": "completed"}
        for day in ("2026-04-05", "2026-10-04", "2026-10-11")
    ]
    habits = build_customer_habits(visits, tz=SYDNEY)
    assert habits.weekday_shares[SUN] == 1.0 and habits.usual_minute == 540


def test_habits_share_staff_by_visits_most_seen_first() -> None:
    visits = [visit("2026-06-02", staff_id=BEN), visit("2026-06-09", staff_id=ANNA)]
    visits += [visit("2026-06-16", staff_id=BEN), visit("2026-06-23", staff_id=3)]
    habits = build_customer_habits(visits, tz=BERLIN)
    assert habits.staff_shares == ((BEN, 0.5), (3, 0.25), (ANNA, 0.25))  # ties by id
    assert habits.staff_share(BEN) == 0.5 and habits.staff_share(99) == 0.0


def test_habits_time_of_day_is_a_density_with_a_usual_peak() -> None:
    visits = [visit("2026-06-02", "09:00"), visit("2026-06-09", "10:00")]
    visits += [visit("2026-06-16", "10:00"), visit("2026-06-23", "18:00")]
    habits = build_customer_habits(visits, tz=BERLIN)
    assert habits.start_minutes == (540, 600, 600, 1080)
    assert habits.usual_minute == 600  # the densest start
    assert habits.time_fit(600) == 1.0
    assert habits.time_fit(540) == pytest.approx((1 + 0.5 + 0.5) / (0.5 + 1 + 1))
    assert habits.time_fit(1080) == pytest.approx(1 / 2.5)  # the one evening visit
    assert habits.time_fit(780) == 0.0  # 13:00: two hours from everything
    assert habits.usual_minute_near(1070) == 1080 and habits.usual_minute_near(800) is None


def test_habits_from_a_data_frame_match_the_dicts() -> None:
    frame = pd.DataFrame(REGULAR)
    assert build_customer_habits(frame, tz=BERLIN) == build_customer_habits(REGULAR, tz=BERLIN)


def test_no_visits_means_no_habits() -> None:
    habits = build_customer_habits([visit("2026-06-02", status="cancelled")], tz=BERLIN)
    assert habits == CustomerHabits()
    assert habits.visits == 0 and habits.confidence == 0.0 and habits.usual_minute is None
    assert habits.weekday_fit(TUE) == 0.0 and habits.time_fit(600) == 0.0


def test_naive_visit_times_are_refused() -> None:
    naive = {"starts_at": datetime(2026, 6, 2, 10), "staff_id": ANNA, "status": "completed"}
    with pytest.raises(ValueError, match="tz-aware"):
        build_customer_habits([naive], tz=BERLIN)


def test_idle_map_is_the_free_share_of_worked_hours() -> None:
    cells = [(MON, 9, 30.0, 120.0), (MON, 10, 0.0, 0.0), (TUE, 11, 200.0, 120.0)]
    cells += [(WED, 12, 0.0, 60.0)]
    assert build_idle_map(cells) == {(MON, 9): 0.75, (TUE, 11): 0.0, (WED, 12): 1.0}


# --- ranking ---------------------------------------------------------------------------

# Mon 8 June 2026 to Sun 14 June (summer time).
WEEK = [f"2026-06-{day:02d}" for day in range(8, 15)]


def test_a_regular_gets_their_day_time_and_stylist_first() -> None:
    habits = build_customer_habits(REGULAR, tz=BERLIN)
    slots = [
        slot(WEEK[MON], "10:00"), slot(WEEK[TUE], "10:00", BEN), slot(WEEK[TUE], "15:00"),
        slot(WEEK[TUE], "10:00"), slot(WEEK[WED], "09:00"),
    ]  # fmt: skip
    ranked = rank_slots(slots, habits=habits, idle={}, tz=BERLIN, limit=5)
    best = ranked[0]
    assert best.slot == slot(WEEK[TUE], "10:00")
    assert [r.code for r in best.reasons] == [
        ReasonCode.USUAL_DAY, ReasonCode.USUAL_TIME, ReasonCode.USUAL_STAFF,
    ]  # fmt: skip
    assert [r.text for r in best.reasons] == [
        "Their usual day (Tuesday)", "Around their usual time (10:00)", "With their usual stylist",
    ]  # fmt: skip
    assert all("Anna" not in r.text for item in ranked for r in item.reasons)  # no names
    # The same time with Ben scores second best, but it repeats the best suggestion (and
    # Tuesday has two already): the spread puts it last, as a fill-in.
    assert [item.slot for item in ranked[1:]] == [
        slot(WEEK[MON], "10:00"), slot(WEEK[TUE], "15:00"), slot(WEEK[WED], "09:00"),
        slot(WEEK[TUE], "10:00", BEN),
    ]  # fmt: skip
    assert ranked[4].score > ranked[1].score == ranked[2].score > ranked[3].score


def test_habit_rank_is_the_same_across_a_dst_change() -> None:
    """A summer regular at 10:00 is still at 10:00 after the clocks go back."""
    habits = build_customer_habits(REGULAR[2:], tz=BERLIN)  # June and July only
    autumn = [slot("2026-10-27", "09:00"), slot("2026-10-27", "10:00"), slot("2026-10-27", "11:00")]
    ranked = rank_slots(autumn, habits=habits, idle={}, tz=BERLIN, limit=1)
    assert ranked[0].slot.start == at("2026-10-27", "10:00")
    assert ranked[0].slot.start.hour == 9  # UTC+1 now: 09:00 UTC
    assert ReasonCode.USUAL_TIME in {r.code for r in ranked[0].reasons}


def test_a_new_customer_ranks_by_idle_capacity_then_earliest() -> None:
    idle = {(WED, 14): 0.9, (MON, 9): 0.2, (FRI, 16): 0.9}
    slots = [
        slot(WEEK[MON], "09:00"), slot(WEEK[FRI], "16:00"), slot(WEEK[TUE], "11:00"),
        slot(WEEK[WED], "14:15"), slot(WEEK[THU], "08:00"),
    ]  # fmt: skip
    ranked = rank_slots(slots, habits=CustomerHabits(), idle=idle, tz=BERLIN, limit=5)
    assert [item.slot for item in ranked] == [
        slot(WEEK[WED], "14:15"), slot(WEEK[FRI], "16:00"), slot(WEEK[MON], "09:00"),
        slot(WEEK[TUE], "11:00"), slot(WEEK[THU], "08:00"),
    ]  # fmt: skip
    assert [r.text for r in ranked[0].reasons] == ["A quiet hour: fills the book"]
    assert ranked[2].reasons == ()  # 0.2 free is not quiet
    assert ranked[0].score == ranked[1].score  # equal: the earlier one first


def test_idle_share_is_weighted_by_the_minutes_in_each_hour() -> None:
    idle = {(MON, 9): 1.0, (MON, 10): 0.0}
    slots = [slot(WEEK[MON], "09:45"), slot(WEEK[MON], "09:30"), slot(WEEK[MON], "09:00")]
    ranked = rank_slots(slots, habits=CustomerHabits(), idle=idle, tz=BERLIN, limit=3)
    assert [item.score for item in ranked] == pytest.approx([2.0, 2 * 30 / 45, 2 * 15 / 45])
    assert [len(item.reasons) for item in ranked] == [1, 1, 0]  # quiet from a half


def test_a_slot_across_the_autumn_switch_sits_in_one_local_hour() -> None:
    # Sun 25 October 2026, 02:30 CEST (00:30 UTC) + 45 min ends at 02:15 CET: both
    # pieces are local hour 2, though 75 minutes of wall clock seem to pass.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    night = Slot(start, ANNA, start + timedelta(minutes=45))
    ranked = rank_slots([night], habits=CustomerHabits(), idle={(SUN, 2): 1.0, (SUN, 3): 0.0},
                        tz=BERLIN)  # fmt: skip
    assert ranked[0].score == 2.0


def test_without_any_signal_the_earliest_slots_come_first() -> None:
    slots = [slot(day, "12:00") for day in reversed(WEEK)]
    ranked = rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN, limit=3)
    assert [item.slot.start for item in ranked] == [at(day, "12:00") for day in WEEK[:3]]
    assert {item.score for item in ranked} == {0.0}


def test_a_strong_habit_outweighs_an_idle_hour() -> None:
    habits = build_customer_habits(REGULAR * 3, tz=BERLIN)  # 12 visits
    idle = {(THU, 15): 1.0, (TUE, 10): 0.0}
    slots = [slot(WEEK[THU], "15:00"), slot(WEEK[TUE], "10:00")]
    ranked = rank_slots(slots, habits=habits, idle=idle, tz=BERLIN, limit=2)
    assert ranked[0].slot == slot(WEEK[TUE], "10:00")
    assert ranked[1].reasons[-1].code == ReasonCode.QUIET_HOUR


def test_idle_breaks_the_tie_between_two_habit_slots() -> None:
    habits = build_customer_habits(REGULAR, tz=BERLIN)
    next_tuesday = "2026-06-16"
    idle = {(TUE, 10): 0.6}
    slots = [slot(WEEK[TUE], "10:00"), slot(next_tuesday, "10:00")]
    ranked = rank_slots(slots, habits=habits, idle=idle, tz=BERLIN, limit=2)
    assert [item.slot.start for item in ranked] == [at(WEEK[TUE]), at(next_tuesday)]
    assert ReasonCode.QUIET_HOUR in {r.code for r in ranked[0].reasons}


def test_one_visit_counts_a_little_but_names_no_habit() -> None:
    habits = build_customer_habits(REGULAR[:1], tz=BERLIN)
    slots = [slot(WEEK[MON], "10:00"), slot(WEEK[TUE], "10:00")]
    ranked = rank_slots(slots, habits=habits, idle={}, tz=BERLIN, limit=2)
    assert ranked[0].slot == slot(WEEK[TUE], "10:00") and ranked[0].reasons == ()


def test_a_customer_with_two_usual_times_gets_both_and_not_the_middle() -> None:
    visits = [visit(d, "09:00") for d in ("2026-05-04", "2026-05-08")]  # Mon, Fri
    visits += [visit(d, "18:00") for d in ("2026-05-16", "2026-05-24")]  # Sat, Sun
    habits = build_customer_habits(visits, tz=BERLIN)
    slots = [slot(WEEK[TUE], "13:30"), slot(WEEK[WED], "18:15"), slot(WEEK[THU], "09:00")]
    ranked = rank_slots(slots, habits=habits, idle={}, tz=BERLIN, limit=3)
    assert [item.slot for item in ranked] == [
        slot(WEEK[THU], "09:00"),
        slot(WEEK[WED], "18:15"),
        slot(WEEK[TUE], "13:30"),
    ]
    assert [r.text for r in ranked[0].reasons] == [
        "Around their usual time (09:00)", "With their usual stylist",
    ]  # fmt: skip
    assert ranked[1].reasons[0].text == "Around their usual time (18:00)"
    assert ranked[1].score > ranked[2].score  # 13:30 lies between, near neither
    assert [r.code for r in ranked[2].reasons] == [ReasonCode.USUAL_STAFF]


def test_suggestions_are_spread_over_days() -> None:
    quarter_hours = [f"{h:02d}:{m:02d}" for h in range(9, 18) for m in (0, 15, 30, 45)]
    slots = [slot(day, hhmm, staff) for day in WEEK for hhmm in quarter_hours
             for staff in (ANNA, BEN)]  # fmt: skip
    idle = {(TUE, hour): 0.8 for hour in range(9, 18)}  # a quiet Tuesday
    ranked = rank_slots(slots, habits=CustomerHabits(), idle=idle, tz=BERLIN, limit=5)
    assert len(ranked) == 5
    days = [item.slot.start.astimezone(ZoneInfo(BERLIN)).date() for item in ranked]
    assert max(days.count(day) for day in days) <= MAX_PER_DAY
    tuesday = sorted(item.slot.start for item in ranked if item.score > 0)
    assert tuesday == [at(WEEK[TUE], "09:00"), at(WEEK[TUE], "11:00")]  # 2 h apart
    assert tuesday[1] - tuesday[0] >= MIN_GAP


def test_when_one_day_is_all_there_is_adjacent_slots_fill_the_list() -> None:
    slots = [slot(WEEK[MON], hhmm) for hhmm in ("09:00", "09:15", "09:30", "09:45")]
    ranked = rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN, limit=5)
    assert [item.slot for item in ranked] == slots  # all four, earliest first


def test_limit() -> None:
    slots = [slot(day, "12:00") for day in WEEK]
    assert len(rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN, limit=3)) == 3
    assert len(rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN)) == 5
    assert rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN, limit=0) == []
    assert rank_slots([], habits=CustomerHabits(), idle={}, tz=BERLIN) == []


def test_equal_scores_break_ties_by_start_then_staff() -> None:
    slots = [slot(WEEK[WED], "12:00", BEN), slot(WEEK[WED], "12:00", ANNA)]
    slots += [slot(WEEK[MON], "16:00", BEN)]
    ranked = rank_slots(slots, habits=CustomerHabits(), idle={}, tz=BERLIN, limit=3)
    assert [(item.slot.start, item.slot.staff_id) for item in ranked] == [
        (at(WEEK[MON], "16:00"), BEN), (at(WEEK[WED], "12:00"), ANNA),
        (at(WEEK[WED], "12:00"), BEN),
    ]  # fmt: skip


# --- properties ------------------------------------------------------------------------


def _fits(item: RankedSlot, chosen: list[RankedSlot]) -> bool:
    """The spread rule, written out: MAX_PER_DAY a local day, MIN_GAP apart."""
    day = item.slot.start.astimezone(ZoneInfo(BERLIN)).date()
    same = [c for c in chosen if c.slot.start.astimezone(ZoneInfo(BERLIN)).date() == day]
    return len(same) < MAX_PER_DAY and all(
        abs(c.slot.start - item.slot.start) >= MIN_GAP for c in same
    )


STARTS = st.builds(
    lambda day, quarter, staff: slot(WEEK[day], f"{8 + quarter // 4:02d}:{quarter % 4 * 15:02d}",
                                     staff),
    st.integers(0, 6), st.integers(0, 47), st.sampled_from([ANNA, BEN, 3]),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    slots=st.lists(STARTS, max_size=40, unique=True),
    visit_days=st.lists(st.integers(0, 6), max_size=6),
    limit=st.integers(0, 8),
    seed=st.integers(0, 1000),
)
def test_ranking_is_a_deterministic_spread_subset(
    slots: list[Slot], visit_days: list[int], limit: int, seed: int
) -> None:
    habits = build_customer_habits([visit(f"2026-05-{4 + d:02d}") for d in visit_days], tz=BERLIN)
    idle = {(d, h): ((d * 24 + h) % 5) / 4 for d in range(7) for h in range(24)}
    ranked = rank_slots(slots, habits=habits, idle=idle, tz=BERLIN, limit=limit)
    assert len(ranked) == min(limit, len(slots))
    assert {item.slot for item in ranked} <= set(slots)
    assert len({item.slot for item in ranked}) == len(ranked)
    keys = [(-item.score, item.slot.start, item.slot.staff_id) for item in ranked]
    spread = 0  # the spread ones, best first, then the fill-ins, best first
    while spread < len(ranked) and _fits(ranked[spread], ranked[:spread]):
        spread += 1
    assert keys[:spread] == sorted(keys[:spread]) and keys[spread:] == sorted(keys[spread:])
    for index in range(spread, len(ranked)):  # a fill-in only where no spread one was left
        assert not _fits(ranked[index], ranked[:spread])
    shuffled = random.Random(seed).sample(slots, len(slots))
    assert rank_slots(shuffled, habits=habits, idle=idle, tz=BERLIN, limit=limit) == ranked

"""Status transitions (every pair, before and after the start), policy and wording."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from scheduling.availability import BookingPolicy, Slot
from scheduling.booking_rules import (
    STATUSES,
    BulkStatusRefused,
    StatusRefused,
    allowed_transitions,
    build_booking_policy,
    check_reschedulable,
    check_source,
    check_transition,
    clean_reason,
    describe_slot_taken,
    explain_transition,
    normalise_status,
)

START = datetime(2026, 6, 2, 8, tzinfo=UTC)
BEFORE, AFTER = START - timedelta(hours=1), START + timedelta(minutes=1)

#: (from, to) -> allowed before the start / after the start; absent pairs are never allowed.
TABLE = {
    ("booked", "confirmed"): (True, True),
    ("booked", "cancelled"): (True, True),
    ("booked", "completed"): (False, True),
    ("booked", "no_show"): (False, True),
    ("confirmed", "cancelled"): (True, True),
    ("confirmed", "completed"): (False, True),
    ("confirmed", "no_show"): (False, True),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
@pytest.mark.parametrize("now", [BEFORE, START, AFTER], ids=["before", "at-start", "after"])
def test_transition_table(current: str, target: str, now: datetime) -> None:
    started = now >= START
    if current == target:
        expected = True  # a no-op
    else:
        expected = TABLE.get((current, target), (False, False))[started]
    problem = explain_transition(current, target, starts_at=START, now=now, reason="ill")
    assert (problem is None) is expected, problem
    assert (target in allowed_transitions(current)) is (
        (current, target) in TABLE
    )  # the table, whatever the time
    if expected:
        check_transition(current, target, starts_at=START, now=now, reason="ill")
    else:
        with pytest.raises(StatusRefused):
            check_transition(current, target, starts_at=START, now=now, reason="ill")


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        ("booked", "completed", "Can't complete an appointment that hasn't started."),
        ("confirmed", "no_show", "Can't mark an appointment as a no-show before it has started."),
        ("completed", "cancelled", "It is already completed, which is final."),
        ("no_show", "completed", "It is already a no-show, which is final."),
        ("cancelled", "confirmed", "It is already cancelled, which is final."),
        ("confirmed", "booked", "A confirmed appointment can't be set back to booked."),
    ],
)
def test_refusal_messages(current: str, target: str, message: str) -> None:
    with pytest.raises(StatusRefused) as caught:
        check_transition(current, target, starts_at=START, now=BEFORE, reason="x")
    assert str(caught.value) == message


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_cancel_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(StatusRefused, match="A cancellation needs a reason."):
        check_transition("booked", "cancelled", starts_at=START, now=BEFORE, reason=reason)
    # cancelling what is already cancelled is a no-op, reason or not
    check_transition("cancelled", "cancelled", starts_at=START, now=BEFORE, reason=reason)


def test_reason_cleaned_and_limited() -> None:
    assert clean_reason("  sick \n child ") == "sick child"
    assert clean_reason("x" * 200) == "x" * 200
    with pytest.raises(StatusRefused, match="too long"):
        clean_reason("x" * 201)


@pytest.mark.parametrize(
    ("raw", "status"),
    [("cancel", "cancelled"), ("Confirm", "confirmed"), ("no-show", "no_show"),
     ("No show", "no_show"), ("completed", "completed"), (" booked ", "booked")],
)  # fmt: skip
def test_normalise_status(raw: str, status: str) -> None:
    assert normalise_status(raw) == status


def test_unknown_status_refused() -> None:
    with pytest.raises(StatusRefused, match="'archived' is not a status"):
        normalise_status("archived")
    with pytest.raises(StatusRefused):
        allowed_transitions("archived")


@pytest.mark.parametrize("status", STATUSES)
def test_only_booked_or_confirmed_can_move(status: str) -> None:
    if status in ("booked", "confirmed"):
        check_reschedulable(status)
    else:
        with pytest.raises(StatusRefused, match="only booked or confirmed ones can be moved"):
            check_reschedulable(status)


def test_bulk_refusal_lists_every_offender() -> None:
    refused = BulkStatusRefused({12: "it is already completed, which is final", 3: "no reason"})
    assert list(refused.refused) == [3, 12]
    assert str(refused) == (
        "Nothing was changed: 2 appointments can't be changed "
        "(#3: no reason; #12: it is already completed, which is final)."
    )
    assert isinstance(refused, StatusRefused | ValueError)


def test_policy_from_business_row() -> None:
    row = {"timezone": "Australia/Sydney", "min_notice_minutes": 120, "max_days_ahead": 30,
           "slot_step_minutes": 10, "name": "ignored"}  # fmt: skip
    assert build_booking_policy(row) == BookingPolicy(
        timezone="Australia/Sydney",
        min_notice=timedelta(hours=2),
        max_days_ahead=30,
        slot_step=timedelta(minutes=10),
    )


def test_source_checked() -> None:
    assert check_source("walk_in") == "walk_in"
    with pytest.raises(ValueError, match="not a booking source"):
        check_source("fax")


def test_slot_taken_wording() -> None:
    near = datetime(2026, 6, 2, 12, tzinfo=UTC)  # Tue 14:00 in Berlin
    slots = [
        Slot(near, 1, near + timedelta(minutes=45)),
        Slot(near + timedelta(days=8, minutes=15), 2, near + timedelta(days=8, minutes=60)),
    ]
    text = describe_slot_taken(
        slots, timezone="Europe/Berlin", staff_names={1: "Anna", 2: "Ben"}, near=near
    )
    assert text == "That slot was just taken. Next free: Tue 14:00 (Anna), Wed 10 Jun 14:15 (Ben)."
    empty = describe_slot_taken([], timezone="Europe/Berlin", staff_names={}, near=near)
    assert empty.startswith("That slot was just taken, and there is no other free slot")

"""Booking rules besides availability: status transitions, policy, friendly wording. Pure.

Statuses (DESIGN §3): booked -> confirmed -> completed, or cancelled, or no_show.

| from \\ to | confirmed | completed | cancelled | no_show |
|-----------|-----------|-----------|-----------|---------|
| booked    | yes       | yes (1)   | yes (2)   | yes (1) |
| confirmed | same      | yes (1)   | yes (2)   | yes (1) |
| completed, cancelled, no_show: final, nothing further        |

(1) only once the appointment has started; (2) only with a reason. Setting the status an
appointment already has is a no-op, not an error (a bulk "confirm" over a selection that
holds confirmed rows just skips them). Nothing ever goes back to booked: there is no
"reopen". Only booked and confirmed appointments can be rescheduled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.availability import BookingPolicy, Slot

STATUSES = ("booked", "confirmed", "completed", "cancelled", "no_show")
#: How each status is shown to people (tables, calendar, filters).
STATUS_LABELS = {"booked": "Booked", "confirmed": "Confirmed", "completed": "Completed",
                 "cancelled": "Cancelled", "no_show": "No-show"}  # fmt: skip
FINAL_STATUSES = frozenset({"completed", "cancelled", "no_show"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"confirmed", "completed", "cancelled", "no_show"}),
    "confirmed": frozenset({"completed", "cancelled", "no_show"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "no_show": frozenset(),
}
NEEDS_START = frozenset({"completed", "no_show"})
RESCHEDULABLE = frozenset({"booked", "confirmed"})
#: What the UI may say instead of the status ("cancel" for "cancelled").
VERBS = {"confirm": "confirmed", "complete": "completed", "cancel": "cancelled",
         "no-show": "no_show", "mark_no_show": "no_show"}  # fmt: skip
SOURCES = frozenset({"staff", "phone", "online", "walk_in", "import"})
REASON_MAX = 200  # appointments.cancellation_reason
NOTES_MAX = 2000
LABELS = {"booked": "booked", "confirmed": "confirmed", "completed": "completed",
          "cancelled": "cancelled", "no_show": "a no-show"}  # fmt: skip
_DONE = {"confirmed": "confirmed", "completed": "completed", "cancelled": "cancelled",
         "no_show": "marked as a no-show", "booked": "set back to booked"}  # fmt: skip
_TOO_EARLY = {
    "completed": "can't complete an appointment that hasn't started",
    "no_show": "can't mark an appointment as a no-show before it has started",
}


class StatusRefused(ValueError):
    """This status change (or reschedule) is not allowed; the message says why."""


class BulkStatusRefused(StatusRefused):
    """A bulk change refused as a whole; `refused` maps each offending id to its reason."""

    def __init__(self, refused: Mapping[int, str]) -> None:
        self.refused = dict(sorted(refused.items()))
        details = "; ".join(f"#{key}: {reason}" for key, reason in self.refused.items())
        count = len(self.refused)
        noun = "appointment" if count == 1 else "appointments"
        super().__init__(f"Nothing was changed: {count} {noun} can't be changed ({details}).")


def normalise_status(status: str) -> str:
    """A status from a status or a verb ("cancel" -> "cancelled"); refuses anything else."""
    value = status.strip().lower().replace(" ", "_")
    value = VERBS.get(value, value)
    if value not in STATUSES:
        raise StatusRefused(f"'{status}' is not a status ({', '.join(STATUSES)})")
    return value


def allowed_transitions(status: str) -> frozenset[str]:
    """The statuses an appointment in `status` may move to (the same status is a no-op)."""
    return TRANSITIONS[normalise_status(status)]


def explain_transition(
    current: str, target: str, *, starts_at: datetime, now: datetime, reason: str | None = None
) -> str | None:
    """Why `current` -> `target` is refused, or None when it is allowed (or a no-op)."""
    current, target = normalise_status(current), normalise_status(target)
    if current == target:
        return None
    if target not in TRANSITIONS[current]:
        if current in FINAL_STATUSES:
            return f"it is already {LABELS[current]}, which is final"
        return f"a {current} appointment can't be {_DONE[target]}"
    if target in NEEDS_START and starts_at > now:
        return _TOO_EARLY[target]
    if target == "cancelled" and not clean_reason(reason):
        return "a cancellation needs a reason"
    return None


def check_transition(
    current: str, target: str, *, starts_at: datetime, now: datetime, reason: str | None = None
) -> None:
    """Raise StatusRefused with the reason when `current` -> `target` is not allowed."""
    problem = explain_transition(current, target, starts_at=starts_at, now=now, reason=reason)
    if problem is not None:
        raise StatusRefused(_sentence(problem))


def check_reschedulable(status: str) -> None:
    status = normalise_status(status)
    if status not in RESCHEDULABLE:
        raise StatusRefused(
            f"This appointment is {LABELS[status]}: only booked or confirmed ones can be moved."
        )


def clean_reason(reason: str | None) -> str:
    """A cancellation reason, stripped; refuses one longer than the column holds."""
    text = " ".join((reason or "").split())
    if len(text) > REASON_MAX:
        raise StatusRefused(f"The reason is too long ({len(text)} > {REASON_MAX} characters).")
    return text


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"'{source}' is not a booking source ({', '.join(sorted(SOURCES))})")
    return source


def check_notes(notes: str) -> str:
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise ValueError(f"The notes are too long ({len(notes)} > {NOTES_MAX} characters).")
    return notes


def check_instant(value: datetime, name: str = "start") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a tz-aware instant, got {value!r}")
    return value


def build_booking_policy(business: Mapping[str, Any]) -> BookingPolicy:
    """The policy from a `businesses` row."""
    return BookingPolicy(
        timezone=business["timezone"],
        min_notice=timedelta(minutes=int(business["min_notice_minutes"])),
        max_days_ahead=int(business["max_days_ahead"]),
        slot_step=timedelta(minutes=int(business["slot_step_minutes"])),
    )


def describe_slot(
    slot: Slot, *, timezone: str, staff_names: Mapping[int, str], near: datetime
) -> str:
    """'Tue 14:00 (Anna)' in local time; with the date when not within 6 days of `near`."""
    local = slot.start.astimezone(ZoneInfo(timezone))
    close = abs(slot.start - near) < timedelta(days=6)
    when = f"{local:%a %H:%M}" if close else f"{local:%a} {local.day} {local:%b %H:%M}"
    return f"{when} ({staff_names.get(slot.staff_id, f'staff #{slot.staff_id}')})"


def describe_slot_taken(
    alternatives: Iterable[Slot],
    *,
    timezone: str,
    staff_names: Mapping[int, str],
    near: datetime,
) -> str:
    """'That slot was just taken. Next free: Tue 14:00 (Anna), Tue 14:15 (Ben).'"""
    texts = [
        describe_slot(slot, timezone=timezone, staff_names=staff_names, near=near)
        for slot in alternatives
    ]
    if not texts:
        return "That slot was just taken, and there is no other free slot for this service."
    return "That slot was just taken. Next free: " + ", ".join(texts) + "."


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")

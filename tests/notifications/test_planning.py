"""Reminder planning: send times across DST, quiet hours, every skip reason, stable keys,
withdrawals on cancel and reschedule; hypothesis properties for the send time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.contacts import (
    SKIP_EMAIL_OPTED_OUT,
    SKIP_NO_EMAIL,
    SKIP_NO_PHONE,
    SKIP_NO_SMS_CONSENT,
)
from notifications.planning import (
    SKIP_ALREADY_REMINDED,
    SKIP_CANCELLED,
    SKIP_NO_CUSTOMER,
    SKIP_QUIET_HOURS,
    SKIP_TOO_LATE,
    BusinessContext,
    Plan,
    PlanSummary,
    QuietHours,
    ReminderRule,
    Skipped,
    build_idempotency_key,
    compute_quiet_send_time,
    compute_send_time,
    plan_reminders,
    summarise,
)
from notifications.withdrawals import (
    WITHDRAW_CANCELLED,
    WITHDRAW_MISSING,
    WITHDRAW_NOT_UPCOMING,
    WITHDRAW_RESCHEDULED,
    WITHDRAW_RULE_REMOVED,
    plan_withdrawals,
)

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
BUSINESS = BusinessContext(id=7, timezone=TZ, country="DE")
DAY_BEFORE = ReminderRule("sms", timedelta(hours=24), "24 h")
TWO_HOURS = ReminderRule("sms", timedelta(hours=2), "2 h")
EMAIL_DAY_BEFORE = ReminderRule("email", timedelta(days=1), "24 h e-mail")
NIGHT = QuietHours(time(21), time(8))
CONSENTED = datetime(2025, 1, 1, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0):
    """A Berlin wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold).astimezone(UTC)


def appointment(id: int, starts_at: datetime, status: str = "booked", customer_id: Any = 1):
    return {"id": id, "customer_id": customer_id, "starts_at": starts_at, "status": status}


def person(**changes: Any) -> dict[str, Any]:
    row = {"phone": "+4915112345678", "email": "anna@example.com", "sms_opt_in": True}
    row |= {"sms_opt_in_at": CONSENTED, "email_opt_in": True, "email_opt_in_at": CONSENTED}
    return row | changes


CUSTOMERS = {
    1: person(),
    2: person(sms_opt_in=False, sms_opt_in_at=None),
    3: person(phone="+493012345678"),  # a landline
    4: person(email="not-an-address"),
    5: person(email_opt_in=False),  # consented once, then withdrew
}


def plan(appointments: list[dict[str, Any]], rules: list[ReminderRule], **kw: Any) -> Plan:
    options: dict[str, Any] = {
        "business": BUSINESS,
        "now": local(2025, 6, 1, 12),
        "already": set(),
        "quiet": None,
        "horizon": timedelta(days=30),
    }
    return plan_reminders(appointments, CUSTOMERS, rules, **(options | kw))


def reasons(result: Plan) -> list[str]:
    return [skip.reason for skip in result.skipped]


# --- send times across DST ----------------------------------------------------------------


def test_24h_before_on_the_spring_switch_day_keeps_the_local_time() -> None:
    start = local(2025, 3, 30, 10)  # the clocks went 02:00 -> 03:00 that night
    send = compute_send_time(start, DAY_BEFORE, timezone=TZ)
    assert send == local(2025, 3, 29, 10)
    assert start - send == timedelta(hours=23)


def test_24h_before_on_the_autumn_switch_day_keeps_the_local_time() -> None:
    start = local(2025, 10, 26, 10)  # 03:00 -> 02:00 that night
    send = compute_send_time(start, DAY_BEFORE, timezone=TZ)
    assert send == local(2025, 10, 25, 10)
    assert start - send == timedelta(hours=25)


def test_a_day_before_time_the_clocks_skip_moves_to_the_end_of_the_gap() -> None:
    send = compute_send_time(local(2025, 3, 31, 2, 30), DAY_BEFORE, timezone=TZ)
    assert send == datetime(2025, 3, 30, 1, tzinfo=UTC)  # 03:00 CEST, the gap's end


def test_a_day_before_time_that_happens_twice_is_the_first_one() -> None:
    send = compute_send_time(local(2025, 10, 27, 2, 30), DAY_BEFORE, timezone=TZ)
    assert send == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET


def test_two_days_before_across_a_switch_keeps_the_local_time() -> None:
    rule = ReminderRule("sms", timedelta(days=2))
    assert compute_send_time(local(2025, 3, 31, 9), rule, timezone=TZ) == local(2025, 3, 29, 9)


@pytest.mark.parametrize(
    "start", [local(2025, 3, 30, 3, 30), local(2025, 10, 26, 2, 30, fold=1)], ids=["spring", "fall"]
)
def test_2h_before_is_two_real_hours_across_a_switch(start: datetime) -> None:
    assert compute_send_time(start, TWO_HOURS, timezone=TZ) == start - timedelta(hours=2)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        compute_send_time(datetime(2025, 6, 1, 10), TWO_HOURS, timezone=TZ)


@pytest.mark.parametrize(
    ("channel", "offset", "kind"),
    [("fax", timedelta(hours=1), "reminder"), ("sms", timedelta(0), "reminder")]
    + [("sms", timedelta(hours=1), "a:b"), ("sms", -timedelta(hours=1), "reminder")],
)
def test_bad_rules_are_refused(channel: str, offset: timedelta, kind: str) -> None:
    with pytest.raises(ValueError):
        ReminderRule(channel, offset, kind=kind)


# --- quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "inside"),
    [(time(20, 59), False), (time(21), True), (time(23, 59), True), (time(0), True)]
    + [(time(7, 59, 59), True), (time(8), False), (time(12), False)],
)
def test_quiet_hours_wrap_midnight(clock: time, inside: bool) -> None:
    assert NIGHT.contains(clock) is inside


def test_daytime_quiet_hours_and_empty_ones() -> None:
    lunch = QuietHours(time(12), time(14))
    assert [lunch.contains(time(h)) for h in (11, 12, 13, 14)] == [False, True, True, False]
    assert not QuietHours(time(8), time(8)).contains(time(8))


def quiet_move(nominal: datetime, start: datetime, now: datetime, quiet: QuietHours = NIGHT):
    return compute_quiet_send_time(nominal, starts_at=start, quiet=quiet, timezone=TZ, now=now)


def test_an_early_morning_send_moves_to_the_evening_before() -> None:
    start = local(2025, 6, 3, 8, 30)
    moved = quiet_move(local(2025, 6, 3, 6, 30), start, now=local(2025, 6, 2, 12))
    assert moved == local(2025, 6, 2, 20, 59)


def test_a_late_evening_send_moves_to_just_before_quiet_hours() -> None:
    start = local(2025, 6, 3, 0, 30)
    moved = quiet_move(local(2025, 6, 2, 22, 30), start, now=local(2025, 6, 2, 12))
    assert moved == local(2025, 6, 2, 20, 59)


def test_when_the_evening_has_passed_it_moves_to_the_end_of_quiet_hours() -> None:
    start = local(2025, 6, 3, 9, 30)
    moved = quiet_move(local(2025, 6, 3, 7, 30), start, now=local(2025, 6, 2, 22))
    assert moved == local(2025, 6, 3, 8)


def test_when_neither_fits_there_is_no_send_time() -> None:
    start = local(2025, 6, 3, 8)  # quiet hours end exactly at the appointment
    assert quiet_move(local(2025, 6, 3, 6), start, now=local(2025, 6, 2, 22)) is None


def test_a_send_time_outside_quiet_hours_is_kept() -> None:
    nominal = local(2025, 6, 3, 20, 59)
    assert quiet_move(nominal, local(2025, 6, 3, 22, 59), now=local(2025, 6, 1)) == nominal


def test_quiet_hours_on_the_spring_switch_night_use_the_local_clock() -> None:
    start = local(2025, 3, 30, 9)  # 2 h before: 07:00 CEST, inside 21:00 CET - 08:00 CEST
    assert quiet_move(local(2025, 3, 30, 7), start, now=local(2025, 3, 29, 22)) == local(
        2025, 3, 30, 8
    )
    assert quiet_move(local(2025, 3, 30, 7), start, now=local(2025, 3, 29)) == local(
        2025, 3, 29, 20, 59
    )


# --- plan_reminders: what goes out ------------------------------------------------------


def test_each_appointment_and_rule_gives_one_message() -> None:
    start = local(2025, 6, 3, 10)
    result = plan([appointment(11, start)], [DAY_BEFORE, TWO_HOURS, EMAIL_DAY_BEFORE])
    assert result.skipped == []
    got = [(m.channel, m.recipient, m.scheduled_at, m.rule_name) for m in result.messages]
    assert got == [
        ("sms", "+4915112345678", datetime(2025, 6, 2, 8, tzinfo=UTC), "24 h"),
        ("sms", "+4915112345678", datetime(2025, 6, 3, 6, tzinfo=UTC), "2 h"),
        ("email", "anna@example.com", datetime(2025, 6, 2, 8, tzinfo=UTC), "24 h e-mail"),
    ]
    assert {(m.appointment_id, m.customer_id, m.kind) for m in result.messages} == {
        (11, 1, "reminder")
    }


def test_the_idempotency_key_names_business_appointment_kind_channel_and_instant() -> None:
    result = plan([appointment(11, local(2025, 6, 3, 10))], [DAY_BEFORE])
    assert result.messages[0].idempotency_key == "b7:a11:reminder:sms:2025-06-02T08:00:00Z"


def test_keys_are_stable_across_runs_and_distinct_per_rule_channel_and_start() -> None:
    appointments = [appointment(11, local(2025, 6, 3, 10)), appointment(12, local(2025, 6, 4, 10))]
    rules = [DAY_BEFORE, TWO_HOURS, EMAIL_DAY_BEFORE]
    first = [m.idempotency_key for m in plan(appointments, rules).messages]
    later = plan(appointments, rules, now=local(2025, 6, 1, 18))
    assert [m.idempotency_key for m in later.messages] == first
    assert len(set(first)) == 6
    moved = plan([appointment(11, local(2025, 6, 3, 11))], [DAY_BEFORE]).messages[0]
    assert moved.idempotency_key not in first


def test_a_quiet_hours_move_keeps_the_nominal_key() -> None:
    start = local(2025, 6, 3, 9)  # 2 h before: 07:00, quiet
    for now in (local(2025, 6, 2, 12), local(2025, 6, 2, 23)):  # moved earlier / later
        message = plan([appointment(11, start)], [TWO_HOURS], quiet=NIGHT, now=now).messages[0]
        assert message.idempotency_key == "b7:a11:reminder:sms:2025-06-03T05:00:00Z"
    assert message.scheduled_at == local(2025, 6, 3, 8)


def test_only_sends_due_within_the_horizon_are_planned() -> None:
    start = local(2025, 6, 3, 10)
    result = plan([appointment(11, start)], [DAY_BEFORE, TWO_HOURS], horizon=timedelta(hours=23))
    assert [m.rule_name for m in result.messages] == ["24 h"]  # 22 h away; the 2 h one: 44 h
    assert result.skipped == []


def test_a_send_time_within_the_grace_period_still_goes_out() -> None:
    start = local(2025, 6, 3, 10)
    result = plan([appointment(11, start)], [DAY_BEFORE], now=local(2025, 6, 2, 10, 20))
    assert [m.scheduled_at for m in result.messages] == [local(2025, 6, 2, 10)]


# --- plan_reminders: why not ------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_id", "rule", "reason"),
    [
        (2, DAY_BEFORE, SKIP_NO_SMS_CONSENT),
        (3, DAY_BEFORE, SKIP_NO_PHONE),
        (4, EMAIL_DAY_BEFORE, SKIP_NO_EMAIL),
        (99, DAY_BEFORE, SKIP_NO_CUSTOMER),
        (None, DAY_BEFORE, SKIP_NO_CUSTOMER),
    ],
)
def test_customers_who_cannot_be_reached(customer_id: Any, rule: ReminderRule, reason: str):
    result = plan([appointment(11, local(2025, 6, 3, 10), customer_id=customer_id)], [rule])
    assert result.messages == []
    key = f"b7:a11:reminder:{rule.channel}:2025-06-02T08:00:00Z"
    assert result.skipped == [Skipped(11, customer_id, rule.channel, "reminder", reason, key)]


def test_an_opted_out_customer_is_skipped_with_that_reason() -> None:
    result = plan([appointment(11, local(2025, 6, 3, 10), customer_id=5)], [EMAIL_DAY_BEFORE])
    assert reasons(result) == [SKIP_EMAIL_OPTED_OUT]


def test_a_cancelled_appointment_is_reported_not_planned() -> None:
    result = plan([appointment(11, local(2025, 6, 3, 10), "cancelled")], [DAY_BEFORE])
    assert (result.messages, reasons(result)) == ([], [SKIP_CANCELLED])


def test_confirmed_are_planned_and_finished_or_past_appointments_ignored() -> None:
    start = local(2025, 6, 3, 10)
    appointments = [appointment(1, start, "confirmed"), appointment(2, start, "completed")]
    appointments += [appointment(3, start, "no_show"), appointment(4, local(2025, 6, 1, 11))]
    result = plan(appointments, [DAY_BEFORE])
    assert [m.appointment_id for m in result.messages] == [1]
    assert result.skipped == []


def test_already_reminded_and_duplicate_rules_are_skipped() -> None:
    key = "b7:a11:reminder:sms:2025-06-02T08:00:00Z"
    start = local(2025, 6, 3, 10)
    assert reasons(plan([appointment(11, start)], [DAY_BEFORE], already={key})) == [
        SKIP_ALREADY_REMINDED
    ]
    twice = plan([appointment(11, start)], [DAY_BEFORE, DAY_BEFORE])
    assert len(twice.messages) == 1 and reasons(twice) == [SKIP_ALREADY_REMINDED]


def test_quiet_hours_skip_when_no_time_before_the_appointment_is_left() -> None:
    start = local(2025, 6, 3, 8)
    result = plan([appointment(11, start)], [TWO_HOURS], quiet=NIGHT, now=local(2025, 6, 2, 23))
    assert (result.messages, reasons(result)) == ([], [SKIP_QUIET_HOURS])


def test_a_send_time_long_past_is_skipped() -> None:
    start = local(2025, 6, 1, 13)  # booked an hour ahead: both reminders are too late
    result = plan([appointment(11, start)], [DAY_BEFORE, TWO_HOURS])
    assert (result.messages, reasons(result)) == ([], [SKIP_TOO_LATE, SKIP_TOO_LATE])


def test_summary_counts_by_channel_and_reason() -> None:
    start = local(2025, 6, 3, 10)
    appointments = [appointment(1, start), appointment(2, start, customer_id=2)]
    appointments += [appointment(3, start, customer_id=2), appointment(4, start, "cancelled")]
    summary = summarise(plan(appointments, [DAY_BEFORE, EMAIL_DAY_BEFORE]))
    assert summary == PlanSummary(
        planned=4,
        skipped=4,
        planned_by_channel={"email": 3, "sms": 1},
        skipped_by_reason={SKIP_NO_SMS_CONSENT: 2, SKIP_CANCELLED: 2},
    )
    assert list(summary.skipped_by_reason) == [SKIP_NO_SMS_CONSENT, SKIP_CANCELLED]


# --- plan_withdrawals -------------------------------------------------------------------


def queued_rows(result: Plan, status: str = "queued") -> list[dict[str, Any]]:
    return [
        {"id": 100 + i, "appointment_id": m.appointment_id, "idempotency_key": m.idempotency_key}
        | {"scheduled_at": m.scheduled_at, "status": status}
        for i, m in enumerate(result.messages)
    ]


def withdrawals(rows: list[dict[str, Any]], appointments: list[dict[str, Any]], rules=None):
    rules = [DAY_BEFORE, TWO_HOURS] if rules is None else rules
    return plan_withdrawals(rows, appointments, rules=rules, business=BUSINESS)


def test_nothing_is_withdrawn_while_the_appointment_is_unchanged() -> None:
    booked = [appointment(11, local(2025, 6, 3, 10))]
    rows = queued_rows(plan(booked, [DAY_BEFORE, TWO_HOURS], quiet=NIGHT))
    assert len(rows) == 2 and withdrawals(rows, booked) == []


def test_a_cancelled_appointment_withdraws_its_queued_reminders() -> None:
    start = local(2025, 6, 3, 10)
    rows = queued_rows(plan([appointment(11, start)], [DAY_BEFORE, TWO_HOURS]))
    assert withdrawals(rows, [appointment(11, start, "cancelled")]) == [
        (100, WITHDRAW_CANCELLED),
        (101, WITHDRAW_CANCELLED),
    ]


def test_a_reschedule_withdraws_the_old_reminder_and_plans_a_new_key() -> None:
    rows = queued_rows(plan([appointment(11, local(2025, 6, 3, 10))], [DAY_BEFORE]))
    moved = [appointment(11, local(2025, 6, 3, 15))]
    assert withdrawals(rows, moved) == [(100, WITHDRAW_RESCHEDULED)]
    fresh = plan(moved, [DAY_BEFORE], already={row["idempotency_key"] for row in rows})
    assert [m.scheduled_at for m in fresh.messages] == [local(2025, 6, 2, 15)]


def test_other_withdrawal_reasons() -> None:
    start = local(2025, 6, 3, 10)
    rows = queued_rows(plan([appointment(11, start)], [DAY_BEFORE]))
    assert withdrawals(rows, []) == [(100, WITHDRAW_MISSING)]
    assert withdrawals(rows, [appointment(11, start, "completed")]) == [
        (100, WITHDRAW_NOT_UPCOMING)
    ]
    assert withdrawals(rows, [appointment(11, start)], rules=[EMAIL_DAY_BEFORE]) == [
        (100, WITHDRAW_RULE_REMOVED)
    ]
    # An SMS reminder rule with another offset no longer gives this key: as if rescheduled.
    assert withdrawals(rows, [appointment(11, start)], rules=[TWO_HOURS]) == [
        (100, WITHDRAW_RESCHEDULED)
    ]


def test_rows_that_are_not_our_waiting_reminders_are_left_alone() -> None:
    cancelled = [appointment(11, local(2025, 6, 3, 10), "cancelled")]
    sent = queued_rows(plan([appointment(11, local(2025, 6, 3, 10))], [DAY_BEFORE]), "sent")
    campaign = {"id": 1, "appointment_id": 11, "status": "queued"}
    others = [
        campaign | {"idempotency_key": "b7:c3:a11:reminder:sms:2025-06-02T08:00:00Z"},
        campaign | {"idempotency_key": "b8:a11:reminder:sms:2025-06-02T08:00:00Z"},
        campaign | {"idempotency_key": "b7:a11:cancellation:sms:2025-06-02T08:00:00Z"},
    ]
    assert withdrawals(sent + others, cancelled) == []


# --- properties ---------------------------------------------------------------------------

starts = st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
offsets = st.one_of(
    st.integers(1, 4).map(lambda days: timedelta(days=days)),
    st.integers(1, 47 * 60).map(lambda minutes: timedelta(minutes=minutes)),
)
clock = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@given(start=starts, offset=offsets)
def test_the_send_time_is_always_before_the_appointment(start: datetime, offset: timedelta):
    send = compute_send_time(start, ReminderRule("sms", offset), timezone=TZ)
    assert send < start and send.tzinfo is UTC


@given(start=starts, days=st.integers(1, 4))
def test_whole_days_keep_the_local_wall_clock_time_where_it_exists(start: datetime, days: int):
    send = compute_send_time(start, ReminderRule("sms", timedelta(days=days)), timezone=TZ)
    wanted = start.astimezone(BERLIN).replace(tzinfo=None) - timedelta(days=days)
    exists = wanted.replace(tzinfo=BERLIN).astimezone(UTC).astimezone(BERLIN) == wanted.replace(
        tzinfo=BERLIN
    )
    got = send.astimezone(BERLIN).replace(tzinfo=None)
    assert got == wanted if exists else timedelta(0) < got - wanted <= timedelta(hours=1)


@given(start=starts, minutes=st.integers(1, 24 * 60 - 1))
def test_sub_day_offsets_are_real_time(start: datetime, minutes: int):
    rule = ReminderRule("sms", timedelta(minutes=minutes))
    assert start - compute_send_time(start, rule, timezone=TZ) == timedelta(minutes=minutes)


@given(start=starts, offset=offsets, quiet_start=clock, quiet_end=clock, lead=offsets)
def test_quiet_hours_moves_stay_before_the_appointment_and_outside_quiet_hours(
    start: datetime, offset: timedelta, quiet_start: time, quiet_end: time, lead: timedelta
):
    quiet, now = QuietHours(quiet_start, quiet_end), start - lead
    nominal = compute_send_time(start, ReminderRule("sms", offset), timezone=TZ)
    moved = quiet_move(nominal, start, now, quiet)
    if not quiet.contains(nominal.astimezone(BERLIN).time()):
        assert moved == nominal
    elif moved is not None:
        assert moved < start and not quiet.contains(moved.astimezone(BERLIN).time())
        assert moved > now if moved < nominal else moved > nominal


@given(
    start=starts.filter(lambda s: s.astimezone(BERLIN).time() >= time(9)),
    hours_ahead=st.integers(3, 24 * 5),
)
def test_plans_at_different_times_agree_on_keys(start: datetime, hours_ahead: int) -> None:
    appointments, rules = [appointment(11, start)], [DAY_BEFORE, TWO_HOURS, EMAIL_DAY_BEFORE]
    horizon = timedelta(days=10)
    early = plan(appointments, rules, now=start - timedelta(days=6), horizon=horizon, quiet=NIGHT)
    late = plan(
        appointments, rules, now=start - timedelta(hours=hours_ahead), horizon=horizon, quiet=NIGHT
    )
    early_keys = {m.idempotency_key for m in early.messages}
    assert {m.idempotency_key for m in late.messages} <= early_keys
    assert all(m.scheduled_at < start for m in early.messages + late.messages)
    rebuilt = {
        build_idempotency_key(7, 11, r.kind, r.channel, compute_send_time(start, r, timezone=TZ))
        for r in rules
    }
    assert early_keys == rebuilt

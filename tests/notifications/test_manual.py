"""Hand-picked sends: keys, skip reasons, quiet hours, the stable send id, rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from notifications.contacts import SKIP_NO_EMAIL_CONSENT, SKIP_NO_PHONE, SKIP_SMS_OPTED_OUT
from notifications.manual import (
    SKIP_NOT_UPCOMING,
    SKIP_TEMPLATE,
    build_manual_key,
    build_manual_rows,
    build_send_id,
    plan_manual_messages,
)
from notifications.planning import (
    SKIP_ALREADY_REMINDED,
    SKIP_CANCELLED,
    SKIP_NO_CUSTOMER,
    SKIP_QUIET_HOURS,
    BusinessContext,
    QuietHours,
)
from notifications.templates import DEFAULT_TEMPLATES

BUSINESS = BusinessContext(7, "Europe/Berlin", "DE")
NOW = datetime(2025, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
TOMORROW = NOW + timedelta(days=1)
QUIET = QuietHours(time(21), time(8))
CUSTOMERS: dict[int, dict[str, Any]] = {
    1: {"first_name": "Lena", "phone": "+4915123456789", "email": "lena@example.com",
        "sms_opt_in": True, "email_opt_in": True},
    2: {"first_name": "Tom", "phone": "+4915123456780", "sms_opt_in": False,
        "sms_opt_in_at": NOW - timedelta(days=3)},
    3: {"first_name": "Ana", "phone": "030 1234567", "sms_opt_in": True},  # a landline
}  # fmt: skip


def _appointment(id_: int, customer: int | None, *, status: str = "booked",
                 start: datetime = TOMORROW) -> dict[str, Any]:  # fmt: skip
    return {"id": id_, "customer_id": customer, "starts_at": start, "status": status,
            "service_name": "Cut", "staff_name": "Mara"}  # fmt: skip


def _plan(appointments: list[dict[str, Any]], **kw: Any):  # type: ignore[no-untyped-def]
    options: dict[str, Any] = {"business": BUSINESS, "channel": "sms", "send_id": "abc",
                               "now": NOW} | kw  # fmt: skip
    return plan_manual_messages(appointments, CUSTOMERS, **options)


def test_a_reachable_customer_gets_a_manual_key_and_is_sent_now() -> None:
    plan = _plan([_appointment(10, 1)])
    [message] = plan.messages
    assert message.idempotency_key == "b7:mabc:a10:sms" == build_manual_key(7, "abc", 10, "sms")
    assert (message.recipient, message.customer_id, message.scheduled_at) == (
        "+4915123456789", 1, NOW)  # fmt: skip
    assert plan.skipped == []


def test_every_skip_reason() -> None:
    appointments = [
        _appointment(1, 1, status="cancelled"),
        _appointment(2, 1, status="completed"),
        _appointment(3, 1, start=NOW - timedelta(minutes=5)),
        _appointment(4, None),
        _appointment(5, 2),
        _appointment(6, 3),
        _appointment(7, 1),
        _appointment(8, 99),
    ]
    plan = _plan(appointments, already={"b7:mabc:a7:sms"})
    reasons = {skip.appointment_id: skip.reason for skip in plan.skipped}
    assert reasons == {
        1: SKIP_CANCELLED, 2: SKIP_NOT_UPCOMING, 3: SKIP_NOT_UPCOMING, 4: SKIP_NO_CUSTOMER,
        5: SKIP_SMS_OPTED_OUT, 6: SKIP_NO_PHONE, 7: SKIP_ALREADY_REMINDED, 8: SKIP_NO_CUSTOMER,
    }  # fmt: skip
    assert plan.messages == []


def test_an_appointment_reminded_by_another_send_or_rule_is_already_reminded() -> None:
    appointments = [_appointment(10, 1), _appointment(11, 1), _appointment(12, 1)]
    reminded = {
        (10, "sms", "reminder"),  # the automatic 24 h SMS is queued or out
        (11, "email", "reminder"),  # another channel: still due by SMS
        (12, "sms", "confirmation"),  # another kind: still due
    }
    plan = _plan(appointments, reminded=reminded)
    assert [(s.appointment_id, s.reason) for s in plan.skipped] == [(10, SKIP_ALREADY_REMINDED)]
    assert [m.appointment_id for m in plan.messages] == [11, 12]
    assert [m.appointment_id for m in _plan(appointments, reminded=reminded,
                                            kind="confirmation").messages] == [10, 11]  # fmt: skip


def test_email_channel_checks_email_consent() -> None:
    plan = _plan([_appointment(1, 1), _appointment(2, 3)], channel="email")
    assert [m.recipient for m in plan.messages] == ["lena@example.com"]
    assert [s.reason for s in plan.skipped] == [SKIP_NO_EMAIL_CONSENT]
    assert plan.messages[0].idempotency_key.endswith(":a1:email")


def test_quiet_hours_skip_everything_in_the_business_zone() -> None:
    at_night = datetime(2025, 3, 10, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    plan = _plan([_appointment(1, 1, start=at_night + timedelta(days=1))], now=at_night,
                 quiet=QUIET)  # fmt: skip
    assert plan.messages == [] and [s.reason for s in plan.skipped] == [SKIP_QUIET_HOURS]
    noon = _plan([_appointment(1, 1)], quiet=QUIET)  # 12:00 Berlin: outside
    assert len(noon.messages) == 1
    early = datetime(2025, 3, 10, 6, 30, tzinfo=UTC)  # 07:30 Berlin (06:30 UTC): quiet
    assert _plan([_appointment(1, 1)], now=early, quiet=QUIET).messages == []


def test_a_repeated_appointment_is_planned_once() -> None:
    plan = _plan([_appointment(1, 1), _appointment(1, 1)])
    assert len(plan.messages) == 1
    assert [s.reason for s in plan.skipped] == [SKIP_ALREADY_REMINDED]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        _plan([], channel="fax")
    with pytest.raises(ValueError, match="tz-aware"):
        _plan([], now=datetime(2025, 3, 10, 12))  # noqa: DTZ001 - the naive case on purpose


def test_send_id_is_stable_and_changes_with_any_input() -> None:
    base: dict[str, Any] = {"template_id": 3, "variant": "A", "appointment_ids": [5, 1, 9],
                            "local_date": date(2025, 3, 10)}  # fmt: skip
    send_id = build_send_id(**base)
    assert len(send_id) == 10 and send_id.isalnum()
    assert build_send_id(**base | {"appointment_ids": [9, 5, 1, 1]}) == send_id
    for change in ({"template_id": 4}, {"variant": "B"}, {"appointment_ids": [5, 1]},
                   {"local_date": date(2025, 3, 11)}):  # fmt: skip
        assert build_send_id(**base | change) != send_id


def test_pressing_send_twice_plans_nothing_the_second_time() -> None:
    send_id = build_send_id(template_id=1, variant="A", appointment_ids=[1, 2],
                            local_date=date(2025, 3, 10))  # fmt: skip
    appointments = [_appointment(1, 1), _appointment(2, 1)]
    first = _plan(appointments, send_id=send_id)
    keys = {m.idempotency_key for m in first.messages}
    again = _plan(appointments, send_id=send_id, already=keys)
    assert len(keys) == 2 and again.messages == []
    assert {s.reason for s in again.skipped} == {SKIP_ALREADY_REMINDED}


def test_rows_are_rendered_in_the_business_zone() -> None:
    template = {"id": 4, "variant": "B", "subject": None,
                "body": DEFAULT_TEMPLATES["reminder", "sms"].body}  # fmt: skip
    appointments = [_appointment(1, 1)]
    plan = _plan(appointments)
    business = {"name": "Studio", "timezone": "Europe/Berlin"}
    rows, failed = build_manual_rows(plan, {1: appointments[0]}, CUSTOMERS, business=business,
                                     template=template)  # fmt: skip
    [row] = rows
    assert failed == []
    assert "Hi Lena" in row["body"] and "at 12:00" in row["body"]  # 11:00 UTC in March
    assert (row["template_id"], row["variant"], row["template_kind"]) == (4, "B", "reminder")
    assert row["idempotency_key"] == "b7:mabc:a1:sms" and row["subject"] is None


def test_a_template_error_skips_the_message() -> None:
    template = {"id": 4, "variant": "A", "subject": None, "body": "Hi {{ nickname }}"}
    appointments = [_appointment(1, 1)]
    rows, failed = build_manual_rows(_plan(appointments), {1: appointments[0]}, CUSTOMERS,
                                     business={"name": "S", "timezone": "UTC"},
                                     template=template)  # fmt: skip
    assert rows == [] and [s.reason for s in failed] == [SKIP_TEMPLATE]

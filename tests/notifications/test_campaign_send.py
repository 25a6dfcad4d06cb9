"""Campaign sends: keys, skip reasons and their precedence, the A/B split, rendering."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from notifications.campaign_send import (
    SKIP_ALREADY_SENT,
    SKIP_BOOKED_AGAIN,
    SKIP_TEMPLATE,
    build_campaign_key,
    build_campaign_rows,
    plan_campaign_messages,
)
from notifications.contacts import SKIP_EMAIL_OPTED_OUT, SKIP_NO_PHONE, SKIP_NO_SMS_CONSENT
from notifications.planning import SKIP_NO_CUSTOMER, SKIP_QUIET_HOURS, BusinessContext, QuietHours

BUSINESS = BusinessContext(7, "Europe/Berlin", "DE")
BUSINESS_ROW = {"name": "Salon Nord", "timezone": "Europe/Berlin"}
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
CUSTOMERS: dict[int, dict[str, Any]] = {
    1: {"first_name": "Lena", "phone": "+4915123456789", "email": "lena@example.com",
        "sms_opt_in": True, "email_opt_in": True},
    2: {"first_name": "Tom", "phone": "+4915123456780", "sms_opt_in": False},
    3: {"first_name": "Ana", "phone": "030 1234567", "sms_opt_in": True},  # a landline
    4: {"first_name": "Eva", "email": "eva@example.com", "email_opt_in": False,
        "email_opt_in_at": NOON - timedelta(days=1)},
    5: {"first_name": "Jon", "phone": "+4915123456781", "sms_opt_in": True},
}  # fmt: skip
TEMPLATE = {"id": 3, "kind": "win_back", "variant": "A", "subject": None,
            "body": "Hi {{ first_name }}, we miss you at {{ business_name }}!"}  # fmt: skip


def _plan(ids: list[int], **kw: Any):  # type: ignore[no-untyped-def]
    options: dict[str, Any] = {"business": BUSINESS, "campaign_id": 9, "channel": "sms",
                               "now": NOON} | kw  # fmt: skip
    return plan_campaign_messages(ids, CUSTOMERS, **options)


def test_a_reachable_customer_gets_the_campaign_key() -> None:
    plan = _plan([1])
    [message] = plan.messages
    assert message.idempotency_key == "b7:c9:u1:sms" == build_campaign_key(7, 9, 1, "sms")
    assert (message.customer_id, message.recipient) == (1, "+4915123456789")
    assert plan.skipped == []


def test_every_skip_reason_and_a_repeated_id_planned_once() -> None:
    plan = _plan([1, 2, 3, 5, 99, 1], already={"b7:c9:u5:sms"})
    reasons = {skip.customer_id: skip.reason for skip in plan.skipped}
    assert reasons == {2: SKIP_NO_SMS_CONSENT, 3: SKIP_NO_PHONE, 5: SKIP_ALREADY_SENT,
                       99: SKIP_NO_CUSTOMER}  # fmt: skip
    assert [m.customer_id for m in plan.messages] == [1]
    email = _plan([1, 4], channel="email")
    assert [s.reason for s in email.skipped] == [SKIP_EMAIL_OPTED_OUT]


def test_a_win_back_skips_who_has_booked_again_but_other_kinds_do_not() -> None:
    assert [s.reason for s in _plan([1], booked={1}).skipped] == [SKIP_BOOKED_AGAIN]
    assert _plan([1], booked={1}, kind="announcement").messages


def test_quiet_hours_skip_everyone_but_a_missing_customer_stays_missing() -> None:
    late = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    plan = _plan([1, 99], now=late, quiet=QuietHours(time(21), time(8)))
    assert [(s.customer_id, s.reason) for s in plan.skipped] == [
        (1, SKIP_QUIET_HOURS), (99, SKIP_NO_CUSTOMER)]  # fmt: skip


def test_unknown_channel_and_naive_time_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        _plan([1], channel="fax")
    with pytest.raises(ValueError):
        _plan([1], now=datetime(2026, 3, 10, 12, 0))


def test_rows_are_rendered_with_contact_variables_and_tied_to_the_campaign() -> None:
    rows, failed = build_campaign_rows(_plan([1]), CUSTOMERS, business=BUSINESS_ROW,
                                       templates=[TEMPLATE], campaign_id=9, now=NOON)  # fmt: skip
    assert failed == []
    [row] = rows
    assert row["body"] == "Hi Lena, we miss you at Salon Nord!"
    assert (row["campaign_id"], row["customer_id"], row["template_kind"], row["variant"]) == (
        9, 1, "win_back", "A")  # fmt: skip
    assert row["idempotency_key"] == "b7:c9:u1:sms" and row["scheduled_at"] == NOON
    assert "appointment_id" not in row


def test_a_template_error_skips_that_message_only() -> None:
    broken = {**TEMPLATE, "body": "Hi {{ first_name }} {{ service }}"}  # no service here
    rows, failed = build_campaign_rows(_plan([1]), CUSTOMERS, business=BUSINESS_ROW,
                                       templates=[broken], campaign_id=9, now=NOON)  # fmt: skip
    assert rows == [] and [(f.customer_id, f.reason) for f in failed] == [(1, SKIP_TEMPLATE)]


def test_an_ab_split_is_even_random_and_stable() -> None:
    many = {i: {"first_name": f"C{i}", "phone": f"+49151{i:08d}", "sms_opt_in": True}
            for i in range(1, 401)}  # fmt: skip
    plan = plan_campaign_messages(list(many), many, business=BUSINESS, campaign_id=9,
                                  channel="sms", now=NOON)  # fmt: skip
    templates = [TEMPLATE, {**TEMPLATE, "id": 4, "variant": "B", "body": "B {{ first_name }}"}]
    rows, _ = build_campaign_rows(plan, many, business=BUSINESS_ROW, templates=templates,
                                  campaign_id=9, now=NOON)  # fmt: skip
    split = Counter(row["variant"] for row in rows)
    assert set(split) == {"A", "B"} and 160 <= split["A"] <= 240  # an even split of 400
    assert all(row["body"].startswith("B ") == (row["variant"] == "B") for row in rows)
    flipped = list(reversed(templates))
    again, _ = build_campaign_rows(plan, many, business=BUSINESS_ROW, templates=flipped,
                                   campaign_id=9, now=NOON)  # fmt: skip
    assert [r["variant"] for r in again] == [r["variant"] for r in rows]  # order-independent
    with pytest.raises(ValueError):
        build_campaign_rows(plan, many, business=BUSINESS_ROW, templates=[], campaign_id=9,
                            now=NOON)  # fmt: skip

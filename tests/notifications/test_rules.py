"""Reminder rules as stored on the business: defaults, validation and labels."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from data.schema import DEFAULT_REMINDER_RULES
from notifications.rules import (
    RuleSetting,
    active_rules,
    dump_rule_settings,
    parse_rule_settings,
)


def test_the_shipped_default_reminds_a_day_before_by_sms_and_e_mail() -> None:
    settings = parse_rule_settings(DEFAULT_REMINDER_RULES)
    assert [s.label for s in settings] == [
        "24 h before by SMS", "24 h before by e-mail", "2 h before by SMS"
    ]  # fmt: skip
    rules = active_rules(settings)
    assert [(r.channel, r.offset) for r in rules] == [
        ("sms", timedelta(days=1)), ("email", timedelta(days=1))
    ]  # fmt: skip
    assert dump_rule_settings(settings) == json.loads(DEFAULT_REMINDER_RULES)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"channel": "sms"}, "must be a list"),
        ([{"channel": "fax", "offset_minutes": 60}], "channel must be one of"),
        ([{"channel": "sms", "offset_minutes": "60"}], "whole number"),
        ([{"channel": "sms", "offset_minutes": True}], "whole number"),
        ([{"channel": "sms", "offset_minutes": 5}], "between 15 minutes and 14 days"),
        ([{"channel": "sms", "offset_minutes": 60}] * 2, "set up twice"),
        ([{"channel": "sms", "offset_minutes": 60 + i} for i in range(7)], "at most 6"),
        (["sms"], "expected an object"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_named(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rule_settings(raw)


def test_labels_read_naturally() -> None:
    assert RuleSetting("email", 2880).label == "2 days before by e-mail"
    assert RuleSetting("sms", 90).label == "90 min before by SMS"
    assert RuleSetting("sms", 180, active=False).label == "3 h before by SMS"

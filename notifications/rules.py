"""A business's automatic reminder rules (businesses.reminder_rules), read and checked.
Pure.

Stored as a JSON list of {"channel": "sms"|"email", "offset_minutes": int, "active": bool}.
An offset of whole days (1440, 2880 minutes) keeps the appointment's local time, across
DST too; anything else is real time before the start (notifications.planning).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from notifications.contacts import CHANNELS
from notifications.planning import ReminderRule

MIN_OFFSET_MINUTES = 15
MAX_OFFSET_MINUTES = 14 * 24 * 60
MAX_RULES = 6


@dataclass(frozen=True)
class RuleSetting:
    channel: str
    offset_minutes: int
    active: bool = True

    @property
    def label(self) -> str:
        """ "24 h before by SMS", "2 days before by e-mail"."""
        minutes = self.offset_minutes
        if minutes % 1440 == 0:
            days = minutes // 1440
            span = "24 h" if days == 1 else f"{days} days"
        elif minutes % 60 == 0:
            span = f"{minutes // 60} h"
        else:
            span = f"{minutes} min"
        return f"{span} before by {'SMS' if self.channel == 'sms' else 'e-mail'}"

    def to_rule(self) -> ReminderRule:
        offset = timedelta(minutes=self.offset_minutes)
        return ReminderRule(channel=self.channel, offset=offset, name=self.label)


def parse_rule_settings(raw: Any) -> list[RuleSetting]:
    """The stored value (a JSON list, or its text) as settings; ValueError naming the first
    problem: an unknown channel, an offset outside 15 minutes to 14 days, a duplicate
    (channel, offset), or more than MAX_RULES rules."""
    items = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ValueError("reminder rules must be a list")
    if len(items) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} reminder rules")
    settings, seen = [], set()
    for number, item in enumerate(items, start=1):
        setting = _setting(item, number)
        if (setting.channel, setting.offset_minutes) in seen:
            raise ValueError(f"rule {number}: the same reminder is set up twice")
        seen.add((setting.channel, setting.offset_minutes))
        settings.append(setting)
    return settings


def _setting(item: Any, number: int) -> RuleSetting:
    if not isinstance(item, dict):
        raise ValueError(f"rule {number}: expected an object")
    channel, offset = item.get("channel"), item.get("offset_minutes")
    if channel not in CHANNELS:
        raise ValueError(f"rule {number}: channel must be one of {', '.join(CHANNELS)}")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise ValueError(f"rule {number}: offset_minutes must be a whole number")
    if not MIN_OFFSET_MINUTES <= offset <= MAX_OFFSET_MINUTES:
        raise ValueError(f"rule {number}: offset must be between 15 minutes and 14 days")
    return RuleSetting(channel, offset, bool(item.get("active", True)))


def active_rules(settings: Sequence[RuleSetting]) -> list[ReminderRule]:
    return [setting.to_rule() for setting in settings if setting.active]


def dump_rule_settings(settings: Sequence[RuleSetting]) -> list[dict[str, Any]]:
    return [
        {"channel": s.channel, "offset_minutes": s.offset_minutes, "active": s.active}
        for s in settings
    ]

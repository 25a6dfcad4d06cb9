"""Reminder effectiveness for one business and period: the outcomes read by
data/notification_stats, summarised by analytics/reminder_effect. No Streamlit: the
notification history caches this through ui/notification_history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from analytics.reminder_effect import MIN_GROUP, ReminderEffect, summarise
from auth.roles import Actor
from data.notification_stats import load_reminder_outcomes


def build_reminder_effect(
    conn: Connection,
    *,
    actor: Actor,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
    min_group: int = MIN_GROUP,
) -> ReminderEffect:
    """The by-variant, by-channel and by-timing tables of the appointments that started
    in [since, min(until, now)). Needs VIEW_ANALYTICS or MANAGE_BOOKINGS (read-only)."""
    outcomes = load_reminder_outcomes(conn, actor=actor, since=since, until=until, now=now)
    return summarise(outcomes, min_group=min_group)

"""Reminder effectiveness on hand-built outcome frames: rates, timing buckets, the
baseline row, Wilson bounds, the small-group flag and multi-channel counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.reminder_effect import (
    NO_REMINDER,
    NO_VARIANT,
    RATE_COLUMNS,
    TIMING_LABELS,
    build_timing,
    summarise,
    wilson_interval,
)

START = datetime(2025, 3, 10, 9, tzinfo=UTC)
COLUMNS = ["appointment_id", "status", "starts_at", "channel", "variant", "sent_at"]


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(appointment id, status, channel, variant, hours before the start it was sent)."""
    records = [
        (i, status, START, channel, variant,
         None if hours is None else START - timedelta(hours=hours))
        for i, status, channel, variant, hours in rows
    ]  # fmt: skip
    table = pd.DataFrame(records, columns=COLUMNS)
    for column in ("starts_at", "sent_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    return table


def row(table: pd.DataFrame, **keys: str) -> pd.Series:
    mask = np.logical_and.reduce([table[k] == v for k, v in keys.items()])
    [index] = table.index[mask]
    return table.loc[index]


def test_rates_per_channel_with_the_baseline_last() -> None:
    outcomes = frame([
        (1, "completed", "sms", "A", 24), (2, "no_show", "sms", "A", 24),
        (3, "cancelled", "sms", "B", 24), (4, "confirmed", "sms", "B", 24),
        (5, "completed", None, None, None), (6, "no_show", None, None, None),
        (7, "no_show", None, None, None), (8, "booked", None, None, None),
    ])  # fmt: skip
    effect = summarise(outcomes)
    table = effect.by_channel
    assert list(table.columns) == ["channel", *RATE_COLUMNS]
    assert list(table["channel"]) == ["sms", NO_REMINDER]
    sms = row(table, channel="sms")
    assert sms["appointments"] == 4
    assert sms["confirmed_or_completed_rate"] == pytest.approx(2 / 4)
    assert sms["cancellation_rate"] == pytest.approx(1 / 4)
    assert sms["no_show_rate"] == pytest.approx(1 / 2)  # no-shows / (completed + no-shows)
    base = row(table, channel=NO_REMINDER)
    assert base["appointments"] == 4 and base["cancellation_rate"] == 0
    assert base["no_show_rate"] == pytest.approx(2 / 3)
    assert base["confirmed_or_completed_rate"] == pytest.approx(1 / 4)
    assert table["too_few"].all()  # every group is under 30


def test_an_appointment_reminded_on_two_channels_counts_once_in_each() -> None:
    outcomes = frame([
        (1, "no_show", "sms", "A", 24), (1, "no_show", "sms", "A", 2),
        (1, "no_show", "email", "A", 24), (2, "completed", "email", "B", 24),
    ])  # fmt: skip
    effect = summarise(outcomes)
    counts = effect.by_channel.set_index("channel")["appointments"].to_dict()
    assert counts == {"email": 2, "sms": 1, NO_REMINDER: 0}
    variants = effect.by_variant.set_index(["channel", "variant"])["appointments"].to_dict()
    assert variants == {("email", "A"): 1, ("email", "B"): 1, ("sms", "A"): 1,
                        (NO_REMINDER, NO_VARIANT): 0}  # fmt: skip
    timing = effect.by_timing.set_index("timing")["appointments"].to_dict()
    assert timing == {"< 3 h": 1, "12–36 h": 2, NO_REMINDER: 0}  # appointment 1 in both
    assert np.isnan(row(effect.by_channel, channel=NO_REMINDER)["no_show_rate"])


def test_variants_are_grouped_within_their_channel_and_missing_ones_named() -> None:
    outcomes = frame([(1, "completed", "sms", "A", 24), (2, "completed", "email", "A", 24),
                      (3, "no_show", "sms", None, 24)])  # fmt: skip
    table = summarise(outcomes).by_variant
    assert list(zip(table["channel"], table["variant"], strict=True)) == [
        ("email", "A"),
        ("sms", "A"),
        ("sms", NO_VARIANT),
        (NO_REMINDER, NO_VARIANT),
    ]


def test_timing_buckets_have_inclusive_lower_edges() -> None:
    hours = [0.5, 2.99, 3, 11.99, 12, 35.99, 36, 72, -1]
    starts = pd.Series([START] * len(hours))
    sent = pd.Series([START - timedelta(hours=h) for h in hours])
    assert build_timing(starts, sent).tolist() == [
        "< 3 h", "< 3 h", "3–12 h", "3–12 h", "12–36 h", "12–36 h", "> 36 h", "> 36 h", "< 3 h"
    ]  # fmt: skip
    outcomes = frame([(i, "completed", "sms", "A", h) for i, h in enumerate([40, 1, 20, 5])])
    assert list(summarise(outcomes).by_timing["timing"]) == [*TIMING_LABELS, NO_REMINDER]


def test_wilson_interval_known_values() -> None:
    low, high = wilson_interval(np.array([0, 5, 10, 3]), np.array([10, 10, 10, 0]))
    assert low[0] == 0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert low[2] == pytest.approx(0.7225, abs=1e-4) and high[2] == pytest.approx(1)
    assert np.isnan(low[3]) and np.isnan(high[3])


def test_the_interval_narrows_and_the_flag_clears_with_enough_appointments() -> None:
    rows = [(i, "no_show" if i % 10 == 0 else "completed", "sms", "A", 24) for i in range(40)]
    rows += [(100 + i, "no_show" if i < 2 else "completed", None, None, None) for i in range(10)]
    table = summarise(frame(rows)).by_channel.set_index("channel")
    sms, base = table.loc["sms"], table.loc[NO_REMINDER]
    assert sms["no_show_rate"] == pytest.approx(0.1)
    assert sms["no_show_low"] < 0.1 < sms["no_show_high"]
    assert (sms["too_few"], base["too_few"]) == (False, True)
    assert sms["no_show_high"] - sms["no_show_low"] < base["no_show_high"] - base["no_show_low"]
    assert summarise(frame(rows), min_group=5).by_channel["too_few"].tolist() == [False, False]


def test_no_appointments_gives_only_an_empty_baseline() -> None:
    effect = summarise(frame([]))
    for table in (effect.by_variant, effect.by_channel, effect.by_timing):
        assert len(table) == 1 and table["appointments"].tolist() == [0]
        assert table["too_few"].tolist() == [True] and table["no_show_rate"].isna().all()


def test_the_baseline_keeps_only_appointments_a_reminder_could_have_reached() -> None:
    outcomes = frame([(1, "no_show", "sms", "A", 24.0), (2, "no_show", None, None, None),
                      (3, "completed", None, None, None), (4, "completed", None, None, None),
                      (5, "completed", None, None, None)])  # fmt: skip
    booked = {1: 240, 2: 72, 3: 2, 4: 200, 5: 48}  # hours between booking and the start
    outcomes["created_at"] = [
        START - timedelta(hours=booked[i]) for i in outcomes["appointment_id"]
    ]
    outcomes["source"] = ["online", "phone", "phone", "walk_in", "staff"]
    base = row(summarise(outcomes).by_channel, channel=NO_REMINDER)
    # 3 was booked 2 h ahead and 4 walked in: neither could get a 24 h reminder
    assert base["appointments"] == 2 and base["no_show_rate"] == pytest.approx(0.5)
    without = summarise(outcomes.drop(columns=["created_at", "source"]))
    assert row(without.by_channel, channel=NO_REMINDER)["appointments"] == 4

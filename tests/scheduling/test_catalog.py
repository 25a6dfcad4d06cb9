"""Validation of staff, services, working hours and time off, including DST edges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from scheduling.business import first_error
from scheduling.catalog import (
    WEEKDAYS,
    ServiceInput,
    Shift,
    StaffInput,
    TimeOffInput,
    build_week,
    format_money,
    normalise_phone,
    to_local,
    to_utc,
    validate_week,
    week_rows,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- DST -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "wall", "expected"),
    [
        ("Europe/Berlin", "2026-07-01 09:00", "2026-07-01 07:00"),  # CEST
        ("Europe/Berlin", "2026-01-15 09:00", "2026-01-15 08:00"),  # CET
        # autumn: 02:30 happens twice; the first occurrence (still CEST, +02:00)
        ("Europe/Berlin", "2026-10-25 02:30", "2026-10-25 00:30"),
        # spring: 02:30 does not exist; shifted forward to the jump (03:00 CEST)
        ("Europe/Berlin", "2026-03-29 02:30", "2026-03-29 01:00"),
        # southern hemisphere: April is autumn; first occurrence is AEDT (+11:00)
        ("Australia/Sydney", "2026-04-05 02:30", "2026-04-04 15:30"),
        # and October is spring: 02:00-03:00 is skipped, the jump is 16:00 UTC
        ("Australia/Sydney", "2026-10-04 02:30", "2026-10-03 16:00"),
        # a skipped midnight: "from 00:00" is the start of that day (01:00 local)
        ("America/Santiago", "2026-09-06 00:00", "2026-09-06 04:00"),
    ],
)
def test_to_utc(tz: str, wall: str, expected: str) -> None:
    assert to_utc(local(wall), tz) == utc(expected)


def test_gap_shifts_forward_to_first_existing_wall_time() -> None:
    assert to_local(to_utc(local("2026-03-29 02:30"), "Europe/Berlin"), "Europe/Berlin") == (
        local("2026-03-29 03:00")
    )
    # Lord Howe moves its clocks by 30 minutes only
    instant = to_utc(local("2026-10-04 02:10"), "Australia/Lord_Howe")
    assert to_local(instant, "Australia/Lord_Howe") == local("2026-10-04 02:30")


def test_to_utc_refuses_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        to_utc(utc("2026-01-01 09:00"), "Europe/Berlin")


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
    st.sampled_from(["Europe/Berlin", "Australia/Sydney", "America/New_York", "Asia/Kolkata"]),
)
def test_existing_wall_times_round_trip(wall: datetime, tz: str) -> None:
    instant = to_utc(wall, tz)
    assert instant.tzinfo is UTC
    back = to_local(instant, tz)
    if back != wall:  # only a nonexistent time may move, forward and by less than 2 hours
        assert timedelta(0) < back - wall <= timedelta(hours=2)


def test_time_off_range_in_utc() -> None:
    data = TimeOffInput(
        staff_id=3, start_local=local("2026-10-25 00:00"), end_local=local("2026-10-26 00:00")
    )
    start, end = data.utc_range("Europe/Berlin")
    assert (start, end) == (utc("2026-10-24 22:00"), utc("2026-10-25 23:00"))
    assert end - start == timedelta(hours=25)  # the long autumn day


def test_time_off_wholly_inside_a_gap_is_refused() -> None:
    data = TimeOffInput(start_local=local("2026-03-29 02:10"), end_local=local("2026-03-29 02:50"))
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        data.utc_range("Europe/Berlin")


@pytest.mark.parametrize("end", ["2026-05-01 09:00", "2026-05-01 08:00"])
def test_time_off_must_end_after_start(end: str) -> None:
    with pytest.raises(ValidationError) as info:
        TimeOffInput(start_local=local("2026-05-01 09:00"), end_local=local(end))
    assert first_error(info.value) == "the time off must end after it starts"


def test_time_off_refuses_aware_input() -> None:
    with pytest.raises(ValidationError, match="local wall-clock time"):
        TimeOffInput(start_local=utc("2026-05-01 09:00"), end_local=local("2026-05-01 10:00"))


# --- working hours -------------------------------------------------------------------


def shift(day: int, start: str, end: str) -> Shift:
    return Shift(weekday=day, start=time.fromisoformat(start), end=time.fromisoformat(end))


def test_split_shifts_are_allowed_and_sorted() -> None:
    week = validate_week([shift(0, "14:00", "18:00"), shift(0, "09:00", "12:00")])
    assert [s.describe() for s in week] == ["Mon 09:00-12:00", "Mon 14:00-18:00"]
    assert validate_week([shift(1, "09:00", "12:00"), shift(1, "12:00", "15:00")])


def test_overlapping_shifts_name_the_weekday() -> None:
    with pytest.raises(ValueError, match="Wednesday: 09:00-13:00 and 12:00-17:00 overlap"):
        validate_week([shift(2, "12:00", "17:00"), shift(2, "09:00", "13:00")])


@pytest.mark.parametrize("end", ["09:00", "08:00"])
def test_shift_must_end_after_start(end: str) -> None:
    with pytest.raises(ValidationError) as info:
        shift(4, "09:00", end)
    assert first_error(info.value) == f"Friday: 09:00-{end} must end after it starts"


def test_weekday_out_of_range() -> None:
    with pytest.raises(ValidationError):
        validate_week([{"weekday": 7, "start": time(9), "end": time(10)}])


minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def day_of_shifts(draw: st.DrawFn, day: int | None = None) -> list[Shift]:
    """Non-overlapping shifts on one weekday: sorted distinct cut points, paired up."""
    day = draw(st.integers(0, 6)) if day is None else day
    cuts = sorted(draw(st.sets(minutes, min_size=2, max_size=10)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [Shift(weekday=day, start=_t(a), end=_t(b)) for a, b in pairs]


@st.composite
def shuffled_week(draw: st.DrawFn) -> list[Shift]:
    shifts = [s for day in draw(st.sets(st.integers(0, 6))) for s in draw(day_of_shifts(day))]
    return draw(st.permutations(shifts))


def _t(minute: int) -> time:
    return time(minute // 60, minute % 60)


@given(shuffled_week())
def test_non_overlapping_shifts_always_validate(shifts: list[Shift]) -> None:
    week = validate_week(shifts)
    assert sorted(week, key=lambda s: (s.weekday, s.start)) == week
    assert sorted(week, key=repr) == sorted(shifts, key=repr)


@given(day_of_shifts(), st.integers(1, 60))
def test_stretching_a_shift_into_the_next_is_refused(day: list[Shift], overlap: int) -> None:
    if len(day) < 2:
        return
    first, second = day[0], day[1]
    stretched_end = min(24 * 60 - 1, second.start.hour * 60 + second.start.minute + overlap)
    stretched = Shift(weekday=first.weekday, start=first.start, end=_t(stretched_end))
    if stretched.end <= second.start:
        return
    with pytest.raises(ValueError, match=f"{WEEKDAYS[first.weekday]}: .* overlap"):
        validate_week([stretched, *day[1:]])


def test_build_week_from_editor_rows() -> None:
    rows = [
        {"weekday": "Tuesday", "start": "13:00", "end": time(17)},
        {"weekday": None, "start": None, "end": float("nan")},  # an empty added row
        {"weekday": "Monday", "start": time(9), "end": time(12, 30)},
    ]
    week = build_week(rows)
    assert [s.describe() for s in week] == ["Mon 09:00-12:30", "Tue 13:00-17:00"]
    assert build_week(week_rows(week)) == week


def test_build_week_names_the_half_filled_row() -> None:
    with pytest.raises(ValueError, match="row 2: pick a weekday"):
        build_week([{"weekday": "Monday", "start": time(9), "end": time(10)}, {"weekday": "x"}])
    with pytest.raises(ValueError, match="'nine' is not a time"):
        build_week([{"weekday": "Monday", "start": "nine", "end": time(10)}])


# --- services ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "cents"),
    [(Decimal("12.50"), 1250), ("45", 4500), (19.99, 1999), (0, 0), (Decimal("0.05"), 5)],
)
def test_price_to_cents(price: object, cents: int) -> None:
    assert ServiceInput(name="Cut", duration_min=30, price=price).price_cents == cents


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_min", 0, "greater than or equal to 5"),
        ("duration_min", 605, "less than or equal to 600"),
        ("duration_min", 42, "multiple of 5"),
        ("buffer_min", -5, "greater than or equal to 0"),
        ("buffer_min", 125, "less than or equal to 120"),
        ("price", Decimal("-1"), "greater than or equal to 0"),
        ("price", Decimal("1.005"), "2 decimal places"),
        ("name", "  ", "at least 1 character"),
    ],
)
def test_service_refusals(field: str, value: object, message: str) -> None:
    fields = {"name": "Cut", "duration_min": 30, "buffer_min": 0, "price": 10, field: value}
    with pytest.raises(ValidationError) as info:
        ServiceInput(**fields)
    assert first_error(info.value).startswith(f"{field}: ")
    assert message in first_error(info.value)


def test_format_money() -> None:
    assert format_money(123456, "EUR") == "€1,234.56"
    assert format_money(500, "sek") == "5.00 SEK"


# --- staff ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (30) 123-4567", "US", "+49301234567"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("0412 345 678", "AU", "+61412345678"),
        ("  ", "DE", None),
        (None, None, None),
    ],
)
def test_normalise_phone(raw: str | None, region: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("hello", "DE", "is not a phone number"),
        ("123", "DE", "is not a valid phone number"),
        ("030 1234567", None, r"start with \+ and the country code"),
    ],
)
def test_malformed_phone_refused(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_phone(raw, region)


def test_staff_input_normalises() -> None:
    data = StaffInput.from_form(
        region="DE",
        display_name="  Anna  ",
        email=" Anna@Example.COM ",
        phone="030 1234567",
        color="#abcdef",
        service_ids=[3, 1, 3],
    )
    assert data.display_name == "Anna"
    assert data.email == "Anna@example.com"
    assert data.phone == "+49301234567"
    assert data.color == "#ABCDEF"
    assert data.service_ids == [1, 3]
    assert StaffInput(display_name="Bo", email="", phone="").email is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "email: 'not-an-email' is not a valid e-mail address"),
        ("phone", "12", "phone: '12' is not a valid phone number"),
        ("color", "red", "color: 'red' is not a colour like #4C78A8"),
        ("display_name", "", "display_name: String should have at least 1 character"),
    ],
)
def test_staff_refusals_are_one_line(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        StaffInput.from_form(region="DE", **{"display_name": "Anna", field: value})
    assert first_error(info.value).startswith(message)

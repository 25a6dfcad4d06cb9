"""Reading single cells: dates, times, durations, prices, statuses, yes/no. Pure.

Each reader takes the stripped cell text and returns a value or raises ValueError with
a message that names the value and says what was expected.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from data.importer.mapping import STATUSES

EXAMPLE = datetime(2026, 5, 31, 14, 30)  # rendered with a format to show what it expects
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I %p", "%H.%M", "%Hh%M")
_MERIDIEM = re.compile(r"\s*([AaPp])\.?\s*[Mm]\.?$")
_MINUTES = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minutes?)?$", re.IGNORECASE)
_HOURS_MINUTES = re.compile(r"^(\d+):([0-5]\d)$")
_WORDS = re.compile(r"^(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?$", re.I)
_PRICE_NOISE = re.compile(r"[^\d.,\-()]")
_TRUE = {"y", "yes", "true", "1", "x", "on", "ja", "oui", "si", "sí"}
_FALSE = {"n", "no", "false", "0", "off", "nein", "non", "-"}
MAX_DURATION = timedelta(hours=24)
MAX_TAG_LENGTH = 40


def parse_datetime(raw: str, fmt: str) -> datetime:
    """A naive local datetime in `fmt` (a date alone is midnight)."""
    try:
        return datetime.strptime(raw, fmt)  # noqa: DTZ007 - local wall-clock time
    except (ValueError, re.error):  # re.error: a format that repeats a directive
        raise ValueError(
            f"'{raw}' does not match the date format {fmt} (e.g. {EXAMPLE.strftime(fmt)})"
        ) from None


#: Dates repeat down a file (a day's visits): remember the recent ones.
parse_date = lru_cache(maxsize=4096)(parse_datetime)


@lru_cache(maxsize=4096)
def parse_time(raw: str, fmt: str | None) -> time:
    """A time of day: with `fmt`, strictly; without, 24-hour or 12-hour forms."""
    formats = (fmt,) if fmt else TIME_FORMATS
    text = raw if fmt else _MERIDIEM.sub(lambda m: f" {m.group(1).upper()}M", raw)
    for candidate in formats:
        try:
            return datetime.strptime(text, candidate).time()  # noqa: DTZ007
        except (ValueError, re.error):
            continue
    expected = f"the time format {fmt}" if fmt else "a time like 14:30 or 2:30 PM"
    raise ValueError(f"'{raw}' is not {expected}")


def parse_duration(raw: str) -> timedelta:
    """Minutes ('45', '45 min'), hours and minutes ('1:15', '1h 15m')."""
    if match := _MINUTES.match(raw):
        minutes = float(match.group(1).replace(",", "."))
    elif match := _HOURS_MINUTES.match(raw):
        minutes = int(match.group(1)) * 60 + int(match.group(2))
    elif (match := _WORDS.match(raw)) and any(match.groups()):
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    else:
        raise ValueError(f"'{raw}' is not a duration like 45, 1:15 or 1h 15m")
    duration = timedelta(minutes=minutes)
    if not timedelta(0) < duration <= MAX_DURATION:
        raise ValueError(f"'{raw}': a duration must be more than 0 and at most 24 hours")
    return duration


def parse_price(raw: str, decimal_separator: str = "auto") -> int:
    """Minor units (cents) of '12.50', '12,50', '€ 1.234,50', '$1,234.50'; refuses negatives."""
    text = _PRICE_NOISE.sub("", raw)
    negative = text.startswith("-") or text.endswith("-") or text.startswith("(")
    text = text.strip("-()")
    separator = _decimal_separator(text) if decimal_separator == "auto" else decimal_separator
    grouping = "," if separator == "." else "."
    text = text.replace(grouping, "")
    if separator == ",":
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a price like 12.50 or 12,50") from None
    if negative and amount != 0:
        raise ValueError(f"'{raw}' is negative; a price must be 0 or more")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"'{raw}' has more than two decimal places")
    return int(cents)


def _decimal_separator(text: str) -> str:
    """The last of '.' and ','; a repeated one, or a lone one before three digits, groups."""
    last = max(text.rfind("."), text.rfind(","))
    if last < 0:
        return "."
    mark = text[last]
    other = "," if mark == "." else "."
    if text.count(mark) > 1:
        return other
    if other not in text and len(text) - last - 1 == 3 and text[:last] not in ("", "0"):
        return other
    return mark


def parse_status(raw: str, status_map: dict[str, str]) -> str:
    """The Slotboard status of a source value: through the map, else the status names."""
    folded = raw.casefold()
    for source, status in status_map.items():
        if source.strip().casefold() == folded:
            return status
    canonical = re.sub(r"[\s\-]+", "_", folded)
    if canonical in STATUSES:
        return canonical
    allowed = [*status_map, *STATUSES]
    raise ValueError(f"unknown status '{raw}'; allowed: {', '.join(allowed)}")


def parse_bool(raw: str) -> bool:
    folded = raw.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"'{raw}' is not yes or no (use yes/no, true/false or 1/0)")


def split_name(full: str) -> tuple[str, str]:
    """('Ada', 'Lovelace') from 'Ada Lovelace' or 'Lovelace, Ada'; one word is a first name."""
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    first, _, last = full.strip().rpartition(" ")
    return (first.strip(), last) if first else (last, "")


def split_tags(raw: str) -> list[str]:
    """Tags as the Customers page keeps them: trimmed, lowercase, unique, sorted."""
    tags = {part.strip().lower() for part in re.split(r"[;,|]", raw) if part.strip()}
    if too_long := [tag for tag in tags if len(tag) > MAX_TAG_LENGTH]:
        raise ValueError(f"tag '{too_long[0]}' is longer than {MAX_TAG_LENGTH} characters")
    return sorted(tags)

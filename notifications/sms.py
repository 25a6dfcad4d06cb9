"""SMS segment counting (pure): GSM-7 (GSM 03.38) against UCS-2.

A text that uses only the GSM 03.38 basic table and its extension table is sent as GSM-7:
160 characters fit one message, and a longer text is split into parts of 153 (7 septets
of each part carry the concatenation header). An extension character ('€', '{', '[', ...)
is sent as an escape plus the character, so it counts 2 and is never split across parts.
Anything else makes the whole text UCS-2: 70 UTF-16 code units in one message, 67 per part
of a longer one; a character outside the Basic Multilingual Plane (most emoji) is a
surrogate pair, counts 2 and is never split across parts either.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_LIMIT = {"GSM-7": 160, "UCS-2": 70}
PART_LIMIT = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SmsCount:
    """How a text goes out: `characters` in the encoding's units (GSM-7 extension
    characters and UCS-2 surrogate pairs count 2), `segments` messages billed (0 for an
    empty text), `per_segment` the capacity of each (160/153 or 70/67)."""

    encoding: str
    characters: int
    segments: int
    per_segment: int


def _unit_costs(text: str) -> tuple[str, list[int]]:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _parts(costs: list[int], capacity: int) -> int:
    """Greedy packing into parts of `capacity` units; a 2-unit character never splits."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(text: str) -> SmsCount:
    """The encoding, length and number of SMS segments of `text` (see the module doc)."""
    encoding, costs = _unit_costs(text)
    characters = sum(costs)
    if characters == 0:
        return SmsCount(encoding, 0, 0, SINGLE_LIMIT[encoding])
    if characters <= SINGLE_LIMIT[encoding]:
        return SmsCount(encoding, characters, 1, SINGLE_LIMIT[encoding])
    per_part = PART_LIMIT[encoding]
    return SmsCount(encoding, characters, _parts(costs, per_part), per_part)

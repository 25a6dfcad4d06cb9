"""SMS segment counting: GSM-7 against UCS-2 at the exact boundaries."""

from __future__ import annotations

import pytest

from notifications.sms import GSM7_BASIC, GSM7_EXTENSION, SmsCount, count_segments


def test_tables_have_gsm_03_38_sizes() -> None:
    assert len(GSM7_BASIC) == 128 and len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsCount("GSM-7", 0, 0, 160)),
        ("a" * 160, SmsCount("GSM-7", 160, 1, 160)),
        ("a" * 161, SmsCount("GSM-7", 161, 2, 153)),
        ("a" * 306, SmsCount("GSM-7", 306, 2, 153)),
        ("a" * 307, SmsCount("GSM-7", 307, 3, 153)),
        ("é" * 70 + "Ñ§¿à@£$¥", SmsCount("GSM-7", 78, 1, 160)),  # basic table, not ASCII
        ("ç" * 70, SmsCount("UCS-2", 70, 1, 70)),  # lower-case ç is not GSM (only Ç is)
        ("ç" * 71, SmsCount("UCS-2", 71, 2, 67)),
        ("ç" * 134, SmsCount("UCS-2", 134, 2, 67)),
        ("ç" * 135, SmsCount("UCS-2", 135, 3, 67)),
    ],
)
def test_boundaries(text: str, expected: SmsCount) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("char", ["€", "{", "}", "[", "]", "~", "\\", "|", "^", "\f"])
def test_extension_characters_count_two(char: str) -> None:
    assert count_segments(char) == SmsCount("GSM-7", 2, 1, 160)
    assert count_segments("a" * 158 + char) == SmsCount("GSM-7", 160, 1, 160)
    assert count_segments("a" * 159 + char) == SmsCount("GSM-7", 161, 2, 153)


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 + 2 does not fit a 153 part: the € moves to part 2 (152 | 2 + 151 | 1)
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_emoji_makes_ucs2_and_counts_two_code_units() -> None:
    assert count_segments("Hi 👋") == SmsCount("UCS-2", 5, 1, 70)
    assert count_segments("a" * 68 + "👋") == SmsCount("UCS-2", 70, 1, 70)
    assert count_segments("a" * 69 + "👋") == SmsCount("UCS-2", 71, 2, 67)
    # a surrogate pair never splits: 66 + 2 does not fit 67
    assert count_segments("a" * 66 + "👋" + "a" * 66).segments == 3
    assert count_segments("a" * 65 + "👋" + "a" * 67).segments == 2


def test_one_non_gsm_character_turns_the_whole_text_ucs2() -> None:
    text = "Your visit on Tue 24 Nov at 14:30 – see you!"  # en dash
    count = count_segments(text)
    assert count.encoding == "UCS-2" and count.characters == len(text)
    assert count_segments(text.replace("–", "-")).encoding == "GSM-7"

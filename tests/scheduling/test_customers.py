"""Customer validation, consent rules, search prefixes, profile figures and display rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from scheduling.business import first_error
from scheduling.customers import (
    CustomerInput,
    MergedContact,
    build_case_variants,
    build_duplicate_pairs,
    build_form_values,
    build_phone_prefixes,
    build_profile_details,
    build_profile_metrics,
    build_search_table,
    build_visit_table,
    classify_merged_contact,
    compute_consent_at,
    compute_visit_stats,
    describe_consent,
    describe_duplicate,
    escape_like,
    merge_consent,
    merge_notes,
    normalise_tags,
    prefix_upper_bound,
)

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
EARLIER = datetime(2025, 1, 2, 9, 30, tzinfo=UTC)


def customer(**fields: Any) -> CustomerInput:
    return CustomerInput.from_form(region="DE", **{"first_name": "Ana", **fields})


def error_of(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        customer(**fields)
    return first_error(caught.value)


# --- validation ----------------------------------------------------------------------


def test_a_valid_customer_is_normalised() -> None:
    data = customer(
        first_name="  Ana ", last_name=" Silva ", phone="030 1234567",
        email=" Ana.Silva@Example.COM ", tags=" VIP, colour ,vip,", notes=" likes tea ",
        sms_opt_in=True,
    )  # fmt: skip
    assert (data.first_name, data.last_name, data.full_name) == ("Ana", "Silva", "Ana Silva")
    assert data.phone == "+49301234567"
    assert data.email == "Ana.Silva@example.com"  # the domain is lowercased, not the mailbox
    assert data.tags == ["colour", "vip"]
    assert data.notes == "likes tea"


@pytest.mark.parametrize("first_name", ["", "   "])
def test_first_name_is_required(first_name: str) -> None:
    assert error_of(first_name=first_name) == "first_name: a first name is required"


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("12", "not a valid phone number"),
        ("call me", "not a phone number"),
        ("+49 30 1", "not a valid phone number"),
    ],
)
def test_a_malformed_phone_number_is_refused(phone: str, expected: str) -> None:
    message = error_of(phone=phone)
    assert message.startswith("phone: ") and expected in message


def test_local_numbers_use_the_business_country_and_foreign_ones_their_own() -> None:
    assert customer(phone="0151 23456789").phone == "+4915123456789"
    assert customer(phone="+44 20 7946 0958").phone == "+442079460958"
    assert CustomerInput.from_form(region="GB", first_name="Jo", phone="020 7946 0958").phone == (
        "+442079460958"
    )
    # Without a region, a number needs its country code.
    with pytest.raises(ValidationError, match="start with \\+ and the country code"):
        CustomerInput(first_name="Jo", phone="030 1234567")


@pytest.mark.parametrize("email", ["ana@", "ana at example.com", "@example.com", "a@b@c.de"])
def test_a_malformed_email_is_refused(email: str) -> None:
    message = error_of(email=email)
    assert message.startswith("email: ") and "not a valid e-mail address" in message


def test_blank_contact_details_are_none() -> None:
    data = customer(phone="  ", email="")
    assert (data.phone, data.email) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, []),
        ("", []),
        (" VIP ,  Colour  Client,vip, , ", ["colour client", "vip"]),
        (["b", "A", " a "], ["a", "b"]),
    ],
)
def test_tags_are_trimmed_lowercase_unique_and_sorted(raw: Any, expected: list[str]) -> None:
    assert normalise_tags(raw) == expected


def test_an_overlong_tag_is_refused() -> None:
    assert "longer than 40 characters" in error_of(tags="x" * 41)


@given(st.lists(st.text(max_size=12), max_size=8))
def test_tag_normalisation_is_idempotent(raw: list[str]) -> None:
    tags = normalise_tags([t.replace(",", " ") for t in raw])
    assert normalise_tags(tags) == tags == sorted(set(tags))
    assert all(tag and tag == tag.strip().lower() for tag in tags)


def test_consent_needs_the_contact_detail_it_is_for() -> None:
    assert error_of(sms_opt_in=True) == "SMS consent needs a phone number"
    assert error_of(email_opt_in=True) == "e-mail consent needs an e-mail address"
    assert customer(email="a@example.com", email_opt_in=True).email_opt_in


def test_overlong_notes_are_refused() -> None:
    assert error_of(notes="x" * 5001).startswith("notes: ")


# --- consent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("was_in", "was_at", "now_in", "expected"),
    [
        (False, None, True, NOW),  # given now
        (True, EARLIER, True, EARLIER),  # kept: consent since then
        (True, None, True, None),  # an old consent without a date stays undated
        (True, EARLIER, False, None),  # withdrawn: cleared (the audit log keeps history)
        (False, EARLIER, False, None),  # a stale stamp does not survive an edit
        (False, None, False, None),
    ],
)
def test_consent_timestamps(
    was_in: bool, was_at: datetime | None, now_in: bool, expected: datetime | None
) -> None:
    assert compute_consent_at(was_in=was_in, was_at=was_at, now_in=now_in, now=NOW) == expected


@pytest.mark.parametrize(
    ("keep", "merge", "contact", "expected"),
    [
        ((True, NOW), (True, EARLIER), "shared", (True, EARLIER)),  # both: the earlier stamp
        ((True, EARLIER), (True, None), "shared", (True, EARLIER)),
        ((True, None), (True, None), "shared", (True, None)),
        ((True, NOW), (False, None), "shared", (False, None)),  # an opt-out on either wins
        ((False, None), (True, NOW), "shared", (False, None)),
        ((False, None), (True, NOW), "from_merge", (True, NOW)),  # the contact came along
        ((False, None), (False, None), "from_merge", (False, None)),
        ((True, NOW), (False, None), "keep_own", (True, NOW)),  # merge's detail is dropped
        ((False, None), (True, NOW), "keep_own", (False, None)),
    ],
)
def test_merge_consent(
    keep: tuple[bool, datetime | None],
    merge: tuple[bool, datetime | None],
    contact: MergedContact,
    expected: tuple[bool, datetime | None],
) -> None:
    assert merge_consent(keep, merge, contact=contact) == expected


@pytest.mark.parametrize(
    ("keep", "merge", "expected"),
    [
        (None, "+49301234567", "from_merge"),
        ("+49301234567", "+49301234567", "shared"),
        ("Ana@example.com", "ana@example.com", "shared"),
        ("+49301234567", "+49307654321", "keep_own"),
        ("+49301234567", None, "keep_own"),
        (None, None, "keep_own"),
    ],
)
def test_classify_merged_contact(keep: str | None, merge: str | None, expected: str) -> None:
    assert classify_merged_contact(keep, merge) == expected


@pytest.mark.parametrize(
    ("keep", "merge", "expected"),
    [
        ("likes tea", "allergic to latex", "likes tea\n\nallergic to latex"),
        ("", "allergic to latex", "allergic to latex"),
        ("likes tea", "  ", "likes tea"),
        ("likes tea, allergic to latex", "allergic to latex", "likes tea, allergic to latex"),
    ],
)
def test_merge_notes(keep: str, merge: str, expected: str) -> None:
    assert merge_notes(keep, merge) == expected


def test_consent_is_described_in_local_time() -> None:
    assert describe_consent(True, NOW, "Europe/Berlin") == "Yes, since Mon 2026-05-04 12:00"
    assert describe_consent(True, None, "Europe/Berlin") == "Yes (date not recorded)"
    assert describe_consent(False, NOW, "Europe/Berlin") == "No"


# --- phone search --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "region", "expected"),
    [
        ("+49 151 23456789", "DE", ["+4915123456789"]),  # a complete number
        ("0151 23456789", "DE", ["+4915123456789"]),
        ("+49 151", "DE", ["+49151"]),
        ("0049-151", "DE", ["+49151"]),
        ("0151 2", "DE", ["+491512"]),  # the trunk 0 is dropped
        ("1512", "DE", ["+491512", "+1512"]),  # national without 0, or international
        ("(415) 55", "US", ["+141555", "+41555"]),
        ("0151", None, []),  # a trunk 0 of an unknown country: no E.164 prefix
        ("151", None, ["+151"]),
        ("12", "DE", []),  # too short to mean anything
        ("+4", "DE", ["+4"]),  # but with + it is clearly a number
        ("ana", "DE", []),
        ("ana 0151", "DE", []),
        ("a1@x.de", "DE", []),
    ],
)
def test_phone_prefixes(query: str, region: str | None, expected: list[str]) -> None:
    assert build_phone_prefixes(query, region) == expected


# --- search prefixes ---------------------------------------------------------------


@given(st.text(min_size=1, max_size=6), st.text(max_size=6))
def test_prefix_upper_bound_is_above_every_extension(prefix: str, rest: str) -> None:
    upper = prefix_upper_bound(prefix)
    assert prefix + rest >= prefix
    assert upper is None or prefix + rest < upper
    assert upper is None or not upper.startswith(prefix)


def test_prefix_upper_bound_edges() -> None:
    assert prefix_upper_bound("Sil") == "Sim"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"  # skips the surrogates
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None


@given(st.text(min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_case_variants_hold_every_spelling_of_the_head(text: str, rnd: Any) -> None:
    variants = build_case_variants(text)
    head = len(variants[0])
    assert 1 <= head <= len(text) and 1 <= len(variants) <= 16
    assert all(len(v) == head for v in variants) and len(set(variants)) == len(variants)

    def spell(char: str) -> str:
        choice = rnd.choice((char.lower(), char.upper()))
        return choice if len(choice) == 1 else char

    assert "".join(spell(ch) for ch in text[:head]) in variants


def test_case_variants_stop_multiplying_at_the_limit() -> None:
    assert build_case_variants("ab") == ["AB", "Ab", "aB", "ab"]
    assert build_case_variants("user12345@example") == build_case_variants("user12345@")
    assert len(build_case_variants("silva")) == 16 and build_case_variants("silva")[0] == "SILV"
    assert build_case_variants("ß") == ["ß"] and build_case_variants("12") == ["12"]


def test_escape_like() -> None:
    assert escape_like("100%_a\\b") == "100\\%\\_a\\\\b"
    assert escape_like("a!b%", "!") == "a!!b!%"


# --- profile figures -----------------------------------------------------------------


def visit(days: float, status: str, price: int = 4500, **more: Any) -> dict[str, Any]:
    start = NOW + timedelta(days=days)
    return {"starts_at": start, "ends_at": start + timedelta(minutes=45), "status": status,
            "price_cents": price, "service": "Cut", "staff": "Mara", **more}  # fmt: skip


def test_visit_stats_from_a_hand_built_history() -> None:
    visits = [
        visit(-60, "completed", 4000),
        visit(-30, "completed", 5500),
        visit(-20, "no_show"),
        visit(-10, "cancelled"),
        visit(-1, "booked"),  # in the past but never closed: not upcoming, not a visit
        visit(14, "confirmed", id=9),
        visit(7, "booked", id=8),
        visit(3, "cancelled"),
    ]
    stats = compute_visit_stats(visits, now=NOW)
    assert stats["counts"] == {
        "completed": 2, "no_shows": 1, "cancellations": 2, "upcoming": 2, "total": 8
    }  # fmt: skip
    assert stats["lifetime_value_cents"] == 9500
    assert stats["first_visit_at"] == NOW - timedelta(days=60)
    assert stats["last_visit_at"] == NOW - timedelta(days=30)
    assert stats["next_appointment"]["id"] == 8


def test_visit_stats_of_a_new_customer() -> None:
    stats = compute_visit_stats([], now=NOW)
    assert stats["counts"]["total"] == 0 and stats["lifetime_value_cents"] == 0
    assert stats["next_appointment"] is None and stats["last_visit_at"] is None


def test_profile_metrics_and_details_in_local_time_and_currency() -> None:
    visits = [visit(-30, "completed", 4550), visit(7, "booked")]
    profile = {
        **compute_visit_stats(visits, now=NOW), "phone": "+49301234567", "email": None,
        "sms_opt_in": True, "sms_opt_in_at": EARLIER, "email_opt_in": False,
        "email_opt_in_at": None, "tags": ["vip"], "external_id": "X-17", "created_at": EARLIER,
    }  # fmt: skip
    assert build_profile_metrics(profile, "Europe/Berlin", "EUR") == {
        "Visits": "1", "No-shows": "0", "Cancellations": "0", "Lifetime value": "€45.50",
        "Next appointment": "Mon 2026-05-11 12:00",
    }  # fmt: skip
    details = {r["Detail"]: r["Value"] for r in build_profile_details(profile, "Europe/Berlin")}
    assert details["SMS consent"] == "Yes, since Thu 2025-01-02 10:30"
    assert details["E-mail"] == "-" and details["E-mail consent"] == "No"
    assert (details["Tags"], details["External id"]) == ("vip", "X-17")
    assert details["Customer since"] == "Thu 2025-01-02"
    assert "Churn risk" not in details  # its own line: retention_display


def test_form_values_are_blank_where_the_row_has_none() -> None:
    assert build_form_values({}) == {
        "first_name": "", "last_name": "", "phone": "", "email": "", "sms_opt_in": False,
        "email_opt_in": False, "tags": "", "notes": "",
    }  # fmt: skip
    row = {"first_name": "Ana", "phone": None, "tags": ["colour", "vip"], "sms_opt_in": True}
    values = build_form_values(row)
    assert (values["first_name"], values["phone"], values["tags"]) == ("Ana", "", "colour, vip")
    assert values["sms_opt_in"] is True


def test_visit_table_is_newest_first_in_local_time() -> None:
    rows = build_visit_table(
        [visit(-30, "no_show"), visit(7, "booked", 12000)], "America/New_York", "USD"
    )
    assert [r["When"] for r in rows] == ["Mon 2026-05-11 06:00", "Sat 2026-04-04 06:00"]
    assert [r["Status"] for r in rows] == ["Booked", "No-show"]
    assert rows[0]["Price"] == "$120.00"


def test_search_table() -> None:
    rows = [
        {"id": 1, "first_name": "Ana", "last_name": "Silva", "phone": "+49301234567",
         "email": None, "visits": 3, "last_visit_at": EARLIER},
        {"id": 2, "first_name": "Bo", "last_name": "", "phone": None, "email": "bo@x.de",
         "visits": 0, "last_visit_at": None},
    ]  # fmt: skip
    assert build_search_table(rows, "Europe/Berlin") == [
        {"Name": "Ana Silva", "Phone": "+49301234567", "E-mail": "", "Visits": 3,
         "Last visit": "Thu 2025-01-02"},
        {"Name": "Bo", "Phone": "", "E-mail": "bo@x.de", "Visits": 0, "Last visit": ""},
    ]  # fmt: skip


def test_duplicate_pairs_pair_each_with_the_oldest_and_merge_reasons() -> None:
    ana = [{"id": i, "first_name": "Ana", "last_name": "Silva"} for i in (7, 3, 9)]
    groups = [("phone", ana[:2]), ("name", ana), ("email", [ana[2], ana[1]])]
    pairs = build_duplicate_pairs(groups, limit=10)
    assert [(p["a_id"], p["b_id"], p["reasons"]) for p in pairs] == [
        (3, 7, ["phone", "name"]),
        (3, 9, ["name", "email"]),
    ]
    assert describe_duplicate(pairs[0]) == (
        "Ana Silva (#3) and Ana Silva (#7): same phone, same name"
    )
    assert len(build_duplicate_pairs(groups, limit=1)) == 1

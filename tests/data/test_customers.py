"""Customers on SQLite and PostgreSQL: search, profile, create/edit, duplicates, merge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.roles import Actor, PermissionDenied, Role
from data import customers as cust
from data.audit import load_audit_log
from data.business import NotFound
from data.customers import DuplicateCustomer, MergeRefused
from data.db import read_conn, write_tx
from data.schema import appointments, churn_scores, customers, notifications
from scheduling.customers import CustomerInput
from tests.factories import make_business, make_service, make_staff

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Salon:
    engine: Engine
    business_id: int
    staff_id: int
    service_id: int

    def actor(self, role: Role = Role.OWNER) -> Actor:
        return Actor(None, self.business_id, role, f"test:{role.value}")

    @property
    def owner(self) -> Actor:
        return self.actor(Role.OWNER)


def make_salon(engine: Engine) -> Salon:
    with write_tx(engine) as conn:
        business_id = make_business(conn)
        staff_id = make_staff(conn, business_id, name="Mara")
        service_id = make_service(conn, business_id, name="Cut & style")
    return Salon(engine, business_id, staff_id, service_id)


@pytest.fixture
def salon(engine: Engine) -> Salon:
    return make_salon(engine)


def data(**fields: Any) -> CustomerInput:
    return CustomerInput.from_form(region="DE", **{"first_name": "Ana", **fields})


def call(salon: Salon, fn: Callable[..., Any], *, role: Role = Role.OWNER, **kwargs: Any) -> Any:
    with write_tx(salon.engine) as conn:
        return fn(conn, actor=salon.actor(role), **kwargs)


def add(salon: Salon, **fields: Any) -> int:
    return call(salon, cust.create_customer, data=data(**fields), allow_duplicate=True)


def search(salon: Salon, query: str, **kwargs: Any) -> list[str]:
    with read_conn(salon.engine) as conn:
        rows = cust.search_customers(conn, actor=salon.owner, query=query, **kwargs)
    return [f"{row['first_name']} {row['last_name']}".strip() for row in rows]


def profile(salon: Salon, customer_id: int) -> dict[str, Any]:
    with read_conn(salon.engine) as conn:
        return cust.load_customer_profile(conn, actor=salon.owner, customer_id=customer_id, now=NOW)


def row_of(salon: Salon, customer_id: int) -> dict[str, Any]:
    with read_conn(salon.engine) as conn:
        query = sa.select(customers).where(customers.c.id == customer_id)
        return dict(conn.execute(query).mappings().one())


def book(salon: Salon, customer_id: int, days: float, status: str, price: int = 4500) -> int:
    start = NOW + timedelta(days=days)
    with write_tx(salon.engine) as conn:
        statement = appointments.insert().values(
            business_id=salon.business_id, staff_id=salon.staff_id, customer_id=customer_id,
            service_id=salon.service_id, starts_at=start, ends_at=start + timedelta(minutes=45),
            status=status, price_cents=price, created_at=NOW, updated_at=NOW,
            cancelled_at=NOW if status == "cancelled" else None,
        )  # fmt: skip
        return int(conn.execute(statement).inserted_primary_key[0])


def audits(salon: Salon, **filters: Any) -> list[dict[str, Any]]:
    with read_conn(salon.engine) as conn:
        rows = load_audit_log(conn, actor=salon.owner, entity="customers", **filters)
    return list(reversed(rows))


# --- search --------------------------------------------------------------------------


@pytest.fixture
def people(salon: Salon) -> Salon:
    add(salon, first_name="Ana", last_name="Silva", phone="0151 23456789",
        email="Ana.Silva@Example.com")  # fmt: skip
    add(salon, first_name="Bruno", last_name="Silvestre", phone="+44 20 7946 0958")
    add(salon, first_name="ana maria", last_name="da Costa", email="am@costa.pt")
    add(salon, first_name="Zoë", last_name="Özil", phone="030 1234567")
    add(salon, first_name="Jörg", last_name="Müller")
    add(salon, first_name="Ann_a", last_name="100%")
    add(salon, first_name="Anna", last_name="1000")
    add(salon, first_name="O\\Neil", last_name="Back")
    return salon


NAME_AND_EMAIL_CASES = [
    ("silva", ["Ana Silva"]),
    ("SIL", ["Ana Silva", "Bruno Silvestre"]),
    ("  sIlVe  ", ["Bruno Silvestre"]),
    ("ana", ["ana maria da Costa", "Ana Silva"]),
    ("ANA S", ["Ana Silva"]),  # "first last", both as prefixes
    ("ana maria", ["ana maria da Costa"]),  # a first name with a space
    ("ana maria da", ["ana maria da Costa"]),
    ("da costa", ["ana maria da Costa"]),  # a last name with a space
    ("bruno silvestre", ["Bruno Silvestre"]),
    ("silva ana", []),  # last-first is not a way of writing a name
    ("özil", ["Zoë Özil"]),
    ("ÖZIL", ["Zoë Özil"]),
    ("zoë", ["Zoë Özil"]),
    ("MÜLLER", ["Jörg Müller"]),
    ("ana.silva@example.com", ["Ana Silva"]),  # e-mail, ignoring case
    ("ANA.SILVA@", ["Ana Silva"]),
    ("am@c", ["ana maria da Costa"]),
    ("nobody", []),
]


def test_search_by_name_and_email(people: Salon) -> None:
    found = {query: search(people, query) for query, _ in NAME_AND_EMAIL_CASES}
    assert found == dict(NAME_AND_EMAIL_CASES)


PHONE_CASES = [
    ("+4915123456789", ["Ana Silva"]),
    ("+49 151 2345 6789", ["Ana Silva"]),
    ("0151 23456789", ["Ana Silva"]),  # national form, with the trunk 0
    ("0151-234", ["Ana Silva"]),  # a prefix
    ("004915123", ["Ana Silva"]),
    ("15123", ["Ana Silva"]),  # national without the 0
    ("030 123", ["Zoë Özil"]),
    ("+44 20 7946", ["Bruno Silvestre"]),
    ("0044 20", ["Bruno Silvestre"]),
    ("4420", ["Bruno Silvestre"]),  # international without +
    ("+49", ["Ana Silva", "Zoë Özil"]),
    ("0152", []),
]


def test_search_by_phone_number_in_any_writing(people: Salon) -> None:
    found = {query: sorted(search(people, query)) for query, _ in PHONE_CASES}
    assert found == {query: sorted(expected) for query, expected in PHONE_CASES}


WILDCARD_CASES = [
    ("ann_", ["Ann_a 100%"]),  # _ is a letter here, not "any character"
    ("100%", ["Ann_a 100%"]),  # % too
    ("10", ["Anna 1000", "Ann_a 100%"]),
    ("%", []),
    ("_", []),
    ("o\\n", ["O\\Neil Back"]),
    ("\\", []),
]


def test_like_wildcards_in_the_query_are_plain_characters(people: Salon) -> None:
    found = {query: sorted(search(people, query)) for query, _ in WILDCARD_CASES}
    assert found == {query: sorted(expected) for query, expected in WILDCARD_CASES}


def test_without_binary_text_order_search_falls_back_to_ilike(
    people: Salon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL database with a linguistic collation (en_US, ICU) cannot use the ranges."""
    monkeypatch.setattr(cust, "_binary_order", lambda conn: False)
    ascii_only = [(q, e) for q, e in NAME_AND_EMAIL_CASES if q.isascii() and "Zoë" not in e]
    cases = ascii_only + PHONE_CASES + WILDCARD_CASES
    found = {query: sorted(search(people, query)) for query, _ in cases}
    assert found == {query: sorted(expected) for query, expected in cases}


def test_search_orders_by_last_then_first_name_and_honours_the_limit(people: Salon) -> None:
    # Nothing typed: the index's (binary) order of last names.
    assert search(people, "") == [
        "Ann_a 100%", "Anna 1000", "O\\Neil Back", "Jörg Müller", "Ana Silva",
        "Bruno Silvestre", "ana maria da Costa", "Zoë Özil",
    ]  # fmt: skip
    assert search(people, "an") == ["Ann_a 100%", "Anna 1000", "ana maria da Costa", "Ana Silva"]
    assert len(search(people, "", limit=3)) == 3
    assert len(search(people, "an", limit=2)) == 2


def test_search_rows_carry_visits_and_last_visit(salon: Salon) -> None:
    ana = add(salon, first_name="Ana", last_name="Silva")
    book(salon, ana, -30, "completed")
    book(salon, ana, -10, "completed")
    book(salon, ana, -5, "no_show")
    book(salon, ana, 5, "booked")
    add(salon, first_name="Ana", last_name="Souza")
    with read_conn(salon.engine) as conn:
        rows = cust.search_customers(conn, actor=salon.owner, query="ana")
    assert [(r["last_name"], r["visits"], r["last_visit_at"]) for r in rows] == [
        ("Silva", 2, NOW - timedelta(days=10)),
        ("Souza", 0, None),
    ]


def test_merged_customers_are_not_found(salon: Salon) -> None:
    keep = add(salon, first_name="Ana", last_name="Silva")
    gone = add(salon, first_name="Ana", last_name="Silvia", phone="030 1234567")
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)
    assert search(salon, "silvia") == [] and search(salon, "ana") == ["Ana Silva"]
    assert search(salon, "030 1234567") == ["Ana Silva"]  # the phone moved to the kept one


# --- profile -------------------------------------------------------------------------


def test_profile_numbers_from_a_hand_built_history(salon: Salon) -> None:
    ana = add(salon, first_name="Ana", last_name="Silva", phone="030 1234567", sms_opt_in=True,
              tags="vip", notes="likes tea")  # fmt: skip
    book(salon, ana, -90, "completed", 4000)
    book(salon, ana, -60, "completed", 5550)
    book(salon, ana, -30, "no_show", 4500)
    book(salon, ana, -20, "cancelled", 4500)
    book(salon, ana, -15, "no_show", 4500)
    later = book(salon, ana, 20, "confirmed", 6000)
    soon = book(salon, ana, 3, "booked", 6000)
    book(salon, ana, 1, "cancelled", 6000)
    other = add(salon, first_name="Bo")
    book(salon, other, -1, "completed", 99900)  # someone else's money

    p = profile(salon, ana)
    assert p["counts"] == {
        "completed": 2, "no_shows": 2, "cancellations": 2, "upcoming": 2, "total": 8
    }  # fmt: skip
    assert p["lifetime_value_cents"] == 9550
    assert p["next_appointment"]["id"] == soon and later != soon
    assert p["last_visit_at"] == NOW - timedelta(days=60)
    assert p["first_visit_at"] == NOW - timedelta(days=90)
    assert (p["full_name"], p["phone"], p["tags"], p["notes"]) == (
        "Ana Silva", "+49301234567", ["vip"], "likes tea"
    )  # fmt: skip
    assert p["sms_opt_in"] and p["sms_opt_in_at"] is not None and not p["email_opt_in"]
    assert p["merged_into_id"] is None and p["merged_into_name"] is None and p["churn"] is None
    first = p["visits"][0]
    assert first["starts_at"] == NOW + timedelta(days=20)  # newest first
    assert first["starts_at"].tzinfo is not None and first["starts_at"].utcoffset() == timedelta(0)
    assert (first["service"], first["staff"], first["status"], first["price_cents"]) == (
        "Cut & style", "Mara", "confirmed", 6000
    )  # fmt: skip


def test_profile_of_a_merged_customer_says_where_it_went(salon: Salon) -> None:
    keep = add(salon, first_name="Ana", last_name="Silva")
    gone = add(salon, first_name="Ana", last_name="S.")
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)
    p = profile(salon, gone)
    assert (p["merged_into_id"], p["merged_into_name"]) == (keep, "Ana Silva")


def test_profile_shows_the_latest_churn_score(salon: Salon) -> None:
    ana = add(salon)
    for days, score in ((-14, 0.2), (-1, 0.7)):
        insert_churn(salon, ana, NOW + timedelta(days=days), score)
    assert profile(salon, ana)["churn"]["score"] == pytest.approx(0.7)


def test_profile_of_an_unknown_customer(salon: Salon) -> None:
    with pytest.raises(NotFound):
        profile(salon, 999_999)


# --- create and edit -----------------------------------------------------------------


def test_create_stores_normalised_details_with_consent_stamps_and_an_audit(salon: Salon) -> None:
    ana = call(salon, cust.create_customer, data=data(
        last_name="Silva", phone="0151 23456789", email="Ana@Example.com", sms_opt_in=True,
        tags="VIP, vip, Colour",
    ))  # fmt: skip
    row = row_of(salon, ana)
    assert (row["phone"], row["email"], row["tags"]) == (
        "+4915123456789", "Ana@example.com", ["colour", "vip"]
    )  # fmt: skip
    assert row["sms_opt_in"] and row["sms_opt_in_at"] is not None
    assert not row["email_opt_in"] and row["email_opt_in_at"] is None
    assert row["created_at"] == row["updated_at"] and row["business_id"] == salon.business_id
    [entry] = audits(salon, action="create")
    assert entry["entity_id"] == str(ana) and entry["actor"] == "test:owner"
    assert entry["diff"]["phone"] == [None, "+4915123456789"]
    assert entry["diff"]["tags"] == [None, ["colour", "vip"]]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "+49 151 2345 6789"}, "Ana Silva already has this phone number"),
        ({"email": "ANA@example.com"}, "Ana Silva already has this e-mail address"),
    ],
)
def test_create_refuses_a_duplicate_phone_or_email(
    salon: Salon, fields: dict[str, str], message: str
) -> None:
    ana = add(salon, last_name="Silva", phone="0151 23456789", email="ana@example.com")
    with pytest.raises(DuplicateCustomer, match=message) as caught:
        call(salon, cust.create_customer, data=data(first_name="Anna", **fields))
    assert caught.value.existing_id == ana
    assert len(audits(salon, action="create")) == 1  # nothing written
    twin = call(salon, cust.create_customer, data=data(**fields), allow_duplicate=True)
    assert twin != ana


def test_duplicate_checks_skip_merged_customers_and_other_businesses(
    salon: Salon, engine: Engine
) -> None:
    keep = add(salon, first_name="Ana")
    gone = add(salon, first_name="Ana", phone="030 1234567")
    add(make_salon(engine), first_name="Elsewhere", email="ana@example.com")
    call(salon, cust.update_customer, customer_id=keep, data=data(phone="030 7654321"))
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)  # keep has its own phone
    call(salon, cust.create_customer, data=data(phone="030 1234567", email="ana@example.com"))


def test_update_changes_details_stamps_consent_and_audits(salon: Salon) -> None:
    ana = add(salon, last_name="Silva", phone="030 1234567", sms_opt_in=True)
    before = row_of(salon, ana)
    changed = call(salon, cust.update_customer, customer_id=ana, data=data(
        last_name="Silva-Santos", phone="030 1234567", sms_opt_in=True,
        email="ana@example.com", email_opt_in=True, notes="likes tea",
    ))  # fmt: skip
    after = row_of(salon, ana)
    assert changed and after["last_name"] == "Silva-Santos"
    assert after["sms_opt_in_at"] == before["sms_opt_in_at"]  # kept: consent since then
    assert after["email_opt_in_at"] is not None and after["email_opt_in_at"] > before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    [entry] = audits(salon, action="update")
    assert entry["diff"]["last_name"] == ["Silva", "Silva-Santos"]
    assert "sms_opt_in_at" not in entry["diff"] and "phone" not in entry["diff"]

    call(salon, cust.update_customer, customer_id=ana, data=data(
        last_name="Silva-Santos", phone="030 1234567", email="ana@example.com",
    ))  # fmt: skip
    withdrawn = row_of(salon, ana)
    assert not withdrawn["sms_opt_in"] and withdrawn["sms_opt_in_at"] is None
    last = audits(salon, action="update")[-1]["diff"]
    assert last["sms_opt_in"] == [True, False] and last["sms_opt_in_at"][1] is None


def test_update_without_changes_returns_false_and_writes_nothing(salon: Salon) -> None:
    ana = add(salon, last_name="Silva", tags="vip")
    same = data(last_name="Silva", tags=["VIP"])
    assert call(salon, cust.update_customer, customer_id=ana, data=same) is False
    assert audits(salon, action="update") == []


def test_update_checks_only_a_changed_phone_or_email(salon: Salon) -> None:
    ana = add(salon, first_name="Ana", phone="030 1234567")
    bo = add(salon, first_name="Bo", phone="030 1234567")  # a shared family phone
    # Editing Bo's notes is fine although the phone is shared ...
    call(salon, cust.update_customer, customer_id=bo, data=data(first_name="Bo",
         phone="030 1234567", notes="Ana's son"))  # fmt: skip
    # ... but giving a third customer that phone is refused, naming the first owner.
    cy = add(salon, first_name="Cy")
    with pytest.raises(DuplicateCustomer, match="^Ana already has this phone number$"):
        call(salon, cust.update_customer, customer_id=cy, data=data(first_name="Cy",
             phone="+49 30 1234567"))  # fmt: skip
    assert row_of(salon, cy)["phone"] is None and ana < bo


def test_a_merged_customer_cannot_be_edited(salon: Salon) -> None:
    keep, gone = add(salon), add(salon)
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)
    with pytest.raises(MergeRefused, match="edit that customer instead"):
        call(salon, cust.update_customer, customer_id=gone, data=data(notes="x"))


# --- duplicates and merge ------------------------------------------------------------


def test_duplicate_candidates_by_phone_email_and_name(salon: Salon) -> None:
    ana = add(salon, first_name="Ana", last_name="Silva", phone="030 1234567")
    ana2 = add(salon, first_name="ANA", last_name="silva", phone="+49301234567")
    bo = add(salon, first_name="Bo", email="Bo@Example.com")
    bo2 = add(salon, first_name="Robert", email="bo@example.com")
    add(salon, first_name="Cy", last_name="Silva")
    gone = add(salon, first_name="Bo", email="bo@example.com")
    call(salon, cust.merge_customers, keep_id=bo, merge_id=gone)
    with read_conn(salon.engine) as conn:
        pairs = cust.find_duplicate_candidates(conn, actor=salon.owner)
    assert [(p["a_id"], p["b_id"], p["reasons"]) for p in pairs] == [
        (ana, ana2, ["phone", "name"]),
        (bo, bo2, ["email"]),
    ]
    assert (pairs[0]["a_name"], pairs[0]["b_name"]) == ("Ana Silva", "ANA silva")


def test_merge_moves_history_and_combines_the_records(salon: Salon) -> None:
    keep = add(salon, first_name="Ana", last_name="Silva", email="ana@example.com",
               email_opt_in=True, tags="vip", notes="likes tea")  # fmt: skip
    gone = add(salon, first_name="Ana", phone="030 1234567", sms_opt_in=True,
               email="ana@example.com", email_opt_in=True, tags="colour, VIP",
               notes="allergic to latex")  # fmt: skip
    with write_tx(salon.engine) as conn:  # the imported row keeps its source's id
        conn.execute(customers.update().where(customers.c.id == gone).values(external_id="X-9"))
    old = {"email": NOW - timedelta(days=400), "sms": NOW - timedelta(days=300)}
    with write_tx(salon.engine) as conn:
        conn.execute(customers.update().where(customers.c.id == gone).values(
            email_opt_in_at=old["email"], sms_opt_in_at=old["sms"]))  # fmt: skip
    visits = [book(salon, gone, -30, "completed", 4000), book(salon, gone, 7, "booked")]
    mine = book(salon, keep, -60, "completed", 5000)
    insert_notification(salon, gone)
    insert_churn(salon, gone, NOW, 0.4)
    insert_churn(salon, gone, NOW - timedelta(days=7), 0.3)
    insert_churn(salon, keep, NOW, 0.9)  # the same run scored both: keep's score wins
    keep_before = row_of(salon, keep)

    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone, role=Role.STAFF)

    kept, merged = row_of(salon, keep), row_of(salon, gone)
    assert merged["merged_into_id"] == keep and merged["external_id"] == "X-9"
    assert (merged["phone"], merged["tags"]) == ("+49301234567", ["colour", "vip"])  # untouched
    assert kept["merged_into_id"] is None and kept["external_id"] is None
    assert (kept["last_name"], kept["phone"]) == ("Silva", "+49301234567")  # filled from merge
    assert kept["tags"] == ["colour", "vip"]
    assert kept["notes"] == "likes tea\n\nallergic to latex"
    assert kept["email_opt_in"] and kept["email_opt_in_at"] == old["email"]  # both: earlier
    assert kept["sms_opt_in"] and kept["sms_opt_in_at"] == old["sms"]  # the phone came along
    assert kept["updated_at"] > keep_before["updated_at"]

    p = profile(salon, keep)
    assert sorted(v["id"] for v in p["visits"]) == sorted([*visits, mine])
    assert p["lifetime_value_cents"] == 9000 and p["next_appointment"]["id"] == visits[1]
    assert p["churn"]["score"] == pytest.approx(0.9)
    with read_conn(salon.engine) as conn:
        owners = conn.execute(sa.select(notifications.c.customer_id)).scalars().all()
        scores = conn.execute(
            sa.select(churn_scores.c.customer_id, churn_scores.c.score).order_by(
                churn_scores.c.score
            )
        ).all()
    assert owners == [keep]
    assert [(c, round(s, 1)) for c, s in scores] == [(keep, 0.3), (keep, 0.9)]

    entries = audits(salon, action="merge")
    assert [e["entity_id"] for e in entries] == [str(keep), str(gone)]
    assert entries[0]["diff"]["merged_from"] == [None, gone]
    assert entries[0]["diff"]["appointments_moved"] == [None, visits]
    assert entries[0]["diff"]["phone"] == [None, "+49301234567"]
    assert entries[1]["diff"] == {"merged_into_id": [None, keep]}


def test_merge_keeps_a_shared_contacts_consent_only_where_both_consented(salon: Salon) -> None:
    keep = add(salon, phone="030 1234567", sms_opt_in=True, email="a@example.com",
               email_opt_in=True)  # fmt: skip
    gone = add(salon, phone="030 1234567", email="A@example.com", email_opt_in=True)
    keep_stamp = row_of(salon, keep)["email_opt_in_at"]
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)
    kept = row_of(salon, keep)
    assert not kept["sms_opt_in"] and kept["sms_opt_in_at"] is None  # gone opted out
    assert kept["email_opt_in"] and kept["email_opt_in_at"] == keep_stamp  # the earlier


def test_merge_keeps_the_kept_contacts_own_consent(salon: Salon) -> None:
    keep = add(salon, phone="030 1234567", sms_opt_in=True)
    gone = add(salon, phone="030 7654321", email="a@example.com", email_opt_in=True)
    before = row_of(salon, keep)
    call(salon, cust.merge_customers, keep_id=keep, merge_id=gone)
    kept = row_of(salon, keep)
    assert kept["phone"] == "+49301234567"  # keep's own number stays; gone's stays on its row
    assert kept["sms_opt_in"] and kept["sms_opt_in_at"] == before["sms_opt_in_at"]
    assert kept["email"] == "a@example.com" and kept["email_opt_in"]  # came along


def test_earlier_merges_follow_to_the_new_survivor(salon: Salon) -> None:
    a, b, c = add(salon), add(salon), add(salon)
    call(salon, cust.merge_customers, keep_id=b, merge_id=c)
    call(salon, cust.merge_customers, keep_id=a, merge_id=b)
    assert row_of(salon, c)["merged_into_id"] == a and row_of(salon, b)["merged_into_id"] == a
    assert audits(salon, action="merge")[-1]["diff"] == {"merged_into_id": [b, a]}


def test_merge_refusals(salon: Salon) -> None:
    a, b, c = add(salon), add(salon), add(salon)
    with pytest.raises(MergeRefused, match="into itself"):
        call(salon, cust.merge_customers, keep_id=a, merge_id=a)
    call(salon, cust.merge_customers, keep_id=a, merge_id=b)
    with pytest.raises(MergeRefused, match="already merged"):
        call(salon, cust.merge_customers, keep_id=c, merge_id=b)  # merge an already merged one
    with pytest.raises(MergeRefused, match="already merged"):
        call(salon, cust.merge_customers, keep_id=b, merge_id=c)  # into an already merged one
    with pytest.raises(NotFound):
        call(salon, cust.merge_customers, keep_id=a, merge_id=999_999)
    assert row_of(salon, c)["merged_into_id"] is None


# --- roles ---------------------------------------------------------------------------


def test_analysts_may_not_read_or_change_customers(salon: Salon) -> None:
    a, b = add(salon), add(salon)
    attempts: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (cust.create_customer, {"data": data()}),
        (cust.update_customer, {"customer_id": a, "data": data(notes="x")}),
        (cust.merge_customers, {"keep_id": a, "merge_id": b}),
        (cust.search_customers, {"query": "ana"}),
        (cust.load_customer_profile, {"customer_id": a}),
        (cust.find_duplicate_candidates, {}),
    ]
    for fn, kwargs in attempts:
        with pytest.raises(PermissionDenied):
            call(salon, fn, role=Role.ANALYST, **kwargs)
    assert row_of(salon, b)["merged_into_id"] is None and audits(salon, action="update") == []


def test_staff_may_manage_customers(salon: Salon) -> None:
    ana = call(salon, cust.create_customer, data=data(), role=Role.STAFF)
    assert call(salon, cust.update_customer, customer_id=ana, data=data(notes="x"),
                role=Role.STAFF)  # fmt: skip


# --- tenant isolation ----------------------------------------------------------------


def snapshot(engine: Engine, business_id: int) -> list[list[dict[str, Any]]]:
    with read_conn(engine) as conn:
        return [
            [dict(r) for r in conn.execute(
                sa.select(table).where(table.c.business_id == business_id).order_by(table.c.id)
            ).mappings()]
            for table in (customers, appointments)
        ]  # fmt: skip


def test_one_business_cannot_reach_another_businesss_customers(
    salon: Salon, engine: Engine
) -> None:
    other = make_salon(engine)
    theirs = add(other, first_name="Ana", last_name="Silva", phone="030 1234567")
    book(other, theirs, -3, "completed")
    mine = add(salon, first_name="Bo")
    before = snapshot(engine, other.business_id)

    assert search(salon, "ana") == [] and search(salon, "030 1234567") == []
    assert search(salon, "") == ["Bo"]
    with pytest.raises(NotFound):
        profile(salon, theirs)
    with pytest.raises(NotFound):
        call(salon, cust.update_customer, customer_id=theirs, data=data(notes="mine now"))
    with pytest.raises(NotFound):
        call(salon, cust.merge_customers, keep_id=mine, merge_id=theirs)
    with pytest.raises(NotFound):
        call(salon, cust.merge_customers, keep_id=theirs, merge_id=mine)
    with read_conn(engine) as conn:
        assert cust.find_duplicate_candidates(conn, actor=salon.owner) == []
    assert snapshot(engine, other.business_id) == before
    assert profile(salon, mine)["counts"]["total"] == 0


# --- rows the merge carries along ----------------------------------------------------


def insert_notification(salon: Salon, customer_id: int) -> None:
    with write_tx(salon.engine) as conn:
        conn.execute(notifications.insert().values(
            business_id=salon.business_id, channel="sms", recipient="+49301234567", body="Hi",
            template_kind="reminder", customer_id=customer_id,
            idempotency_key=f"test-{customer_id}-{salon.business_id}", scheduled_at=NOW,
            created_at=NOW, updated_at=NOW,
        ))  # fmt: skip


def insert_churn(salon: Salon, customer_id: int, as_of: datetime, score: float) -> None:
    with write_tx(salon.engine) as conn:
        conn.execute(churn_scores.insert().values(
            business_id=salon.business_id, customer_id=customer_id, as_of=as_of, score=score,
            band="high" if score > 0.5 else "low", model_version="test-1",
            data_fingerprint="f", created_at=NOW,
        ))  # fmt: skip

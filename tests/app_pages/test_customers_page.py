"""The Customers page through AppTest: search, profile, create, edit, merge, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.customers import create_customer
from data.db import read_conn, write_tx
from data.retention import save_churn_scores
from data.schema import appointments, customers
from scheduling.customers import CustomerInput
from tests.app_pages.support import AppDb
from tests.factories import make_service, make_staff
from ui.session import USER_KEY

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "customers.py")
TIMEOUT = 60


def _add(db: AppDb, **fields: Any) -> int:
    data = CustomerInput.from_form(region="DE", **fields)
    with write_tx(db.engine) as conn:
        actor = db.users[Role.OWNER].actor
        return create_customer(conn, actor=actor, data=data, allow_duplicate=True)


def _customer(db: AppDb, customer_id: int) -> dict[str, Any]:
    with read_conn(db.engine) as conn:
        query = sa.select(customers).where(customers.c.id == customer_id)
        return dict(conn.execute(query).mappings().one())


def page(app_db: AppDb, role: Role) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = app_db.users[role]
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def table(at: AppTest, column: str) -> Any:
    """The first dataframe with this column (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def details(at: AppTest) -> dict[str, str]:
    return dict(zip(*table(at, "Value").to_dict("list").values(), strict=True))


def test_staff_searches_and_opens_a_profile(app_db: AppDb) -> None:
    ana = _add(app_db, first_name="Ana", last_name="Silva", phone="030 1234567", sms_opt_in=True,
                     tags="vip", notes="Likes tea")  # fmt: skip
    _add(app_db, first_name="Bruno", last_name="Souza")
    with write_tx(app_db.engine) as conn:
        staff_id = make_staff(conn, app_db.business_id, name="Mara")
        service_id = make_service(conn, app_db.business_id, name="Colour")
        now = datetime.now(UTC).replace(microsecond=0)
        for days, status in ((-30, "completed"), (-10, "no_show"), (9, "booked")):
            start = now + timedelta(days=days)
            conn.execute(appointments.insert().values(
                business_id=app_db.business_id, staff_id=staff_id, customer_id=ana,
                service_id=service_id, starts_at=start, ends_at=start + timedelta(minutes=45),
                status=status, price_cents=4500, created_at=now, updated_at=now,
            ))  # fmt: skip

    at = page(app_db, Role.STAFF)
    assert not at.exception and not errors(at)
    assert at.title[0].value == "Customers"
    assert table(at, "Visits")["Name"].tolist() == ["Ana Silva", "Bruno Souza"]

    at.text_input(key="cust_search").input("0301234").run()  # a phone prefix, national form
    results = table(at, "Visits")
    assert results["Name"].tolist() == ["Ana Silva"] and results["Visits"].tolist() == [1]

    at.selectbox(key="cust_pick").select(ana).run()
    assert not at.exception and not errors(at)
    assert [h.value for h in at.subheader][0] == "Ana Silva"
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Visits"], metrics["No-shows"], metrics["Lifetime value"]) == (
        "1",
        "1",
        "€45.00",
    )
    assert metrics["Next appointment"] != "None"
    shown = details(at)
    assert shown["Phone"] == "+49301234567" and shown["Tags"] == "vip"
    assert shown["SMS consent"].startswith("Yes, since ")
    assert shown["E-mail consent"] == "No"
    visits = table(at, "Service")
    assert visits["Status"].tolist() == ["Booked", "No-show", "Completed"]
    assert visits["Service"].tolist() == ["Colour"] * 3 and visits["Price"][0] == "€45.00"
    assert "Likes tea" in [t.value for t in at.text]


def test_staff_creates_a_customer_after_fixing_a_bad_phone_number(app_db: AppDb) -> None:
    at = page(app_db, Role.STAFF)
    at.text_input(key="new_first").input("Ana")
    at.text_input(key="new_last").input("Silva")
    at.text_input(key="new_phone").input("12")
    at.button(key="new_save").click().run()
    assert not at.exception
    assert any("not a valid phone number" in e for e in errors(at)), errors(at)

    at.text_input(key="new_phone").input("0151 23456789")
    at.text_input(key="new_email").input("Ana@Example.com")
    at.checkbox(key="new_sms").check()
    at.button(key="new_save").click().run()
    assert not at.exception and not errors(at)
    assert "Ana Silva saved." in [s.value for s in at.success]
    with read_conn(app_db.engine) as conn:
        [row] = conn.execute(sa.select(customers)).mappings().all()
    assert (row["phone"], row["email"], row["sms_opt_in"]) == (
        "+4915123456789", "Ana@example.com", True
    )  # fmt: skip
    assert row["sms_opt_in_at"] is not None
    # The new customer is open, and the form is empty again.
    assert at.selectbox(key="cust_pick").value == row["id"]
    assert [h.value for h in at.subheader][0] == "Ana Silva"
    assert at.text_input(key="new_first").value == ""


def test_a_duplicate_phone_number_is_refused_unless_confirmed(app_db: AppDb) -> None:
    _add(app_db, first_name="Ana", last_name="Silva", phone="030 1234567")
    at = page(app_db, Role.STAFF)
    at.text_input(key="new_first").input("Bo")
    at.text_input(key="new_phone").input("+49 30 1234567")
    at.button(key="new_save").click().run()
    assert "Ana Silva already has this phone number" in errors(at)
    at.checkbox(key="new_allow_dup").check()
    at.button(key="new_save").click().run()
    assert not errors(at) and "Bo saved." in [s.value for s in at.success]


def test_staff_edits_a_customer(app_db: AppDb) -> None:
    ana = _add(app_db, first_name="Ana", last_name="Silva")
    at = page(app_db, Role.STAFF)
    at.selectbox(key="cust_pick").select(ana).run()
    at.text_input(key=f"edit_{ana}_email").input("not an address")
    at.button(key=f"edit_{ana}_save").click().run()
    assert any(e.startswith("email: ") for e in errors(at)), errors(at)
    at.text_input(key=f"edit_{ana}_email").input("ana@example.com")
    at.checkbox(key=f"edit_{ana}_email_opt_in").check()
    at.text_input(key=f"edit_{ana}_tags").input("VIP, colour")
    at.button(key=f"edit_{ana}_save").click().run()
    assert not at.exception and not errors(at)
    row = _customer(app_db, ana)
    assert (row["email"], row["email_opt_in"], row["tags"]) == (
        "ana@example.com", True, ["colour", "vip"]
    )  # fmt: skip
    assert details(at)["E-mail consent"].startswith("Yes, since ")


def test_owner_merges_duplicates_only_after_confirming(app_db: AppDb) -> None:
    keep = _add(app_db, first_name="Ana", last_name="Silva", email="ana@example.com")
    gone = _add(app_db, first_name="ana", last_name="SILVA", phone="030 1234567")
    at = page(app_db, Role.OWNER)
    assert not at.exception
    at.toggle(key="dupes_show").set_value(True).run()
    assert at.selectbox(key="dupes_pair").value == f"{keep}-{gone}"
    assert at.button(key="merge_go").disabled  # not without the tick
    assert _customer(app_db, gone)["merged_into_id"] is None

    at.radio(key="dupes_keep").set_value(gone).run()
    at.checkbox(key=f"merge_confirm_{gone}_{keep}").check().run()
    assert not at.button(key="merge_go").disabled
    at.radio(key="dupes_keep").set_value(keep).run()  # another choice asks again
    assert at.button(key="merge_go").disabled
    at.checkbox(key=f"merge_confirm_{keep}_{gone}").check().run()
    at.button(key="merge_go").click().run()
    assert not at.exception and not errors(at)
    assert "Merged ana SILVA into Ana Silva." in [s.value for s in at.success]
    assert _customer(app_db, gone)["merged_into_id"] == keep
    assert _customer(app_db, keep)["phone"] == "+49301234567"
    assert table(at, "Visits")["Name"].tolist() == ["Ana Silva"]
    assert any("No possible duplicates" in i.value for i in at.info)


def test_analysts_may_not_open_the_page(app_db: AppDb) -> None:
    _add(app_db, first_name="Ana", last_name="Silva")
    at = page(app_db, Role.ANALYST)
    assert not at.exception
    assert errors(at) == ["Your role (analyst) may not open this page."]
    assert len(at.title) == 0 and len(at.dataframe) == 0


def test_anonymous_visitors_are_asked_to_sign_in(app_db: AppDb) -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert errors(at) == ["Please sign in to open this page."]


def test_the_profile_shows_the_churn_risk_line(app_db: AppDb) -> None:
    ana = _add(app_db, first_name="Ana", last_name="Silva")
    bruno = _add(app_db, first_name="Bruno", last_name="Souza")
    carla = _add(app_db, first_name="Carla", last_name="Lima")
    drivers = [
        {"feature": "recency_days", "text": "Last visit 84 days ago", "effect": 0.3},
        {"feature": "has_future_booking", "text": "No upcoming booking", "effect": 0.1},
    ]
    scores = pd.DataFrame({"customer_id": [ana, carla], "score": [0.72, 0.4],
                           "band": ["high", "too_new"], "drivers": [drivers, []]})  # fmt: skip
    with write_tx(app_db.engine) as conn:
        owner = app_db.users[Role.OWNER].actor
        as_of = datetime(2026, 11, 24, 12, tzinfo=UTC)
        save_churn_scores(
            conn, actor=owner, as_of=as_of, model_version="churn-v1-test", fingerprint="0" * 16,
            scores=scores,
        )  # fmt: skip
    at = page(app_db, Role.STAFF)  # staff see a customer's own score
    expected = {
        ana: "Churn risk: 72% · High · as of 24 Nov 2026 — Last visit 84 days ago; "
        "No upcoming booking",
        bruno: "Churn risk: not scored yet",
        carla: "Churn risk: Too new to score · as of 24 Nov 2026",
    }
    for customer, line in expected.items():
        at.selectbox(key="cust_pick").select(customer).run()
        assert not at.exception and not errors(at)
        assert line in [c.value for c in at.caption], [c.value for c in at.caption]

"""Bookings and customers exports (data/exports, reports/exports) on SQLite and PostgreSQL.

A hand-made Berlin salon around the spring DST switch (29 March 2026, 02:00 CET becomes
03:00 CEST), with a second business whose rows must never appear.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from analytics.report import ReportFilter
from auth.roles import Actor, PermissionDenied
from data.db import read_conn, write_tx
from data.exports import (
    BOOKING_COLUMNS,
    CONTACT_COLUMNS,
    count_bookings,
    count_customers,
    customer_columns,
    iter_bookings,
    iter_customers,
)
from data.schema import analytics_events, appointments, audit_log, customers
from reports.exports import ExportRequest, NothingToExport, write_export
from tests.factories import make_account, make_business, make_customer, make_service, make_staff

BERLIN = "Europe/Berlin"
ZONE = ZoneInfo(BERLIN)
WEEKEND = ReportFilter(date(2026, 3, 28), date(2026, 3, 29))
SECRET_NOTE = "owes us money"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


@dataclass(frozen=True)
class Salon:
    business_id: int
    other_business_id: int
    ana: int
    ben: int
    cut: int
    color: int
    regular: int  # two completed visits, a no-show
    occasional: int  # one cancellation
    merged: int  # merged into `regular`: never exported
    owner: Actor
    analyst: Actor


def book(conn: Connection, business_id: int, staff_id: int, service_id: int, starts: str,
         *, customer_id: int | None, status: str = "completed", minutes: int = 60,
         price_cents: int = 4500, created: str = "2026-03-20T10:00",
         cancelled: str | None = None) -> int:  # fmt: skip
    start = local(starts)
    values = {
        "business_id": business_id, "staff_id": staff_id, "service_id": service_id,
        "customer_id": customer_id, "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes), "status": status,
        "price_cents": price_cents, "source": "online", "notes": SECRET_NOTE,
        "created_at": local(created), "updated_at": local(created),
        "cancelled_at": local(cancelled) if cancelled else None,
    }  # fmt: skip
    return int(conn.execute(appointments.insert().values(**values)).inserted_primary_key[0])


def _customer(conn: Connection, business_id: int, name: str, **values: object) -> int:
    customer_id = make_customer(conn, business_id, first_name=name)
    values = {"notes": SECRET_NOTE, **values}
    conn.execute(customers.update().where(customers.c.id == customer_id).values(**values))
    return customer_id


def seed_salon(conn: Connection, business_id: int) -> Salon:
    """The salon: bookings over the DST weekend, and another business beside it."""
    ana, ben = make_staff(conn, business_id, name="Ana"), make_staff(conn, business_id, name="Ben")
    cut, color = (
        make_service(conn, business_id, name="Cut"),
        make_service(conn, business_id, name='=HYPERLINK("http://x")'),
    )
    regular = _customer(
        conn, business_id, "Regina", email="regina@example.com", phone="+4915112345678",
        tags=["vip", "color"], sms_opt_in=True, external_id="R-1",
    )  # fmt: skip
    occasional = _customer(conn, business_id, "Otto")
    merged = _customer(conn, business_id, "Regina2", merged_into_id=regular)
    book(conn, business_id, ana, cut, "2026-03-27T23:59", customer_id=regular)  # Friday: out
    book(conn, business_id, ana, cut, "2026-03-28T23:30", customer_id=regular)  # Sat, CET
    book(conn, business_id, ana, cut, "2026-03-29T01:30", customer_id=None)  # across DST
    book(conn, business_id, ben, color, "2026-03-29T10:00", customer_id=regular,
         status="no_show", price_cents=6000)  # fmt: skip
    book(conn, business_id, ana, cut, "2026-03-29T09:00", customer_id=occasional,
         status="cancelled", cancelled="2026-03-28T12:00")  # fmt: skip
    book(conn, business_id, ana, cut, "2026-03-30T00:30", customer_id=None)  # Monday: out
    other = make_business(conn, name="Other Salon", tz=BERLIN)
    o_staff, o_service = make_staff(conn, other, name="Zed"), make_service(conn, other)
    o_customer = _customer(conn, other, "Stranger", email="stranger@example.com")
    book(conn, other, o_staff, o_service, "2026-03-29T10:00", customer_id=o_customer)
    owner, analyst = (
        Actor.for_account(
            account_id=make_account(conn, business_id, role=role),
            business_id=business_id,
            role=role,
        )
        for role in ("owner", "analyst")
    )
    return Salon(business_id, other, ana, ben, cut, color, regular, occasional, merged,
                 owner, analyst)  # fmt: skip


@pytest.fixture
def salon(engine: Engine) -> Salon:
    with write_tx(engine) as conn:
        return seed_salon(conn, make_business(conn, name="Salon Mitte", tz=BERLIN))


def _bookings(engine: Engine, actor: Actor, filters: ReportFilter = WEEKEND, **kw) -> pd.DataFrame:
    with read_conn(engine) as conn:
        chunks = list(iter_bookings(conn, actor=actor, tz=BERLIN, filters=filters, **kw))
    return pd.concat(chunks, ignore_index=True)


def test_bookings_in_local_days_across_dst(engine: Engine, salon: Salon) -> None:
    frame = _bookings(engine, salon.analyst)
    assert list(frame.columns) == list(BOOKING_COLUMNS)
    assert frame["starts_at_local"].tolist() == [
        pd.Timestamp("2026-03-28 23:30"), pd.Timestamp("2026-03-29 01:30"),
        pd.Timestamp("2026-03-29 09:00"), pd.Timestamp("2026-03-29 10:00"),
    ]  # fmt: skip
    # 60 real minutes from 01:30 CET end at 03:30 CEST
    assert frame["ends_at_local"].tolist()[1] == pd.Timestamp("2026-03-29 03:30")
    assert frame["weekday"].tolist() == ["Saturday", "Sunday", "Sunday", "Sunday"]
    assert frame["staff"].tolist() == ["Ana", "Ana", "Ana", "Ben"]
    assert frame["status"].tolist() == ["completed", "completed", "cancelled", "no_show"]
    assert frame["price"].tolist() == [45.0, 45.0, 45.0, 60.0]
    assert frame["customer_id"].iloc[0] == salon.regular
    assert pd.isna(frame["customer_id"].iloc[1])  # a walk-in
    assert frame["cancelled_at_local"].tolist()[2] == pd.Timestamp("2026-03-28 12:00")
    assert frame["cancelled_at_local"].isna().sum() == 3
    assert frame["created_at_local"].iloc[0] == pd.Timestamp("2026-03-20 10:00")
    # created 20 Mar 10:00 CET, starts 28 Mar 23:30 CET: 8 days 13.5 hours
    assert frame["lead_time_days"].iloc[0] == pytest.approx(8.5625)
    assert str(frame["starts_at_local"].dtype) == "datetime64[us]"
    assert str(frame["customer_id"].dtype) == "Int64"
    with read_conn(engine) as conn:
        assert count_bookings(conn, actor=salon.analyst, tz=BERLIN, filters=WEEKEND) == 4


def test_bookings_filters_and_chunks(engine: Engine, salon: Salon) -> None:
    whole = _bookings(engine, salon.owner)
    chunked = _bookings(engine, salon.owner, chunk_rows=3)
    pd.testing.assert_frame_equal(whole, chunked)
    only_ben = ReportFilter(WEEKEND.start, WEEKEND.end, staff_ids=(salon.ben,))
    assert _bookings(engine, salon.owner, only_ben)["staff"].tolist() == ["Ben"]
    cuts = ReportFilter(WEEKEND.start, WEEKEND.end, service_ids=(salon.cut,))
    assert set(_bookings(engine, salon.owner, cuts)["service"]) == {"Cut"}
    with read_conn(engine) as conn:
        assert count_bookings(conn, actor=salon.owner, tz=BERLIN, filters=only_ben) == 1


def test_empty_range_yields_one_typed_empty_frame(engine: Engine, salon: Salon) -> None:
    quiet = ReportFilter(date(2025, 1, 1), date(2025, 1, 2))
    with read_conn(engine) as conn:
        chunks = list(iter_bookings(conn, actor=salon.owner, tz=BERLIN, filters=quiet))
    assert len(chunks) == 1 and chunks[0].empty
    assert chunks[0].dtypes.astype(str).to_dict() == BOOKING_COLUMNS


def test_other_business_never_appears(engine: Engine, salon: Salon) -> None:
    other = Actor.for_account(account_id=9, business_id=salon.other_business_id, role="owner")
    theirs = _bookings(engine, other)
    assert theirs["staff"].tolist() == ["Zed"]
    assert "Zed" not in set(_bookings(engine, salon.owner)["staff"])
    with read_conn(engine) as conn:
        ours = pd.concat(iter_customers(conn, actor=salon.owner, tz=BERLIN, include_contacts=True))
    assert "Stranger" not in set(ours["first_name"])
    assert "stranger@example.com" not in set(ours["email"].dropna())


def test_staff_role_may_not_export(engine: Engine, salon: Salon) -> None:
    desk = Actor.for_account(account_id=3, business_id=salon.business_id, role="staff")
    with read_conn(engine) as conn, pytest.raises(PermissionDenied):
        iter_bookings(conn, actor=desk, tz=BERLIN, filters=WEEKEND)
    with read_conn(engine) as conn, pytest.raises(PermissionDenied):
        iter_customers(conn, actor=desk, tz=BERLIN)
    with read_conn(engine) as conn, pytest.raises(PermissionDenied):
        count_customers(conn, actor=desk)


def _customers(engine: Engine, actor: Actor, include_contacts: bool) -> pd.DataFrame:
    with read_conn(engine) as conn:
        chunks = iter_customers(
            conn, actor=actor, tz=BERLIN, include_contacts=include_contacts, chunk_rows=1
        )
        return pd.concat(list(chunks), ignore_index=True)


def test_customers_without_contacts(engine: Engine, salon: Salon) -> None:
    frame = _customers(engine, salon.analyst, include_contacts=False)
    assert list(frame.columns) == list(customer_columns(False))
    assert not set(CONTACT_COLUMNS) & set(frame.columns)
    assert frame["customer_id"].tolist() == [salon.regular, salon.occasional]  # merged: out
    regular, occasional = frame.iloc[0], frame.iloc[1]
    assert (regular["visits"], regular["no_shows"], regular["cancellations"]) == (2, 1, 0)
    assert regular["total_spent"] == 90.0
    assert regular["first_visit_local"] == pd.Timestamp("2026-03-27 23:59")
    assert regular["last_visit_local"] == pd.Timestamp("2026-03-28 23:30")
    assert (regular["tags"], regular["external_id"]) == ("vip, color", "R-1")
    assert bool(regular["sms_opt_in"]) and not bool(regular["email_opt_in"])
    assert (occasional["visits"], occasional["cancellations"]) == (0, 1)
    assert pd.isna(occasional["first_visit_local"])
    dump = frame.to_csv()
    assert SECRET_NOTE not in dump and "Regina" not in dump and "regina@" not in dump
    with read_conn(engine) as conn:
        assert count_customers(conn, actor=salon.analyst) == 2


def test_customers_with_contacts(engine: Engine, salon: Salon) -> None:
    frame = _customers(engine, salon.analyst, include_contacts=True)
    assert list(frame.columns) == list(customer_columns(True))
    assert frame["first_name"].tolist() == ["Regina", "Otto"]
    assert frame["email"].tolist()[0] == "regina@example.com"
    assert frame["phone"].tolist()[0] == "+4915112345678"
    assert "notes" not in frame.columns
    assert SECRET_NOTE not in frame.to_csv()


# --- reports.exports.write_export on both engines ---------------------------------------


def _audit_rows(engine: Engine) -> list[dict]:
    with read_conn(engine) as conn:
        query = sa.select(audit_log).where(audit_log.c.action == "export")
        return [dict(r) for r in conn.execute(query).mappings()]


def test_contact_export_is_audited_and_counted(engine: Engine, salon: Salon) -> None:
    request = ExportRequest(("bookings", "customers"), "csv", WEEKEND, include_contacts=True)
    out = io.BytesIO()
    result = write_export(engine, actor=salon.analyst, request=request, out=out)
    assert result.rows == {"bookings": 4, "customers": 2}
    assert result.filename.endswith(".zip") and result.mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert sorted(archive.namelist()) == ["bookings.csv", "customers.csv"]
        people = pd.read_csv(archive.open("customers.csv"))
    assert people["email"].tolist()[0] == "regina@example.com"
    (entry,) = _audit_rows(engine)
    assert entry["entity"] == "customers" and entry["account_id"] == salon.analyst.account_id
    assert entry["actor"] == salon.analyst.label and entry["diff"]["rows"] == [None, 2]
    with read_conn(engine) as conn:
        events = conn.execute(sa.select(analytics_events.c.event_data)).scalars().all()
    assert len(events) == 1 and events[0]["rows"] == 6
    assert events[0]["tables"] == ["bookings", "customers"] and events[0]["format"] == "csv"


def test_export_without_contacts_is_not_audited(engine: Engine, salon: Salon) -> None:
    request = ExportRequest(("customers",), "parquet", WEEKEND)
    out = io.BytesIO()
    result = write_export(engine, actor=salon.analyst, request=request, out=out)
    assert result.rows == {"customers": 2} and result.filename.endswith(".parquet")
    frame = pd.read_parquet(io.BytesIO(out.getvalue()))
    assert "email" not in frame.columns and frame["visits"].tolist() == [2, 0]
    assert _audit_rows(engine) == []


def test_empty_export_writes_nothing(engine: Engine, salon: Salon) -> None:
    empty = ReportFilter(date(2025, 1, 1), date(2025, 1, 31))
    out = io.BytesIO()
    with pytest.raises(NothingToExport):
        write_export(
            engine, actor=salon.owner, request=ExportRequest(("bookings",), "xlsx", empty), out=out
        )
    assert out.getvalue() == b""
    with read_conn(engine) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(analytics_events)).scalar() == 0

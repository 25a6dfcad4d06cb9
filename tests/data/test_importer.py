"""CSV import of customers and appointments, on SQLite and PostgreSQL.

The example exports in examples/import are imported as they are; other shapes and bad
input are written into tmp_path by each test. `now` is fixed, so "auto" statuses are
deterministic.
"""

from __future__ import annotations

import csv
import itertools
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.roles import Actor, PermissionDenied, Role
from bench.import_bench import MAPPING as BENCH_MAPPING
from bench.import_bench import write_appointments_csv
from data import catalog
from data.business import create_business
from data.db import read_conn, write_tx
from data.importer import (
    ImportFileError,
    ImportMapping,
    ImportReport,
    MappingError,
    import_appointments,
    import_customers,
    load_mapping,
    parse_mapping,
    preview_csv,
    suggest_columns,
)
from data.importer import load as load_module
from data.importer.values import parse_duration, parse_price, parse_status, parse_time
from data.schema import appointments, audit_log, customers, services, staff
from scheduling.business import BusinessSettings
from scheduling.catalog import ServiceInput, StaffInput

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "import"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HEADER = [
    "ID",
    "Date",
    "Time",
    "Minutes",
    "Staff",
    "Service",
    "Customer",
    "Phone",
    "Email",
    "Status",
    "Price",
    "Notes",
]
BASE: dict[str, Any] = {
    "kind": "appointments",
    "columns": {
        "id": "ID",
        "date": "Date",
        "time": "Time",
        "duration": "Minutes",
        "staff": "Staff",
        "service": "Service",
        "customer_name": "Customer",
        "phone": "Phone",
        "email": "Email",
        "status": "Status",
        "price": "Price",
        "notes": "Notes",
    },
    "create_missing": {"staff": True, "services": True, "customers": True},
}
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x"]


def row(
    ident: str,
    *,
    date: str = "2026-10-05",
    at: str = "10:00",
    minutes: str = "45",
    staff_name: str = "Anna",
    service: str = "Cut",
    customer: str = "Ada Lovelace",
    phone: str = "030 1234567",
    email: str = "ada@example.com",
    status: str = "completed",
    price: str = "45,00",
    notes: str = "",
) -> list[str]:
    return [
        ident,
        date,
        at,
        minutes,
        staff_name,
        service,
        customer,
        phone,
        email,
        status,
        price,
        notes,
    ]


def write_csv(
    folder: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    name: str = "export.csv",
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    path = folder / name
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def mapping(**changes: Any) -> ImportMapping:
    data = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return parse_mapping(data)


def owner(business_id: int) -> Actor:
    return Actor.operator(business_id=business_id)


def run_appointments(
    engine: Engine, business_id: int, source: Any, m: Any, **kw: Any
) -> ImportReport:
    return import_appointments(
        engine, actor=owner(business_id), source=source, mapping=m, now=NOW, **kw
    )


_slugs = itertools.count(1)


def make_us_business(conn: Connection) -> int:
    settings = BusinessSettings(
        name="Uptown Hair", timezone="America/New_York", country="US", currency="USD"
    )
    return create_business(conn, settings=settings, slug=f"uptown-{next(_slugs)}")


def counts(engine: Engine) -> dict[str, int]:
    with read_conn(engine) as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (appointments, customers, staff, services, audit_log)
        }


def fetch(engine: Engine, business_id: int) -> dict[str, dict[str, Any]]:
    """Appointments by external id (or import order), with staff, service and customer."""
    joined = (
        appointments.join(staff, staff.c.id == appointments.c.staff_id)
        .join(services, services.c.id == appointments.c.service_id)
        .outerjoin(customers, customers.c.id == appointments.c.customer_id)
    )
    query = (
        sa.select(
            appointments,
            staff.c.display_name.label("staff_name"),
            services.c.name.label("service_name"),
            services.c.duration_min,
            customers.c.first_name,
            customers.c.last_name,
            customers.c.phone,
            customers.c.external_id.label("customer_external_id"),
        )
        .select_from(joined)
        .where(appointments.c.business_id == business_id)
        .order_by(appointments.c.id)
    )
    with read_conn(engine) as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    return {r["external_id"] or str(n): r for n, r in enumerate(rows)}


def reasons(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in report.errors]


# --- the example exports ---------------------------------------------------------------


def test_us_export_after_its_customer_list(engine: Engine) -> None:
    with write_tx(engine) as conn:
        business_id = make_us_business(conn)
        other = make_us_business(conn)  # same source ids in another business: never matched
    import_customers(
        engine,
        actor=owner(other),
        source=EXAMPLES / "us_customers.csv",
        mapping=EXAMPLES / "us_customers.json",
        now=NOW,
    )
    people = import_customers(
        engine,
        actor=owner(business_id),
        source=EXAMPLES / "us_customers.csv",
        mapping=EXAMPLES / "us_customers.json",
        now=NOW,
    )
    assert (people.committed, people.created["customers"], people.errors) == (True, 6, [])
    report = run_appointments(
        engine, business_id, EXAMPLES / "us_appointments.csv", EXAMPLES / "us_appointments.toml"
    )
    assert report.ok and report.committed
    assert report.created == {"appointments": 12, "customers": 2, "staff": 3, "services": 5}
    booked = fetch(engine, business_id)
    no_show = booked["A-1003"]
    assert no_show["status"] == "no_show" and no_show["source"] == "import"
    assert no_show["starts_at"] == datetime(2026, 10, 5, 17, 30, tzinfo=UTC)  # 1:30 PM EDT
    assert no_show["ends_at"] - no_show["starts_at"] == timedelta(minutes=30)
    assert no_show["created_at"] == datetime(2026, 10, 4, 22, 45, tzinfo=UTC)  # booked 6:45 PM
    assert (no_show["price_cents"], no_show["customer_external_id"]) == (3500, "C-503")
    assert (no_show["first_name"], no_show["phone"]) == ("Wade", "+14155552671")
    assert booked["A-1007"]["price_cents"] == 125_000  # "$1,250.00"
    assert booked["A-1007"]["ends_at"] - booked["A-1007"]["starts_at"] == timedelta(hours=3)
    assert booked["A-1002"]["notes"] == "Prefers ammonia-free color, no fragrance"
    assert booked["A-1010"]["status"] == "booked"  # "No" and after `now`: auto
    assert booked["A-1009"]["status"] == "completed"
    assert booked["A-1010"]["customer_external_id"] == "C-507"  # created by the import
    with read_conn(engine) as conn:
        jane = conn.execute(
            sa.select(customers).where(
                customers.c.business_id == business_id, customers.c.external_id == "C-501"
            )
        ).one()
    assert (jane.tags, jane.sms_opt_in, jane.sms_opt_in_at) == (["color", "vip"], True, NOW)


def test_date_only_european_export_places_visits_one_after_another(
    engine: Engine, business: int
) -> None:
    report = run_appointments(
        engine, business, EXAMPLES / "eu_visits.csv", EXAMPLES / "eu_visits.toml"
    )
    assert report.ok and report.created == {
        "appointments": 7,
        "customers": 5,
        "staff": 1,
        "services": 1,
    }
    rows = list(fetch(engine, business).values())
    first_day = [r for r in rows if r["starts_at"].date() == datetime(2026, 11, 2).date()]
    starts = [r["starts_at"].astimezone(UTC).strftime("%H:%M") for r in first_day]
    assert starts == ["08:00", "08:45", "09:30"]  # 09:00, 09:45, 10:30 in Berlin (CET)
    assert {r["staff_name"] for r in rows} == {"Unassigned"}
    assert {(r["service_name"], r["duration_min"]) for r in rows} == {("Visit", 45)}
    assert first_day[1]["price_cents"] == 3850 and first_day[1]["notes"] == "Stammkunde, zahlt bar"
    assert first_day[2]["first_name"] == "Zoë" and first_day[2]["last_name"] == "Schäfer"
    assert first_day[0]["phone"] == "+4915123456789"
    assert {r["status"] for r in rows} == {"completed"}


# --- dry run, atomicity, re-import -------------------------------------------------------


def test_dry_run_reports_the_same_and_writes_nothing(engine: Engine, business: int) -> None:
    before = counts(engine)
    dry = run_appointments(
        engine, business, EXAMPLES / "eu_visits.csv", EXAMPLES / "eu_visits.toml", dry_run=True
    )
    assert counts(engine) == before
    assert (dry.dry_run, dry.committed) == (True, False)
    assert "would_create" in dry.to_dict() and "dry run" in dry.outcome
    real = run_appointments(
        engine, business, EXAMPLES / "eu_visits.csv", EXAMPLES / "eu_visits.toml"
    )
    assert real.created == dry.created and real.committed


@pytest.mark.parametrize("batch_rows", [2_000, 2])
def test_one_bad_row_means_nothing_is_imported_unless_skipped(
    engine: Engine, business: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(load_module, "BATCH_ROWS", batch_rows)
    path = write_csv(
        tmp_path,
        [
            row("1"),
            row("2", at="11:00"),
            row("3", date="31.02.2026"),
            row("4", at="12:00", customer="Grace Hopper", phone=""),
        ],
    )
    before = counts(engine)
    report = run_appointments(engine, business, path, mapping())
    assert not report.committed and counts(engine) == before
    assert report.rejected_rows == 1 and report.created["appointments"] == 3
    assert reasons(report) == [
        (4, "Date", "'31.02.2026' does not match the date format %Y-%m-%d (e.g. 2026-05-31)")
    ]
    skipped = run_appointments(engine, business, path, mapping(), skip_bad_rows=True)
    assert skipped.committed and not skipped.ok
    assert counts(engine)["appointments"] == before["appointments"] + 3
    assert counts(engine)["customers"] == before["customers"] + 2


@pytest.mark.parametrize("batch_rows", [2_000, 2])
def test_importing_the_same_file_twice_adds_nothing(
    engine: Engine, business: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(load_module, "BATCH_ROWS", batch_rows)
    date_only = mapping(columns={"time": None}, defaults={"start_time": "09:00"})
    plain = write_csv(
        tmp_path, [row("1"), row("2", at="11:00"), row("3", at="12:00")], name="a.csv"
    )
    nameless = write_csv(
        tmp_path, [row(""), row("", customer="Grace Hopper", phone="")], name="b.csv"
    )
    for source, m in (
        (plain, mapping()),
        (nameless, date_only),
        (EXAMPLES / "eu_visits.csv", EXAMPLES / "eu_visits.toml"),
    ):
        first = run_appointments(engine, business, source, m)
        assert first.ok and first.created["appointments"] > 0, reasons(first)
        after_first = counts(engine)
        second = run_appointments(engine, business, source, m)
        assert second.ok and second.committed
        assert second.skipped_duplicates == first.rows_read
        assert set(second.created.values()) == {0}
        assert {k: v for k, v in counts(engine).items() if k != "audit_log"} == {
            k: v for k, v in after_first.items() if k != "audit_log"
        }


def test_duplicate_rows_within_one_file_are_skipped(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, [row("7"), row("7"), row("", at="12:00"), row("", at="12:00")])
    report = run_appointments(engine, business, path, mapping())
    assert report.ok and report.skipped_duplicates == 2
    assert report.created["appointments"] == 2  # id "7", and the row without an id


def test_customers_import_is_idempotent_and_keeps_people_apart(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    header = ["First", "Last", "Phone", "Email"]
    people = [
        ["Ada", "Lovelace", "030 1234567", ""],
        ["ADA", "lovelace", "+49 30 1234567", ""],  # the same person, written differently
        ["Alan", "Lovelace", "030 1234567", ""],  # shares the family phone: someone else
        ["Ada", "Lovelace", "", "ada@example.com"],
    ]
    path = write_csv(tmp_path, people, header=header)
    m = parse_mapping(
        {
            "kind": "customers",
            "columns": {
                "first_name": "First",
                "last_name": "Last",
                "phone": "Phone",
                "email": "Email",
            },
        }
    )
    first = import_customers(engine, actor=owner(business), source=path, mapping=m)
    assert (first.created["customers"], first.skipped_duplicates) == (2, 2)
    again = import_customers(engine, actor=owner(business), source=path, mapping=m)
    assert (again.created["customers"], again.skipped_duplicates) == (0, 4)


# --- bad input ---------------------------------------------------------------------------


def test_every_bad_row_is_listed_with_row_column_and_reason(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    bad = [
        row("1", date="2026-13-40"),
        row("2", at="25:99"),
        row("3", phone="12"),
        row("4", email="ada@"),
        row("5", status="Maybe"),
        row("6", price="-12,50"),
        row("7", minutes="0"),
        row("8", price="twelve", at="2:30 PM", staff_name=""),
        [*row("9"), "surplus"],
    ]
    report = run_appointments(
        engine,
        business,
        write_csv(tmp_path, bad),
        mapping(status_map={"Yes": "no_show"}, defaults={"staff": None}),
    )
    found = {(r, c): reason for r, c, reason in reasons(report)}
    assert "does not match the date format %Y-%m-%d" in found[(2, "Date")]
    assert found[(3, "Time")] == "'25:99' is not a time like 14:30 or 2:30 PM"
    assert "'12' is not a valid phone number" in found[(4, "Phone")]
    assert "numbers without a country code are read as DE numbers" in found[(4, "Phone")]
    assert "'ada@' is not a valid e-mail address" in found[(5, "Email")]
    assert found[(6, "Status")] == (
        "unknown status 'Maybe'; allowed: Yes, booked, confirmed, completed, cancelled, no_show"
    )
    assert found[(7, "Price")] == "'-12,50' is negative; a price must be 0 or more"
    assert "more than 0 and at most 24 hours" in found[(8, "Minutes")]
    assert found[(9, "Price")] == "'twelve' is not a price like 12.50 or 12,50"
    assert "no staff" in found[(9, "Staff")]
    assert "has 13 cells but the header has 12" in found[(10, "(whole row)")]
    assert report.rejected_rows == 9 and not report.committed


def test_unknown_staff_services_and_customers_when_not_created(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    actor = owner(business)
    with write_tx(engine) as conn:
        cut = catalog.create_service(
            conn,
            actor=actor,
            data=ServiceInput(name="Cut", duration_min=30, price=30),  # type: ignore[call-arg]
        )
        catalog.create_staff(conn, actor=actor, data=StaffInput(display_name="ANNA"))
    path = write_csv(
        tmp_path,
        [row("1", minutes="", price=""), row("2", staff_name="Bo", service="Perm", at="11:00")],
    )
    strict = mapping(create_missing={"staff": False, "services": False, "customers": False})
    report = run_appointments(engine, business, path, strict)
    assert sorted(reasons(report)) == [
        (
            2,
            "Customer",
            "unknown customer 'Ada Lovelace / +49301234567 / ada@example.com': "
            "import the customers first, or allow create_missing.customers",
        ),
        (
            3,
            "Customer",
            "unknown customer 'Ada Lovelace / +49301234567 / ada@example.com': "
            "import the customers first, or allow create_missing.customers",
        ),
        (
            3,
            "Service",
            "unknown service 'Perm': add it on the Team page, or allow create_missing.services",
        ),
        (
            3,
            "Staff",
            "unknown staff member 'Bo': add them on the Team page, or allow create_missing.staff",
        ),
    ]
    lenient = mapping(create_missing={"staff": False, "services": False, "customers": True})
    report = run_appointments(engine, business, path, lenient, skip_bad_rows=True)
    assert report.created == {"appointments": 1, "customers": 1, "staff": 0, "services": 0}
    imported = fetch(engine, business)["1"]
    assert (imported["service_id"], imported["staff_name"]) == (cut, "ANNA")  # case-insensitive
    assert imported["price_cents"] == 3000  # no price or duration: the service's
    assert imported["ends_at"] - imported["starts_at"] == timedelta(minutes=30)


def test_overlaps_with_the_calendar_and_within_the_file(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    existing = write_csv(tmp_path, [row("old", at="10:00")], name="old.csv")
    assert run_appointments(engine, business, existing, mapping()).ok
    path = write_csv(
        tmp_path,
        [
            row("a", at="10:30"),  # overlaps the existing 10:00-10:45
            row("b", at="10:45"),  # back to back with it: fine
            row("c", at="11:00"),  # overlaps b (10:45-11:30)
            row("d", at="11:00", status="cancelled"),  # cancelled: never in the way
            row("e", at="11:00", staff_name="Bea"),  # another stylist
        ],
        name="new.csv",
    )
    report = run_appointments(engine, business, path, mapping())
    assert reasons(report) == [
        (2, "Time", "overlaps appointment old: Anna is booked Mon 2026-10-05 10:00-10:45"),
        (4, "Time", "overlaps row 3: Anna is booked Mon 2026-10-05 10:45-11:30"),
    ]
    assert report.created["appointments"] == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"csv": {"encoding": "utf-8-sig"}}, "not utf-8-sig text: row 2 (line 2 of the file)"),
        ({"csv": {"delimiter": ","}}, "'Datum;Kunde;Telefon;E-Mail;Betrag;Bemerkung'"),
        ({"columns": {"date": "Tag"}}, "the header has no column 'Tag' (columns.date)"),
    ],
)
def test_unreadable_files_get_a_clear_error(
    engine: Engine, business: int, changes: dict[str, Any], message: str
) -> None:
    base = load_mapping(EXAMPLES / "eu_visits.toml").model_dump()
    for key, value in changes.items():
        base[key].update(value)
    with pytest.raises(ImportFileError) as caught:
        run_appointments(engine, business, EXAMPLES / "eu_visits.csv", parse_mapping(base))
    assert message in str(caught.value)
    assert counts(engine)["appointments"] == 0


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    preview = preview_csv(write_csv(tmp_path, [row("1", notes="a, b; c")], delimiter=delimiter))
    assert (preview.delimiter, preview.header) == (delimiter, HEADER)
    assert preview.rows[0][-1] == "a, b; c"


def test_wrong_delimiter_on_import(engine: Engine, business: int, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [row("1")], delimiter=";")
    with pytest.raises(ImportFileError) as caught:
        run_appointments(engine, business, path, mapping(csv={"delimiter": ","}))
    text = str(caught.value)
    assert "Read with delimiter ',' (comma), the header is: 'ID;Date;Time;" in text
    assert "the delimiter is probably wrong" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (",".join(HEADER).encode() + b"\r\n", "no data rows"),
    ],
)
def test_empty_files(
    engine: Engine, business: int, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        run_appointments(engine, business, path, mapping())
    assert counts(engine)["audit_log"] == 1  # only the business's creation


def test_formula_text_is_stored_verbatim(engine: Engine, business: int, tmp_path: Path) -> None:
    header = ["Id", "First", "Last", "Notes"]
    people = [[f"F{n}", text, text, text] for n, text in enumerate(FORMULAS)]
    path = write_csv(tmp_path, people, header=header)
    m = parse_mapping(
        {
            "kind": "customers",
            "columns": {
                "customer_id": "Id",
                "first_name": "First",
                "last_name": "Last",
                "notes": "Notes",
            },
        }
    )
    assert import_customers(engine, actor=owner(business), source=path, mapping=m).ok
    visits = write_csv(
        tmp_path,
        [
            row(str(n), at=f"{9 + n}:00", notes=text, service=text)
            for n, text in enumerate(FORMULAS)
        ],
        name="visits.csv",
    )
    assert run_appointments(engine, business, visits, mapping()).ok
    with read_conn(engine) as conn:
        stored = conn.execute(
            sa.select(customers.c.first_name, customers.c.last_name, customers.c.notes)
            .where(customers.c.external_id.is_not(None))
            .order_by(customers.c.external_id)
        ).all()
    assert [tuple(r) for r in stored] == [(t, t, t) for t in FORMULAS]
    booked = fetch(engine, business)
    assert [booked[str(n)]["notes"].encode() for n in range(4)] == [t.encode() for t in FORMULAS]
    assert [booked[str(n)]["service_name"] for n in range(4)] == FORMULAS


# --- mapping variants ----------------------------------------------------------------------


def test_one_datetime_column_with_an_end_column(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    header = ["When", "Until", "Who", "Stylist", "Treatment", "Booked", "Total"]
    path = write_csv(
        tmp_path,
        [
            [
                "05/10/2026 14:30",
                "15:15",
                "Lovelace, Ada",
                "Anna",
                "Cut",
                "2026-09-30T08:00:00+00:00",
                "1.234,50",
            ],
            ["05/10/2026 16:00", "05/10/2026 17:30", "Grace Hopper", "Anna", "Colour", "", "€ 80"],
        ],
        header=header,
    )
    m = parse_mapping(
        {
            "columns": {
                "date": "When",
                "end": "Until",
                "customer_name": "Who",
                "staff": "Stylist",
                "service": "Treatment",
                "booked_at": "Booked",
                "price": "Total",
            },
            "formats": {"date": "%d/%m/%Y %H:%M"},
            "create_missing": {"staff": True, "services": True, "customers": True},
        }
    )
    report = run_appointments(engine, business, path, m)
    assert report.ok, reasons(report)
    first, second = fetch(engine, business).values()
    assert first["starts_at"] == datetime(2026, 10, 5, 12, 30, tzinfo=UTC)  # CEST
    assert first["ends_at"] - first["starts_at"] == timedelta(minutes=45)
    assert (first["first_name"], first["last_name"]) == ("Ada", "Lovelace")
    assert first["created_at"] == datetime(2026, 9, 30, 8, tzinfo=UTC)
    assert (first["price_cents"], second["price_cents"]) == (123_450, 8_000)
    assert second["ends_at"] - second["starts_at"] == timedelta(minutes=90)
    assert second["created_at"] == NOW  # unknown booking time: when it was imported


def test_tab_separated_first_and_last_names_12_hour_times(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    header = ["Date", "Start", "Length", "First", "Last", "Mobile"]
    path = write_csv(
        tmp_path,
        [
            ["2026-10-05", "9:15 am", "1:15", "Ada", "Lovelace", "+44 20 7946 0958"],
            ["2026-10-05", "12:00 P.M.", "1h 30m", "Ada", "Lovelace", "+442079460958"],
        ],
        header=header,
        delimiter="\t",
    )
    m = parse_mapping(
        {
            "columns": {
                "date": "Date",
                "time": "Start",
                "duration": "Length",
                "first_name": "First",
                "last_name": "Last",
                "phone": "Mobile",
            },
            "defaults": {"staff": "Unassigned", "service": "Visit", "duration_min": 30},
            "create_missing": {"staff": True, "services": True, "customers": True},
        }
    )
    report = run_appointments(engine, business, path, m)
    assert report.ok and report.created["customers"] == 1, reasons(report)
    morning, noon = fetch(engine, business).values()
    assert morning["starts_at"] == datetime(2026, 10, 5, 7, 15, tzinfo=UTC)
    assert noon["starts_at"] - morning["starts_at"] == timedelta(hours=2, minutes=45)
    assert noon["ends_at"] - noon["starts_at"] == timedelta(minutes=90)
    assert morning["customer_id"] == noon["customer_id"]
    assert morning["duration_min"] == 30  # the created service takes defaults.duration_min


def test_json_and_toml_mappings_mean_the_same(tmp_path: Path) -> None:
    toml = load_mapping(EXAMPLES / "us_appointments.toml")
    as_json = tmp_path / "mapping.json"
    as_json.write_text(toml.model_dump_json())
    assert load_mapping(as_json) == toml == load_mapping(as_json.read_bytes())
    assert toml.status_map == {"Yes": "no_show", "No": "auto"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"columns": {"dat": "Date"}}, "columns.dat: Extra inputs are not permitted"),
        ({"status_map": {"Yes": "noshow"}}, "'Yes' maps to 'noshow'"),
        ({"csv": {"encoding": "klingon"}}, "'klingon' is not a known text encoding"),
        ({"formats": {"date": "dd.mm.yyyy"}}, "not a strptime format"),
    ],
)
def test_invalid_mappings_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(data)


def test_mapping_problems_for_each_kind() -> None:
    date_only = parse_mapping({"columns": {"date": "Date"}})
    assert date_only.problems_for("appointments") == [
        "map columns.staff or give defaults.staff (e.g. 'Unassigned')",
        "map columns.service or give defaults.service (e.g. 'Visit')",
        "a date-only export needs defaults.start_time (e.g. '09:00')",
    ]
    assert date_only.problems_for("customers") == [
        "columns.date does not apply to a customers import",
        "map columns.customer_name (full name) or columns.first_name",
    ]
    assert (
        "this mapping imports customers, not appointments"
        in load_mapping(EXAMPLES / "us_customers.json").problems_for("appointments")[0]
    )


def test_suggested_columns_for_the_examples() -> None:
    header = preview_csv(EXAMPLES / "us_appointments.csv").header
    suggested = suggest_columns("appointments", header)
    assert suggested == load_mapping(EXAMPLES / "us_appointments.toml").columns.mapped()


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("12.50", 1250),
        ("12,50", 1250),
        ("$1,234.50", 123_450),
        ("1.234,50 €", 123_450),
        ("1,234", 123_400),
        ("12,5", 1250),
        ("0", 0),
        ("1,234,567", 123_456_700),
        ("€ 80", 8000),
    ],
)
def test_prices(raw: str, cents: int) -> None:
    assert parse_price(raw) == cents


def test_times_durations_and_statuses() -> None:
    assert parse_time("2:30 PM", None) == parse_time("14:30", None) == parse_time("2:30pm", None)
    assert parse_time("12:00 a.m.", None).hour == 0 and parse_time("9.05", None).minute == 5
    assert parse_duration("1:15") == parse_duration("75 min") == parse_duration("1h 15m")
    assert parse_status("No Show", {}) == parse_status("no-show", {}) == "no_show"
    assert parse_status("yes", {"YES": "no_show"}) == "no_show"
    with pytest.raises(ValueError, match="has more than two decimal places"):
        parse_price("0.125")


# --- customers, merging, rights, audit, progress ------------------------------------------


def test_merged_customers_resolve_to_the_one_they_were_merged_into(
    engine: Engine, business: int, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with write_tx(engine) as conn:
        keep = conn.execute(
            customers.insert().values(
                business_id=business,
                first_name="Ada",
                last_name="L.",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            customers.insert().values(
                business_id=business,
                first_name="Ada",
                last_name="Lovelace",
                external_id="C-1",
                merged_into_id=keep,
                created_at=now,
                updated_at=now,
            )
        )
    header = [*HEADER, "Client ID"]
    path = write_csv(tmp_path, [[*row("1"), "C-1"]], header=header)
    report = run_appointments(engine, business, path, mapping(columns={"customer_id": "Client ID"}))
    assert report.ok and report.created["customers"] == 0
    assert fetch(engine, business)["1"]["customer_id"] == keep


def test_only_owners_import(engine: Engine, business: int) -> None:
    for role in (Role.STAFF, Role.ANALYST):
        with pytest.raises(PermissionDenied):
            import_customers(
                engine,
                actor=Actor(None, business, role, "test"),
                source=EXAMPLES / "us_customers.csv",
                mapping=EXAMPLES / "us_customers.json",
            )


def test_one_audit_row_sums_the_import_up(engine: Engine, business: int) -> None:
    run_appointments(engine, business, EXAMPLES / "eu_visits.csv", EXAMPLES / "eu_visits.toml")
    with read_conn(engine) as conn:
        rows = conn.execute(
            sa.select(audit_log.c.entity, audit_log.c.entity_id, audit_log.c.diff).where(
                audit_log.c.action == "import"
            )
        ).all()
    assert len(rows) == 1
    entity, entity_id, diff = rows[0]
    assert (entity, entity_id) == ("appointments", "eu_visits.csv")
    assert diff["created"][1] == {"appointments": 7, "customers": 5, "staff": 1, "services": 1}


def test_progress_reaches_the_end_of_the_file(
    engine: Engine, business: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_module, "BATCH_ROWS", 10)
    days = [row(str(n), date=f"2026-10-{1 + n // 8:02d}", at=f"{9 + n % 8}:00") for n in range(40)]
    seen: list[tuple[int, float | None]] = []
    report = run_appointments(
        engine,
        business,
        write_csv(tmp_path, days),
        mapping(),
        progress=lambda rows, fraction: seen.append((rows, fraction)),
    )
    assert report.ok and [rows for rows, _ in seen] == [10, 20, 30, 40]
    assert seen[-1][1] == 1.0


# --- 100,000 rows ---------------------------------------------------------------------------


@pytest.mark.slow
def test_100k_rows_import_completely(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Scale without a timing: the speed target is bench/import_bench.py's to measure."""
    path = tmp_path / "big.csv"
    write_appointments_csv(path, 100_000)
    with write_tx(sqlite_engine) as conn:
        business_id = make_us_business(conn)
    report = import_appointments(
        sqlite_engine, actor=owner(business_id), source=path, mapping=BENCH_MAPPING, now=NOW
    )
    assert report.ok and report.created["appointments"] == 100_000
    assert report.created["customers"] == 10_000
    assert counts(sqlite_engine)["appointments"] == 100_000


@pytest.mark.slow
def test_memory_does_not_grow_with_the_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The Python heap's peak is set by the batch, not the file: 4x the rows, same peak.

    (RSS is no measure here: SQLite's page cache grows with the database up to its limit.)
    """
    peaks = []
    for rows in (3_000, 12_000):
        path = tmp_path / f"{rows}.csv"
        write_appointments_csv(path, rows, customers=200)
        with write_tx(sqlite_engine) as conn:
            business_id = make_us_business(conn)
        tracemalloc.start()
        try:
            report = import_appointments(
                sqlite_engine, actor=owner(business_id), source=path, mapping=BENCH_MAPPING,
                now=NOW,
            )  # fmt: skip
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert report.ok and report.created["appointments"] == rows
    assert peaks[1] < peaks[0] * 1.25, [peak / 2**20 for peak in peaks]

"""Staff, services, working hours and time off on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.roles import Actor, PermissionDenied, Role
from data import catalog
from data.audit import load_audit_log
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import accounts, audit_log, staff, staff_services
from scheduling.catalog import ServiceInput, Shift, StaffInput, TimeOffInput
from tests.factories import make_business


@dataclass(frozen=True)
class Salon:
    engine: Engine
    business_id: int
    owner: Actor

    def actor(self, role: Role) -> Actor:
        return Actor(None, self.business_id, role, f"test:{role.value}")


def make_account(conn: Connection, business_id: int, *, role: str = "owner") -> int:
    now = datetime.now(UTC)
    values = {
        "business_id": business_id,
        "email": f"{role}-{business_id}@salon.example",
        "display_name": role.title(),
        "role": role,
        "created_at": now,
        "updated_at": now,
    }
    return int(conn.execute(accounts.insert().values(**values)).inserted_primary_key[0])


@pytest.fixture
def salon(engine: Engine) -> Salon:
    with write_tx(engine) as conn:
        business_id = make_business(conn, tz="Europe/Berlin")
        account_id = make_account(conn, business_id)
    owner = Actor.for_account(account_id=account_id, business_id=business_id, role="owner")
    return Salon(engine, business_id, owner)


def service(name: str = "Cut", **fields: Any) -> ServiceInput:
    return ServiceInput(**{"name": name, "duration_min": 45, "price": "45.00", **fields})


def member(name: str = "Anna", **fields: Any) -> StaffInput:
    return StaffInput.from_form(region="DE", **{"display_name": name, **fields})


def shift(day: int, start: int, end: int) -> Shift:
    return Shift(weekday=day, start=time(start), end=time(end))


def audit_rows(salon: Salon, entity: str) -> list[dict[str, Any]]:
    with read_conn(salon.engine) as conn:
        return list(reversed(load_audit_log(conn, actor=salon.owner, entity=entity)))


def count(engine: Engine, table: sa.Table) -> int:
    with read_conn(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def call(salon: Salon, fn: Callable[..., Any], **kwargs: Any) -> Any:
    with write_tx(salon.engine) as conn:
        return fn(conn, actor=salon.owner, **kwargs)


def read(salon: Salon, fn: Callable[..., Any], **kwargs: Any) -> Any:
    with read_conn(salon.engine) as conn:
        return fn(conn, actor=salon.owner, **kwargs)


# --- staff ---------------------------------------------------------------------------


def test_staff_round_trip_with_services_and_audit(salon: Salon) -> None:
    cut = call(salon, catalog.create_service, data=service("Cut"))
    colour = call(salon, catalog.create_service, data=service("Colour"))
    anna = call(
        salon, catalog.create_staff, data=member(phone="030 1234567", service_ids=[colour, cut])
    )

    [row] = read(salon, catalog.list_staff)
    assert row["id"] == anna
    assert row["phone"] == "+49301234567"
    assert row["service_ids"] == sorted([cut, colour])

    changed = member("Anna B.", phone="030 1234567", service_ids=[cut], is_active=False)
    assert call(salon, catalog.update_staff, staff_id=anna, data=changed) is True
    assert call(salon, catalog.update_staff, staff_id=anna, data=changed) is False
    loaded = read(salon, catalog.load_staff, staff_id=anna)
    assert (loaded["display_name"], loaded["is_active"], loaded["service_ids"]) == (
        "Anna B.",
        False,
        [cut],
    )
    assert read(salon, catalog.list_staff, include_inactive=False) == []

    create, update = audit_rows(salon, "staff")
    assert create["action"] == "create" and create["entity_id"] == str(anna)
    assert create["account_id"] == salon.owner.account_id
    assert create["diff"]["display_name"] == [None, "Anna"]
    assert create["diff"]["service_ids"] == [None, sorted([cut, colour])]
    assert update["diff"] == {
        "display_name": ["Anna", "Anna B."],
        "is_active": [True, False],
        "service_ids": [sorted([cut, colour]), [cut]],
    }


def test_update_staff_sets_updated_at(salon: Salon) -> None:
    anna = call(salon, catalog.create_staff, data=member())
    before = read(salon, catalog.load_staff, staff_id=anna)["updated_at"]
    call(salon, catalog.update_staff, staff_id=anna, data=member(email="anna@salon.example"))
    after = read(salon, catalog.load_staff, staff_id=anna)
    assert after["updated_at"] > before
    assert after["created_at"] == before


@pytest.mark.parametrize("name", ["Anna", "anna", " ANNA "])
def test_duplicate_staff_name_refused_with_nothing_written(salon: Salon, name: str) -> None:
    call(salon, catalog.create_staff, data=member("Anna"))
    audits = count(salon.engine, audit_log)
    with pytest.raises(catalog.DuplicateName, match="already exists"):
        call(salon, catalog.create_staff, data=member(name))
    assert count(salon.engine, staff) == 1
    assert count(salon.engine, audit_log) == audits


def test_renaming_staff_onto_another_name_is_refused(salon: Salon) -> None:
    cut = call(salon, catalog.create_service, data=service())
    call(salon, catalog.create_staff, data=member("Anna"))
    bo = call(salon, catalog.create_staff, data=member("Bo"))
    with pytest.raises(catalog.DuplicateName):
        call(salon, catalog.update_staff, staff_id=bo, data=member("Anna", service_ids=[cut]))
    loaded = read(salon, catalog.load_staff, staff_id=bo)
    assert (loaded["display_name"], loaded["service_ids"]) == ("Bo", [])
    # keeping one's own name is not a duplicate
    assert call(salon, catalog.update_staff, staff_id=bo, data=member("Bo", service_ids=[cut]))


def test_unknown_service_refused_with_nothing_written(salon: Salon) -> None:
    cut = call(salon, catalog.create_service, data=service())
    with pytest.raises(NotFound, match="service 9999"):
        call(salon, catalog.create_staff, data=member(service_ids=[cut, 9999]))
    assert count(salon.engine, staff) == 0
    assert count(salon.engine, staff_services) == 0


def test_unknown_staff_is_not_found(salon: Salon) -> None:
    with pytest.raises(NotFound):
        call(salon, catalog.update_staff, staff_id=4242, data=member())
    with pytest.raises(NotFound):
        read(salon, catalog.load_staff, staff_id=4242)


# --- services ------------------------------------------------------------------------


def test_service_round_trip_and_audit(salon: Salon) -> None:
    cut = call(salon, catalog.create_service, data=service("Cut", category="Hair", buffer_min=10))
    [row] = read(salon, catalog.list_services)
    assert (row["id"], row["price_cents"], row["buffer_min"], row["category"]) == (
        cut,
        4500,
        10,
        "Hair",
    )
    dearer = service("Cut", category="Hair", buffer_min=10, price=Decimal("49.90"))
    assert call(salon, catalog.update_service, service_id=cut, data=dearer) is True
    assert call(salon, catalog.update_service, service_id=cut, data=dearer) is False
    assert read(salon, catalog.list_services)[0]["price_cents"] == 4990

    create, update = audit_rows(salon, "services")
    assert create["diff"]["price_cents"] == [None, 4500]
    assert "price" not in create["diff"]
    assert update["diff"] == {"price_cents": [4500, 4990]}


def test_services_filter_inactive(salon: Salon) -> None:
    call(salon, catalog.create_service, data=service("Cut"))
    call(salon, catalog.create_service, data=service("Perm", is_active=False))
    names = [row["name"] for row in read(salon, catalog.list_services, include_inactive=False)]
    assert names == ["Cut"]


def test_duplicate_service_name_refused(salon: Salon) -> None:
    call(salon, catalog.create_service, data=service("Cut"))
    perm = call(salon, catalog.create_service, data=service("Perm"))
    with pytest.raises(catalog.DuplicateName, match="'CUT' already exists"):
        call(salon, catalog.create_service, data=service("CUT"))
    with pytest.raises(catalog.DuplicateName):
        call(salon, catalog.update_service, service_id=perm, data=service("cut"))
    assert sorted(row["name"] for row in read(salon, catalog.list_services)) == ["Cut", "Perm"]
    assert len(audit_rows(salon, "services")) == 2


# --- working hours -------------------------------------------------------------------


def test_working_hours_replace_the_week_and_audit_once(salon: Salon) -> None:
    anna = call(salon, catalog.create_staff, data=member())
    assert read(salon, catalog.load_working_hours, staff_id=anna) == []

    week = [shift(1, 14, 18), shift(0, 9, 17), shift(1, 9, 12)]
    call(salon, catalog.save_working_hours, staff_id=anna, shifts=week)
    loaded = read(salon, catalog.load_working_hours, staff_id=anna)
    assert loaded == [shift(0, 9, 17), shift(1, 9, 12), shift(1, 14, 18)]

    call(salon, catalog.save_working_hours, staff_id=anna, shifts=[shift(4, 10, 16)])
    call(salon, catalog.save_working_hours, staff_id=anna, shifts=[shift(4, 10, 16)])  # no-op
    assert read(salon, catalog.load_working_hours, staff_id=anna) == [shift(4, 10, 16)]

    first, second = audit_rows(salon, "working_hours")
    assert first["entity_id"] == str(anna)
    assert first["diff"] == {
        "shifts": [[], ["Mon 09:00-17:00", "Tue 09:00-12:00", "Tue 14:00-18:00"]]
    }
    assert second["diff"]["shifts"][1] == ["Fri 10:00-16:00"]


def test_overlapping_week_is_refused_and_old_week_kept(salon: Salon) -> None:
    anna = call(salon, catalog.create_staff, data=member())
    call(salon, catalog.save_working_hours, staff_id=anna, shifts=[shift(0, 9, 17)])
    with pytest.raises(ValueError, match="Monday: 09:00-13:00 and 12:00-18:00 overlap"):
        call(
            salon,
            catalog.save_working_hours,
            staff_id=anna,
            shifts=[shift(0, 9, 13), shift(0, 12, 18)],
        )
    assert read(salon, catalog.load_working_hours, staff_id=anna) == [shift(0, 9, 17)]


def test_working_hours_of_unknown_staff(salon: Salon) -> None:
    with pytest.raises(NotFound):
        call(salon, catalog.save_working_hours, staff_id=777, shifts=[shift(0, 9, 10)])
    with pytest.raises(NotFound):
        read(salon, catalog.load_working_hours, staff_id=777)


# --- time off ------------------------------------------------------------------------


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_time_off_round_trip_in_utc(salon: Salon) -> None:
    anna = call(salon, catalog.create_staff, data=member())
    holiday = TimeOffInput(
        staff_id=anna,
        start_local=local("2026-10-24 00:00"),
        end_local=local("2026-10-26 00:00"),
        reason="Autumn break",
    )
    closed = TimeOffInput(
        start_local=local("2026-12-24 13:00"), end_local=local("2026-12-27 00:00"), reason="Xmas"
    )
    first = call(salon, catalog.create_time_off, data=holiday, timezone="Europe/Berlin")
    second = call(salon, catalog.create_time_off, data=closed, timezone="Europe/Berlin")

    rows = read(salon, catalog.list_time_off)
    assert [(r["id"], r["staff_id"], r["staff_name"]) for r in rows] == [
        (first, anna, "Anna"),
        (second, None, None),
    ]
    assert (rows[0]["starts_at"], rows[0]["ends_at"]) == (
        utc("2026-10-23 22:00"),
        utc("2026-10-25 23:00"),
    )
    assert rows[1]["starts_at"] == utc("2026-12-24 12:00")

    assert [r["id"] for r in read(salon, catalog.list_time_off, start=utc("2026-11-01"))] == [
        second
    ]
    window = {"start": utc("2026-10-25 12:00"), "end": utc("2026-10-25 13:00")}
    assert [r["id"] for r in read(salon, catalog.list_time_off, **window)] == [first]
    assert read(salon, catalog.list_time_off, end=utc("2026-10-23 22:00")) == []

    [audit, _] = audit_rows(salon, "time_off")
    assert audit["diff"]["starts_at"] == [None, "2026-10-23T22:00:00+00:00"]


def test_delete_time_off_is_audited(salon: Salon) -> None:
    data = TimeOffInput(start_local=local("2026-05-01 00:00"), end_local=local("2026-05-02 00:00"))
    time_off_id = call(salon, catalog.create_time_off, data=data, timezone="Europe/Berlin")
    call(salon, catalog.delete_time_off, time_off_id=time_off_id)
    assert read(salon, catalog.list_time_off) == []
    _, deleted = audit_rows(salon, "time_off")
    assert deleted["action"] == "delete"
    assert deleted["diff"]["ends_at"] == ["2026-05-01T22:00:00+00:00", None]
    with pytest.raises(NotFound):
        call(salon, catalog.delete_time_off, time_off_id=time_off_id)


def test_time_off_for_unknown_staff(salon: Salon) -> None:
    data = TimeOffInput(
        staff_id=31337, start_local=local("2026-05-01 00:00"), end_local=local("2026-05-02")
    )
    with pytest.raises(NotFound):
        call(salon, catalog.create_time_off, data=data, timezone="Europe/Berlin")


# --- role gates ----------------------------------------------------------------------


MUTATIONS: dict[str, Callable[..., Any]] = {
    "create_staff": lambda conn, actor, ids: catalog.create_staff(
        conn, actor=actor, data=member("Eve")
    ),
    "update_staff": lambda conn, actor, ids: catalog.update_staff(
        conn, actor=actor, staff_id=ids["staff"], data=member("Eve")
    ),
    "create_service": lambda conn, actor, ids: catalog.create_service(
        conn, actor=actor, data=service("Evil cut")
    ),
    "update_service": lambda conn, actor, ids: catalog.update_service(
        conn, actor=actor, service_id=ids["service"], data=service("Evil cut")
    ),
    "save_working_hours": lambda conn, actor, ids: catalog.save_working_hours(
        conn, actor=actor, staff_id=ids["staff"], shifts=[shift(6, 1, 2)]
    ),
    "create_time_off": lambda conn, actor, ids: catalog.create_time_off(
        conn,
        actor=actor,
        data=TimeOffInput(start_local=local("2026-06-01"), end_local=local("2026-06-02")),
        timezone="Europe/Berlin",
    ),
    "delete_time_off": lambda conn, actor, ids: catalog.delete_time_off(
        conn, actor=actor, time_off_id=ids["time_off"]
    ),
}


@pytest.mark.parametrize("role", [Role.STAFF, Role.ANALYST])
def test_only_owners_change_the_catalogue(salon: Salon, role: Role) -> None:
    cut = call(salon, catalog.create_service, data=service())
    anna = call(salon, catalog.create_staff, data=member(service_ids=[cut]))
    off = TimeOffInput(start_local=local("2026-05-01"), end_local=local("2026-05-02"))
    ids = {
        "staff": anna,
        "service": cut,
        "time_off": call(salon, catalog.create_time_off, data=off, timezone="Europe/Berlin"),
    }
    audits = count(salon.engine, audit_log)
    for name, mutate in MUTATIONS.items():
        with pytest.raises(PermissionDenied), write_tx(salon.engine) as conn:
            mutate(conn, salon.actor(role), ids)
            pytest.fail(f"{name} let a {role.value} through")
    assert count(salon.engine, audit_log) == audits
    # reading the team is fine for every role
    with read_conn(salon.engine) as conn:
        assert [r["id"] for r in catalog.list_staff(conn, actor=salon.actor(role))] == [anna]
        assert len(catalog.list_services(conn, actor=salon.actor(role))) == 1


def test_every_mutation_is_gated() -> None:
    public = {name for name in vars(catalog) if name.startswith(("create_", "update_", "save_"))}
    public |= {name for name in vars(catalog) if name.startswith("delete_")}
    assert public == set(MUTATIONS)

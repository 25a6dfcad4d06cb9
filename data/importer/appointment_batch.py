"""Writing a batch of appointment rows.

Parse -> skip rows imported before -> resolve customer, staff and service -> place
date-only rows -> check overlaps (database, then the batch in file order) -> create the
new customers the surviving rows need -> insert. Checks run before anything is created,
so a rejected row leaves no customer, staff member or service behind (except a staff
member or service that an accepted row of the batch also uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data.importer.batch import BatchWriter, RowInput
from data.importer.bulk import insert_rows, one_of
from data.importer.overlaps import OverlapGuard, Slot, find_clashes_within
from data.importer.parse import AppointmentRecord, Person, parse_appointment
from data.importer.people import (
    CustomerIndex,
    Known,
    describe,
    insert_customers,
    load_customer_index,
    person_values,
)
from data.importer.report import RowError
from data.importer.team import Team
from data.schema import appointments
from scheduling.catalog import format_local
from scheduling.timezones import local_day_bounds

CUSTOMER_FIELDS = ("customer_id", "customer_name", "first_name", "last_name", "phone", "email")


@dataclass(frozen=True)
class Planned:
    record: AppointmentRecord
    staff_id: int
    service_id: int
    customer_id: int | None
    new_customer: Person | None
    starts_at: datetime
    ends_at: datetime
    price_cents: int

    @property
    def slot(self) -> Slot:
        return Slot(self.record.row, self.staff_id, self.starts_at, self.ends_at)


class AppointmentBatch(BatchWriter):
    def __init__(self, conn: Connection, **context: Any) -> None:
        super().__init__(conn, **context)
        self.columns = self.mapping.columns.mapped()
        self.team = Team(conn, actor=self.actor, mapping=self.mapping)
        self.guard = OverlapGuard(conn, business_id=self.actor.business_id)

    def close(self) -> None:
        self.guard.close()
        self.report.created["staff"] += self.team.created["staff"]
        self.report.created["services"] += self.team.created["services"]

    def _column(self, *fields: str) -> str:
        return next(
            (self.columns[f] for f in fields if f in self.columns), f"(default {fields[0]})"
        )

    def _reject(self, row: int, column: str, reason: str) -> None:
        self.report.add_errors([RowError(row, column, reason)])

    def write(self, rows: Sequence[RowInput]) -> None:
        records = self._fresh(self.parse(rows, parse_appointment))
        planned = self._resolve(records)
        planned = self._place(planned)
        planned = self._without_overlaps(planned)
        self._insert(planned)

    def _fresh(self, records: list[AppointmentRecord]) -> list[AppointmentRecord]:
        """Drop rows imported before (same natural key or source id), also within the file."""
        keys = {r.import_key for r in records}
        ids = {r.external_id for r in records if r.external_id}
        seen = self._existing(appointments.c.import_key, keys)
        seen_ids = self._existing(appointments.c.external_id, ids)
        fresh = []
        for record in records:
            if record.import_key in seen or (record.external_id and record.external_id in seen_ids):
                self.report.skipped_duplicates += 1
                continue
            seen.add(record.import_key)
            fresh.append(record)
        return fresh

    def _existing(self, column: sa.Column[str], values: set[str]) -> set[str]:
        if not values:
            return set()
        mine = appointments.c.business_id == self.actor.business_id
        query = sa.select(column).where(mine, one_of(self.conn, column, values))
        return set(self.conn.execute(query).scalars())

    def _resolve(self, records: list[AppointmentRecord]) -> list[Planned]:
        people = [r.customer for r in records if r.customer is not None]
        index = load_customer_index(self.conn, business_id=self.actor.business_id, people=people)
        planned = []
        for record in records:
            customer = self._customer(record, index)
            missing = self.team.missing(staff=record.staff, service=record.service)
            errors = [
                RowError(record.row, self._column(f), reason) for f, reason in missing.items()
            ]
            if isinstance(customer, RowError):
                errors.append(customer)
            if errors or isinstance(customer, RowError):  # (the second for the type checker)
                self.report.add_errors(errors)
                continue
            try:
                planned.append(self._plan(record, customer))
            except ValueError as exc:  # a staff member or service that cannot be created
                self._reject(record.row, self._column("staff", "service"), str(exc))
        return planned

    def _customer(
        self, record: AppointmentRecord, index: CustomerIndex
    ) -> Known | Person | None | RowError:
        person = record.customer
        if person is None:
            return None
        found = index.find(person)
        if found is not None:
            return found
        column = self._column(*CUSTOMER_FIELDS)
        if not self.mapping.create_missing.customers:
            reason = (
                f"unknown customer '{describe(person)}': import the customers first, "
                "or allow create_missing.customers"
            )
            return RowError(record.row, column, reason)
        if not person.has_name:
            return RowError(
                record.row, column, f"cannot create customer '{describe(person)}' without a name"
            )
        index.add(Known.pending(person))
        return person

    def _plan(self, record: AppointmentRecord, customer: Known | Person | None) -> Planned:
        service = self.team.service(
            record.service, duration=record.duration, price_cents=record.price_cents
        )
        staff_id = self.team.staff_id(record.staff)
        duration = record.duration or service.duration
        new = customer if isinstance(customer, Person) else None
        if isinstance(customer, Known) and customer.id is None:  # new, named by an earlier row
            new = customer.person
        return Planned(
            record=record,
            staff_id=staff_id,
            service_id=service.id,
            customer_id=customer.id if isinstance(customer, Known) else None,
            new_customer=new,
            starts_at=record.starts_at,
            ends_at=record.starts_at + duration,
            price_cents=service.price_cents if record.price_cents is None else record.price_cents,
        )

    def _place(self, planned: list[Planned]) -> list[Planned]:
        """Date-only rows go one after another from the default start, after any booking."""
        tz = self.ctx.timezone
        groups: dict[tuple[int, Any], list[int]] = {}
        for i, plan in enumerate(planned):
            if plan.record.local_day is not None and plan.record.status != "cancelled":
                groups.setdefault((plan.staff_id, plan.record.local_day), []).append(i)
        days = [(staff_id, *local_day_bounds(day, tz)) for staff_id, day in groups]
        latest = self.guard.latest_ends(days)
        placed: list[Planned | None] = list(planned)
        for n, ((_, day), members) in enumerate(groups.items()):
            cursor, day_end = latest.get(n), days[n][2]
            for i in members:
                plan = planned[i]
                start = max(plan.starts_at, cursor or plan.starts_at)
                end = start + (plan.ends_at - plan.starts_at)
                if end > day_end:
                    placed[i] = None
                    reason = (f"no room left on {day} for {plan.record.staff}: date-only rows are "
                              "placed one after another from the default start time")  # fmt: skip
                    self._reject(plan.record.row, self._column("date"), reason)
                    continue
                placed[i], cursor = replace(plan, starts_at=start, ends_at=end), end
        return [plan for plan in placed if plan is not None]

    def _without_overlaps(self, planned: list[Planned]) -> list[Planned]:
        busy = [plan.slot for plan in planned if plan.record.status != "cancelled"]
        clashes = self.guard.existing_clashes(busy)
        clashes |= find_clashes_within(slot for slot in busy if slot.row not in clashes)
        column = self._column("time", "date")
        kept = []
        for plan in planned:
            clash = clashes.get(plan.record.row)
            if clash is None:
                kept.append(plan)
                continue
            start, end = (
                format_local(t, self.ctx.timezone) for t in (clash.starts_at, clash.ends_at)
            )
            when = f"{start}-{end[-5:]}"
            self._reject(
                plan.record.row,
                column,
                f"overlaps {clash.other}: {plan.record.staff} is booked {when}",
            )
        return kept

    def _insert(self, planned: list[Planned]) -> None:
        new = {p.new_customer.import_key: p.new_customer for p in planned if p.new_customer}
        rows = [person_values(person) for person in new.values()]
        created = insert_customers(
            self.conn, business_id=self.actor.business_id, rows=rows, now=self.ctx.now
        )
        self.report.created["customers"] += len(created)
        self.growing.wrote("customers", len(created))
        now = self.ctx.now
        customer_ids = [
            created[p.new_customer.import_key] if p.new_customer else p.customer_id for p in planned
        ]
        values = [
            {
                "business_id": self.actor.business_id,
                "staff_id": p.staff_id,
                "service_id": p.service_id,
                "customer_id": customer_id,
                "starts_at": p.starts_at,
                "ends_at": p.ends_at,
                "status": p.record.status,
                "price_cents": p.price_cents,
                "source": "import",
                "external_id": p.record.external_id,
                "import_key": p.record.import_key,
                "notes": p.record.notes,
                "created_at": p.record.booked_at or now,
                "updated_at": now,
            }
            for p, customer_id in zip(planned, customer_ids, strict=True)
        ]
        insert_rows(self.conn, appointments, values)
        self.growing.wrote("appointments", len(values))
        self.guard.note_written(p.slot for p in planned)
        self.report.created["appointments"] += len(values)

"""Which customer a row means: lookups in batches of rows, and bulk creation.

One person, one customer. A row with the source's customer id matches only that id (or
the natural key it was imported under). Otherwise a customer matches when the names agree
(ignoring case) and neither phone nor e-mail contradicts, or, for a row without a name,
when the phone or the e-mail agrees. Merged customers resolve to the customer they were
merged into. Customers created earlier in the same import are found like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data.importer.bulk import insert_rows, one_of
from data.importer.parse import Person
from data.schema import customers

c = customers.c


@dataclass(frozen=True)
class Known:
    """A customer already in the database (or pending creation in this batch, id None)."""

    id: int | None
    external_id: str | None
    import_key: str | None
    first_name: str
    last_name: str
    phone: str | None
    email: str | None

    @classmethod
    def pending(cls, person: Person) -> Known:
        """A person this batch will create."""
        return cls(None, person.external_id, person.import_key, person.first_name,
                   person.last_name, person.phone, person.email)  # fmt: skip

    @property
    def person(self) -> Person:
        return Person(self.external_id, self.first_name, self.last_name, self.phone, self.email)

    @property
    def name(self) -> tuple[str, str]:
        return self.first_name.casefold(), self.last_name.casefold()


def _contradicts(mine: str | None, theirs: str | None) -> bool:
    return bool(mine and theirs and mine.casefold() != theirs.casefold())


class CustomerIndex:
    """Customers by external id, natural key, phone, e-mail and name; `find` applies the rule."""

    def __init__(self, known: Iterable[Known] = ()) -> None:
        self._by: dict[str, dict[Any, list[Known]]] = {
            kind: {} for kind in ("ext", "key", "phone", "email", "name")
        }
        self.seen: set[tuple[int | None, str | None]] = set()
        for entry in known:
            self.add(entry)

    def add(self, entry: Known) -> None:
        if entry.id is not None:
            self.seen.add((entry.id, entry.external_id))
        keys = {
            "ext": entry.external_id,
            "key": entry.import_key,
            "phone": entry.phone,
            "email": entry.email.casefold() if entry.email else None,
            "name": entry.name,
        }
        for kind, key in keys.items():
            if key:
                self._by[kind].setdefault(key, []).append(entry)

    def _first(self, kind: str, key: Any) -> Known | None:
        found = self._by[kind].get(key) if key else None
        return found[0] if found else None

    def find(self, person: Person) -> Known | None:
        if person.external_id:
            return self._first("ext", person.external_id) or self._first("key", person.import_key)
        if hit := self._first("key", person.import_key):
            return hit
        email = person.email.casefold() if person.email else None
        pool = [
            *self._by["phone"].get(person.phone, ()),
            *self._by["email"].get(email, ()),
            *self._by["name"].get((person.first_name.casefold(), person.last_name.casefold()), ()),
        ]
        for entry in pool:
            if not person.has_name:
                return entry  # matched by phone or e-mail
            same_name = entry.name == (person.first_name.casefold(), person.last_name.casefold())
            if same_name and not (
                _contradicts(person.phone, entry.phone) or _contradicts(person.email, entry.email)
            ):
                return entry
        return None


def _variants(text: str) -> set[str]:
    return {text, text.lower(), text.upper(), text.title(), text.capitalize()}


def load_customer_index(
    conn: Connection, *, business_id: int, people: Iterable[Person]
) -> CustomerIndex:
    """Every customer of the business that any of `people` could match (a few queries).

    Ids, natural keys, phones and e-mails first; names only for the people still unmatched
    (a common last name can match many customers).
    """
    people = list(people)
    ext = {p.external_id for p in people if p.external_id}
    keys = {p.import_key for p in people}
    unnamed = [p for p in people if not p.external_id]
    phones = {p.phone for p in unnamed if p.phone}
    emails = set().union(*(_variants(p.email) for p in unnamed if p.email))
    live = c.merged_into_id.is_(None)
    index = CustomerIndex()
    _load(conn, index, business_id, [
        (one_of(conn, c.external_id, ext), ext),
        (one_of(conn, c.import_key, keys), keys),
        (sa.and_(live, one_of(conn, c.phone, phones)), phones),
        (sa.and_(live, one_of(conn, c.email, emails)), emails),
    ])  # fmt: skip
    unmatched = [p for p in unnamed if p.has_name and index.find(p) is None]
    lasts = set().union(*(_variants(p.last_name) for p in unmatched if p.last_name))
    firsts = set().union(*(_variants(p.first_name) for p in unmatched if not p.last_name))
    _load(conn, index, business_id, [
        (sa.and_(live, one_of(conn, c.last_name, lasts)), lasts),
        (sa.and_(live, c.last_name == "", one_of(conn, c.first_name, firsts)), firsts),
    ])  # fmt: skip
    return index


def _load(
    conn: Connection,
    index: CustomerIndex,
    business_id: int,
    conditions: list[tuple[sa.ColumnElement[bool], set[str]]],
) -> None:
    columns = [sa.func.coalesce(c.merged_into_id, c.id).label("id"), c.external_id, c.import_key]
    columns += [c.first_name, c.last_name, c.phone, c.email]
    for condition, values in conditions:
        if not values:
            continue
        query = sa.select(*columns).where(c.business_id == business_id, condition).order_by(c.id)
        for row in conn.execute(query):
            if (row.id, row.external_id) not in index.seen:
                index.add(Known(*row))


def insert_customers(
    conn: Connection, *, business_id: int, rows: list[dict[str, Any]], now: datetime
) -> dict[str, int]:
    """Insert new customers (each with an import_key); returns {import_key: id}."""
    if not rows:
        return {}
    stamped = [
        {**row, "business_id": business_id, "created_at": now, "updated_at": now} for row in rows
    ]
    insert_rows(conn, customers, stamped)
    keys = [row["import_key"] for row in rows]
    query = sa.select(c.import_key, c.id).where(
        c.business_id == business_id, one_of(conn, c.import_key, keys)
    )
    return {key: int(customer_id) for key, customer_id in conn.execute(query)}


def person_values(person: Person) -> dict[str, Any]:
    """The customer row for a person named by an appointment row."""
    return {
        "external_id": person.external_id,
        "import_key": person.import_key,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "phone": person.phone,
        "email": person.email,
    }


def describe(person: Person) -> str:
    name = f"{person.first_name} {person.last_name}".strip()
    parts = [name] if name else []
    parts += [value for value in (person.external_id, person.phone, person.email) if value]
    return " / ".join(parts) or "(blank)"

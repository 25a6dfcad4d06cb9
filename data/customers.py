"""Customers of one business: search, profile, create, edit, duplicates and merge.

Every query is scoped to `actor.business_id`; another business's customer is `NotFound`.
Customer records are personal data, so reads and writes alike need MANAGE_BOOKINGS (owners
and staff). Every mutation writes audit rows with a diff in the same transaction.
Merged customers are never deleted: they keep `merged_into_id` (and their external id), so
imported history stays joinable; search and duplicate checks skip them.

Search is prefix search, case-insensitive, built so each branch can use an index. A
prefix becomes one index range per upper/lower spelling of its head (up to MAX_VARIANTS
spellings: "sil" gives sil, siL, ... SIL) plus a residual ILIKE for the rest. The ranges
need binary text order: SQLite always, PostgreSQL under a C collation (probed; otherwise
ILIKE alone, correct but unindexed). Each way of matching (phone, e-mail, last name,
first name, "first last") is a branch limited to `limit` rows, and the branches are
UNIONed, so the (business_id, phone/email/last_name) indexes serve them. First names have
no index yet: that branch scans the business's customers until it has `limit` matches.
SQLite folds only ASCII case, so past the head a non-ASCII letter matches its own case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission
from data.audit import record_audit
from data.business import NotFound, load_business
from data.retention import load_customer_churn_score
from data.schema import appointments, churn_scores, customers, notifications, services, staff
from data.types import utcnow
from scheduling.customers import (
    CustomerInput,
    build_case_variants,
    build_duplicate_pairs,
    build_phone_prefixes,
    classify_merged_contact,
    compute_consent_at,
    compute_visit_stats,
    escape_like,
    full_name,
    merge_consent,
    merge_notes,
    prefix_upper_bound,
)

MAX_VARIANTS = 16
ESCAPE = "\\"
FIELDS = ("first_name", "last_name", "email", "phone", "sms_opt_in", "sms_opt_in_at",
          "email_opt_in", "email_opt_in_at", "notes", "tags")  # fmt: skip
CONTACT_LABELS = {"phone": "phone number", "email": "e-mail address"}


class DuplicateCustomer(ValueError):
    """Another customer of this business already has this phone number or e-mail address."""

    def __init__(self, message: str, *, existing_id: int, field: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id
        self.field = field


class MergeRefused(ValueError):
    """These two customers cannot be merged (same row, or one of them is already merged)."""


# --- helpers -------------------------------------------------------------------------

c = customers.c


def _scoped(actor: Actor) -> sa.ColumnElement[bool]:
    return c.business_id == actor.business_id


def _live() -> sa.ColumnElement[bool]:
    return c.merged_into_id.is_(None)


def _starts_with(column: sa.ColumnElement[str], prefix: str) -> Any:
    """An exact-case prefix as an index range (binary order only)."""
    upper = prefix_upper_bound(prefix)
    return column >= prefix if upper is None else sa.and_(column >= prefix, column < upper)


def _binary_order(conn: Connection) -> bool:
    """True when text compares by code point (SQLite; PostgreSQL with a C collation)."""
    if conn.dialect.name == "sqlite":
        return True
    probe = sa.select(sa.and_(sa.literal("B") < sa.literal("a"), sa.literal("z") < sa.literal("{")))
    return bool(conn.execute(probe).scalar())


def _ci_prefix(column: sa.ColumnElement[str], text: str, *, ranges: bool) -> Any:
    """`column` starts with `text`, ignoring case.

    With `ranges` (binary order), one index range per spelling of the query's head
    (`build_case_variants`) narrows the rows and a residual ILIKE checks the rest; otherwise
    only ILIKE, which no btree index serves.
    """
    variants = build_case_variants(text, max_variants=MAX_VARIANTS) if ranges else [""]
    head = len(variants[0])
    pattern = "_" * head + escape_like(text[head:], ESCAPE) + "%"
    residual = column.ilike(pattern, escape=ESCAPE)
    if not head:
        return residual
    narrow = sa.or_(*(_starts_with(column, variant) for variant in variants))
    return narrow if head == len(text) else sa.and_(narrow, residual)


def _match_conditions(conn: Connection, *, actor: Actor, query: str) -> list[Any]:
    """One condition per UNION branch: phone prefixes, or e-mail and name prefixes."""
    ranges = _binary_order(conn)
    if any(ch.isdigit() for ch in query):
        region = load_business(conn, business_id=actor.business_id)["country"]
        prefixes = build_phone_prefixes(query, region)
        if prefixes:
            return [_ci_prefix(c.phone, prefix, ranges=ranges) for prefix in prefixes]
    conditions = [_ci_prefix(c.email, query, ranges=ranges)]
    if "@" in query:
        return conditions
    conditions += [_ci_prefix(c.last_name, query, ranges=ranges),
                   _ci_prefix(c.first_name, query, ranges=ranges)]  # fmt: skip
    for split in (i for i, ch in enumerate(query) if ch == " "):
        first = _ci_prefix(c.first_name, query[:split], ranges=ranges)
        last = _ci_prefix(c.last_name, query[split + 1 :], ranges=ranges)
        conditions.append(sa.and_(last, first))
    return conditions


def _load_row(
    conn: Connection, *, actor: Actor, customer_id: int, lock: bool = False
) -> dict[str, Any]:
    query = sa.select(customers).where(_scoped(actor), c.id == customer_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist in this business")
    return dict(row)


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in FIELDS}


# --- reads ---------------------------------------------------------------------------


def search_customers(
    conn: Connection, *, actor: Actor, query: str = "", limit: int = 50
) -> list[dict[str, Any]]:
    """Customers whose name, "first last", phone or e-mail starts with `query`.

    At most `limit`, by last name then first name; merged customers are left out. When
    one way of matching (say, last names starting with "s") finds more than `limit`, the
    index picks which: ask for a longer query. An empty query lists customers by last
    name. Each row carries `visits` (completed appointments) and `last_visit_at`.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    text = " ".join(query.split())
    select = sa.select(customers).where(_scoped(actor), _live())
    if not text:
        select = select.order_by(c.last_name, c.id)  # the (business_id, last_name) index
    else:
        branches = [
            sa.select(c.id).where(_scoped(actor), _live(), condition).limit(limit).subquery()
            for condition in _match_conditions(conn, actor=actor, query=text)
        ]
        found = sa.union(*(sa.select(branch.c.id) for branch in branches)).subquery()
        select = select.join(found, found.c.id == c.id).order_by(
            sa.func.lower(c.last_name), sa.func.lower(c.first_name), c.id
        )
    rows = [dict(row) for row in conn.execute(select.limit(limit)).mappings()]
    visits = _visit_summary(conn, actor=actor, customer_ids=[row["id"] for row in rows])
    return [{**row, **visits.get(row["id"], {"visits": 0, "last_visit_at": None})} for row in rows]


def _visit_summary(
    conn: Connection, *, actor: Actor, customer_ids: list[int]
) -> dict[int, dict[str, Any]]:
    if not customer_ids:
        return {}
    a = appointments.c
    query = (
        sa.select(a.customer_id, sa.func.count().label("visits"), sa.func.max(a.starts_at))
        .where(
            a.business_id == actor.business_id,
            a.customer_id.in_(customer_ids),
            a.status == "completed",
        )
        .group_by(a.customer_id)
    )
    return {
        customer_id: {"visits": visits, "last_visit_at": last}
        for customer_id, visits, last in conn.execute(query)
    }


def load_customer_profile(
    conn: Connection, *, actor: Actor, customer_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """The customer's row, `full_name`, `visits` (newest first, UTC), `counts`,
    `lifetime_value_cents`, first/last visit, `next_appointment`, `merged_into_name` and
    the latest `churn` score (None before the first scoring run)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    row = _load_row(conn, actor=actor, customer_id=customer_id)
    visits = _load_visits(conn, actor=actor, customer_id=customer_id)
    merged_into = None
    if row["merged_into_id"] is not None:
        target = _load_row(conn, actor=actor, customer_id=row["merged_into_id"])
        merged_into = full_name(target)
    return {
        **row,
        "full_name": full_name(row),
        "merged_into_name": merged_into,
        "visits": visits,
        **compute_visit_stats(visits, now=now or utcnow()),
        "churn": _latest_churn(conn, actor=actor, customer_id=customer_id),
    }


def _load_visits(conn: Connection, *, actor: Actor, customer_id: int) -> list[dict[str, Any]]:
    a = appointments.c
    joined = appointments.join(
        services, sa.and_(services.c.id == a.service_id, services.c.business_id == a.business_id)
    ).join(staff, sa.and_(staff.c.id == a.staff_id, staff.c.business_id == a.business_id))
    query = (
        sa.select(
            a.id,
            a.starts_at,
            a.ends_at,
            a.status,
            a.price_cents,
            a.source,
            a.external_id,
            a.cancellation_reason,
            services.c.name.label("service"),
            staff.c.display_name.label("staff"),
        )  # fmt: skip
        .select_from(joined)
        .where(a.business_id == actor.business_id, a.customer_id == customer_id)
        .order_by(a.starts_at.desc(), a.id.desc())
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _latest_churn(conn: Connection, *, actor: Actor, customer_id: int) -> dict[str, Any] | None:
    """The customer's row in the newest churn score set, as the Retention page shows it."""
    return load_customer_churn_score(conn, actor=actor, customer_id=customer_id)


# --- create and edit -----------------------------------------------------------------


def _values(data: CustomerInput, *, before: dict[str, Any] | None, now: datetime) -> dict:
    values = data.model_dump(
        include={"first_name", "last_name", "email", "phone", "sms_opt_in", "email_opt_in",
                 "notes", "tags"}
    )  # fmt: skip
    for channel in ("sms", "email"):
        values[f"{channel}_opt_in_at"] = compute_consent_at(
            was_in=bool(before and before[f"{channel}_opt_in"]),
            was_at=before[f"{channel}_opt_in_at"] if before else None,
            now_in=values[f"{channel}_opt_in"],
            now=now,
        )
    return values


def _refuse_duplicates(
    conn: Connection, *, actor: Actor, values: dict[str, Any], fields: set[str], exclude: int
) -> None:
    """Refuse a phone number or e-mail (case-insensitive) another live customer has."""
    ranges = _binary_order(conn)
    for field in ("phone", "email"):
        value = values[field]
        if value is None or field not in fields:
            continue
        column = c[field]
        condition = (
            column == value if field == "phone" else _ci_prefix(column, value, ranges=ranges)
        )
        query = (
            sa.select(c.id, c.first_name, c.last_name, column)
            .where(_scoped(actor), _live(), c.id != exclude, condition)
            .order_by(c.id)
        )
        for row in map(dict, conn.execute(query).mappings()):
            if row[field].casefold() == value.casefold():
                message = f"{full_name(row)} already has this {CONTACT_LABELS[field]}"
                raise DuplicateCustomer(message, existing_id=row["id"], field=field)


def create_customer(
    conn: Connection, *, actor: Actor, data: CustomerInput, allow_duplicate: bool = False
) -> int:
    """Add a customer. Refuses a phone number or e-mail another customer has, unless
    `allow_duplicate` (two people may share a family phone)."""
    actor.require(Permission.MANAGE_BOOKINGS)
    now = utcnow()
    values = _values(data, before=None, now=now)
    if not allow_duplicate:
        _refuse_duplicates(conn, actor=actor, values=values, fields={"phone", "email"}, exclude=0)
    statement = customers.insert().values(
        **values, business_id=actor.business_id, created_at=now, updated_at=now
    )
    key = conn.execute(statement).inserted_primary_key
    assert key is not None
    customer_id = int(key[0])
    record_audit(
        conn, actor=actor, action="create", entity="customers", entity_id=customer_id, after=values
    )
    return customer_id


def update_customer(
    conn: Connection,
    *,
    actor: Actor,
    customer_id: int,
    data: CustomerInput,
    allow_duplicate: bool = False,
) -> bool:
    """Replace a customer's details. False when nothing changed.

    Only a changed phone or e-mail is checked for duplicates, so customers who already
    share one can still be edited. A merged customer is read-only: edit the kept one.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    current = _load_row(conn, actor=actor, customer_id=customer_id, lock=True)
    if current["merged_into_id"] is not None:
        raise MergeRefused(
            f"{full_name(current)} was merged into customer {current['merged_into_id']}; "
            "edit that customer instead"
        )
    before = _fields(current)
    after = _values(data, before=current, now=utcnow())
    if before == after:
        return False
    if not allow_duplicate:
        changed = {f for f in ("phone", "email") if before[f] != after[f]}
        _refuse_duplicates(conn, actor=actor, values=after, fields=changed, exclude=customer_id)
    conn.execute(
        customers.update()
        .where(_scoped(actor), c.id == customer_id)
        .values(**after, updated_at=utcnow())
    )
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="customers",
        entity_id=customer_id,
        before=before,
        after=after,
    )
    return True


# --- duplicates and merge ------------------------------------------------------------


def find_duplicate_candidates(
    conn: Connection, *, actor: Actor, limit: int = 50
) -> list[dict[str, Any]]:
    """Pairs of live customers sharing a phone number, an e-mail (ignoring case) or a full
    name (ignoring case): {a_id, a_name, b_id, b_name, reasons}; `a` is the older record.

    One GROUP BY per key over the business's customers (about 0.8 s for 150,000 of them),
    so pages should run it on request, not on every rerun.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    keys = {
        "phone": c.phone,
        "email": sa.func.lower(c.email),
        "name": sa.func.lower(c.first_name) + " " + sa.func.lower(c.last_name),
    }
    found = [
        (reason, ids)
        for reason, key in keys.items()
        for ids in _groups_sharing(conn, actor=actor, key=key, limit=limit)
    ]
    wanted = {i for _, ids in found for i in ids}
    query = sa.select(c.id, c.first_name, c.last_name).where(_scoped(actor), c.id.in_(wanted))
    rows = {row["id"]: dict(row) for row in conn.execute(query).mappings()}
    return build_duplicate_pairs(
        [(reason, [rows[i] for i in ids]) for reason, ids in found], limit=limit
    )


def _groups_sharing(
    conn: Connection, *, actor: Actor, key: sa.ColumnElement[Any], limit: int
) -> list[list[int]]:
    """Ids of live customers sharing a value of `key`, a group each, oldest first; enough
    groups (each cut to its oldest limit + 1) for `limit` pairs."""
    joined_ids = sa.func.aggregate_strings(sa.cast(c.id, sa.String), ",")
    query = (
        sa.select(joined_ids)
        .where(_scoped(actor), _live(), key.is_not(None))
        .group_by(key)
        .having(sa.func.count() > 1)
        .order_by(key)
        .limit(limit)
    )
    groups: list[list[int]] = []
    for joined in conn.execute(query).scalars():
        if sum(len(group) - 1 for group in groups) >= limit:
            break
        groups.append(sorted(int(i) for i in joined.split(","))[: limit + 1])
    return groups


def merge_customers(conn: Connection, *, actor: Actor, keep_id: int, merge_id: int) -> None:
    """Fold customer `merge_id` into `keep_id` (scheduling.customers explains consents).

    Moves appointments, notifications and churn scores (a score `keep` already has for the
    same run wins), fills keep's empty last name, phone and e-mail, unions tags, appends
    notes, and marks `merge_id` merged (never deleted). Customers merged into `merge_id`
    earlier now point at `keep_id`. Both rows are audited.
    """
    actor.require(Permission.MANAGE_BOOKINGS)
    if keep_id == merge_id:
        raise MergeRefused("a customer cannot be merged into itself")
    first, second = sorted((keep_id, merge_id))  # lock in id order: no deadlocks
    rows = {i: _load_row(conn, actor=actor, customer_id=i, lock=True) for i in (first, second)}
    keep, merge = rows[keep_id], rows[merge_id]
    for row in (merge, keep):
        if row["merged_into_id"] is not None:
            raise MergeRefused(
                f"{full_name(row)} (#{row['id']}) was already merged into "
                f"customer {row['merged_into_id']}"
            )
    now = utcnow()
    after = _merged_fields(keep, merge)
    moved = _move_history(conn, actor=actor, keep_id=keep_id, merge_id=merge_id, now=now)
    conn.execute(
        customers.update().where(_scoped(actor), c.id == keep_id).values(**after, updated_at=now)
    )
    conn.execute(
        customers.update()
        .where(_scoped(actor), c.id == merge_id)
        .values(merged_into_id=keep_id, updated_at=now)
    )
    record_audit(
        conn, actor=actor, action="merge", entity="customers", entity_id=keep_id,
        before=_fields(keep), after={**after, "merged_from": merge_id, **moved},
    )  # fmt: skip
    record_audit(
        conn, actor=actor, action="merge", entity="customers", entity_id=merge_id,
        before={"merged_into_id": None}, after={"merged_into_id": keep_id},
    )  # fmt: skip
    _repoint_earlier_merges(conn, actor=actor, keep_id=keep_id, merge_id=merge_id, now=now)


def _merged_fields(keep: dict[str, Any], merge: dict[str, Any]) -> dict[str, Any]:
    after = _fields(keep)
    for field in ("last_name", "phone", "email"):
        if not keep[field] and merge[field]:
            after[field] = merge[field]
    for channel, contact in (("sms", "phone"), ("email", "email")):
        opt_in, opt_in_at = merge_consent(
            (keep[f"{channel}_opt_in"], keep[f"{channel}_opt_in_at"]),
            (merge[f"{channel}_opt_in"], merge[f"{channel}_opt_in_at"]),
            contact=classify_merged_contact(keep[contact], merge[contact]),
        )
        after[f"{channel}_opt_in"], after[f"{channel}_opt_in_at"] = opt_in, opt_in_at
    after["tags"] = sorted(set(keep["tags"] or []) | set(merge["tags"] or []))
    after["notes"] = merge_notes(keep["notes"], merge["notes"])
    return after


def _move_history(
    conn: Connection, *, actor: Actor, keep_id: int, merge_id: int, now: datetime
) -> dict[str, Any]:
    a, n, s = appointments.c, notifications.c, churn_scores.c
    mine = a.business_id == actor.business_id
    moved_ids = list(
        conn.execute(
            sa.select(a.id).where(mine, a.customer_id == merge_id).order_by(a.id)
        ).scalars()
    )
    conn.execute(
        appointments.update()
        .where(mine, a.customer_id == merge_id)
        .values(customer_id=keep_id, updated_at=now)
    )
    conn.execute(
        notifications.update()
        .where(n.business_id == actor.business_id, n.customer_id == merge_id)
        .values(customer_id=keep_id, updated_at=now)
    )
    keep_score = churn_scores.alias("keep_score")
    clash = sa.exists().where(
        keep_score.c.business_id == actor.business_id,
        keep_score.c.customer_id == keep_id,
        keep_score.c.as_of == s.as_of,
        keep_score.c.model_version == s.model_version,
    )
    merge_scores = sa.and_(s.business_id == actor.business_id, s.customer_id == merge_id)
    conn.execute(churn_scores.delete().where(merge_scores, clash))
    conn.execute(churn_scores.update().where(merge_scores).values(customer_id=keep_id))
    return {"appointments_moved": moved_ids}


def _repoint_earlier_merges(
    conn: Connection, *, actor: Actor, keep_id: int, merge_id: int, now: datetime
) -> None:
    query = sa.select(c.id).where(_scoped(actor), c.merged_into_id == merge_id).order_by(c.id)
    for earlier in list(conn.execute(query).scalars()):
        conn.execute(
            customers.update()
            .where(_scoped(actor), c.id == earlier)
            .values(merged_into_id=keep_id, updated_at=now)
        )
        record_audit(
            conn, actor=actor, action="merge", entity="customers", entity_id=earlier,
            before={"merged_into_id": merge_id}, after={"merged_into_id": keep_id},
        )  # fmt: skip

"""Retention's SQL: the visit events frame and churn score sets.

Every query is scoped to `actor.business_id`; reads need VIEW_ANALYTICS, except one
customer's score, which the (staff) customer profile shows too. Scores are derived data
(no audit entry). A score set is one (as_of, model_version) of a business, written in
one transaction after its older copy is deleted, so the newest set (by created_at)
holds the business's highest score id. The newest KEEP_SCORE_SETS sets are kept.
`load_visit_events` rebuilds the VISIT_COLUMNS contract of analytics/visits.py (data/
does not import analytics/).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.roles import Actor, Permission, PermissionDenied
from data.schema import appointments, churn_scores, customers
from data.types import utcnow

A, C, S = appointments.c, customers.c, churn_scores.c
KEEP_SCORE_SETS = 3
BANDS = ("high", "medium", "low", "too_new")
CHUNK_ROWS = 10_000
UTC_TEXT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLite stores an instant (naive UTC)

INSTANT = "datetime64[ns, UTC]"
_COLUMNS: dict[str, str] = {
    "appointment_id": "int64", "customer_id": "int64", "staff_id": "int64",
    "service_id": "int64", "starts_at": INSTANT, "created_at": INSTANT,
    "cancelled_at": INSTANT, "status": "str", "price_cents": "int64",
}  # fmt: skip
_INSTANTS = ("starts_at", "created_at", "cancelled_at")
_RECORD = np.dtype([(name, "O" if name in _INSTANTS or name == "status" else "i8")
                    for name in _COLUMNS])  # fmt: skip
SCORE_COLUMNS: dict[str, str] = {
    "customer_id": "int64", "score": "float64", "band": "str", "drivers": "object",
    "as_of": INSTANT, "model_version": "str", "data_fingerprint": "str", "created_at": INSTANT,
}  # fmt: skip


def load_visit_events(
    conn: Connection, *, actor: Actor, before: datetime | None = None
) -> pd.DataFrame:
    """Every appointment of the business that has a customer (walk-ins are skipped), and
    when `before` (tz-aware) is given only those created before it: exactly the columns
    and dtypes of the visit events contract, sorted by customer_id, starts_at,
    appointment_id. Instants are tz-aware UTC; cancelled_at is NaT when not cancelled.
    """
    actor.require(Permission.VIEW_ANALYTICS)
    dialect = conn.dialect.name
    business = _unindexed(conn, A.business_id)  # SQLite: a table scan, 2x the index's speed
    query = sa.select(
        A.id, A.customer_id, A.staff_id, A.service_id,
        *(_instant(dialect, A[name]) for name in _INSTANTS), A.status, A.price_cents,
    ).where(business == actor.business_id, A.customer_id.is_not(None))  # fmt: skip
    if before is not None:
        query = query.where(A.created_at < before)
    with conn.execute(query) as result:
        rows = result.cursor.fetchall()  # plain tuples: no Row objects for a million rows
    return _visit_frame(np.array(rows, dtype=_RECORD), dialect)


def _unindexed(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """On SQLite, `column + 0`: the same values, but no index is chosen for them."""
    return column + 0 if conn.dialect.name == "sqlite" else column


def _instant(dialect: str, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The instant in its cheapest exact form (NULL stays NULL): microseconds since the
    epoch on PostgreSQL (an int8 beats datetimes or text), the stored text on SQLite."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", column) * sa.literal_column("1000000"), sa.BigInteger)
    return sa.type_coerce(column, sa.String)  # no per-row datetime processing


def _parse_instants(values: np.ndarray, dialect: str) -> pd.Series:
    kind = {"unit": "us"} if dialect == "postgresql" else {"format": UTC_TEXT_FORMAT}
    return pd.Series(pd.to_datetime(values, utc=True, **kind), copy=False).astype(INSTANT)


def _visit_frame(record: np.ndarray, dialect: str) -> pd.DataFrame:
    columns = {
        name: _parse_instants(record[name], dialect)
        if name in _INSTANTS
        else pd.Series(record[name], copy=False).astype(dtype)
        for name, dtype in _COLUMNS.items()
    }
    frame = pd.DataFrame(columns)
    starts = frame["starts_at"].dt.tz_localize(None).to_numpy()
    ids, people = frame["appointment_id"].to_numpy(), frame["customer_id"].to_numpy()
    return frame.take(np.lexsort((ids, starts, people))).reset_index(drop=True)


def save_churn_scores(
    conn: Connection,
    *,
    actor: Actor,
    as_of: datetime,
    model_version: str,
    fingerprint: str,
    scores: pd.DataFrame,
) -> int:
    """Store one score set (as_of, model_version) in the caller's transaction: replace
    the rows of the same set, insert every row of `scores`, then drop the business's
    sets beyond the newest KEEP_SCORE_SETS. Returns the rows written.

    `scores`: customer_id (int, unique), score (0..1), band (one of BANDS), drivers (a
    list of JSON-like dicts; numpy numbers become numbers, NaN None). ValueError, with
    nothing written, for a malformed frame or another business's customer ids.
    """
    actor.require(Permission.VIEW_ANALYTICS)
    _check_scores(scores)
    _check_own_customers(conn, actor, scores["customer_id"].to_numpy())
    common = {"business_id": actor.business_id, "as_of": as_of, "model_version": model_version,
              "data_fingerprint": fingerprint, "created_at": utcnow()}  # fmt: skip
    rows = [
        {**common, "customer_id": int(customer), "score": float(score), "band": str(band),
         "drivers": drivers}
        for customer, score, band, drivers in zip(
            scores["customer_id"], scores["score"], scores["band"],
            _plain_drivers(scores["drivers"]), strict=True,
        )
    ]  # fmt: skip
    conn.execute(churn_scores.delete().where(_score_set(actor, as_of, model_version)))
    for start in range(0, len(rows), CHUNK_ROWS):
        conn.execute(churn_scores.insert(), rows[start : start + CHUNK_ROWS])
    _prune_score_sets(conn, actor)
    return len(rows)


def _check_scores(scores: pd.DataFrame) -> None:
    missing = [c for c in ("customer_id", "score", "band", "drivers") if c not in scores]
    if missing:
        raise ValueError(f"scores lack column(s): {', '.join(missing)}")
    ids = scores["customer_id"]
    if not pd.api.types.is_integer_dtype(ids) or ids.duplicated().any():
        raise ValueError("customer_id must be integers, each customer once")
    values = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype="float64")
    if not np.all(np.isfinite(values) & (values >= 0) & (values <= 1)):
        raise ValueError("every score must be a number from 0 to 1")
    unknown = sorted(set(scores["band"]) - set(BANDS))
    if unknown:
        raise ValueError(f"unknown band(s) {unknown}; bands are {', '.join(BANDS)}")


def _plain_drivers(column: pd.Series) -> list[Any]:
    """Every row's drivers as a plain JSON list, in one round trip: numpy numbers become
    numbers, dates ISO text, NaN and infinity None (PostgreSQL's JSON has no NaN)."""
    try:
        text = json.dumps(list(column), default=_json_default)
    except TypeError as exc:
        raise ValueError(f"drivers must be JSON: {exc}") from exc
    plain = json.loads(text, parse_constant=lambda _: None)
    if not all(isinstance(drivers, list) for drivers in plain):
        raise ValueError("drivers must be a list on every row")
    return plain


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()  # a numpy scalar's tolist() is the Python scalar
    if isinstance(value, date):  # datetimes and Timestamps too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _check_own_customers(conn: Connection, actor: Actor, ids: np.ndarray) -> None:
    """ValueError naming how many of `ids` are not customers of the actor's business."""
    own = conn.execute(sa.select(C.id).where(C.business_id == actor.business_id)).scalars()
    foreign = ~np.isin(ids.astype("int64"), np.fromiter(own, dtype="int64"))
    if foreign.any():
        raise ValueError(f"{int(foreign.sum())} customer id(s) are not customers of this business")


def _prune_score_sets(conn: Connection, actor: Actor) -> None:
    """Delete the sets beyond the newest KEEP_SCORE_SETS (newest: highest id, see top)."""
    sets = (
        sa.select(S.as_of, S.model_version)
        .where(S.business_id == actor.business_id)
        .group_by(S.as_of, S.model_version)
        .order_by(sa.func.max(S.id).desc())
        .offset(KEEP_SCORE_SETS)
    )
    for as_of, model_version in conn.execute(sets).all():
        conn.execute(churn_scores.delete().where(_score_set(actor, as_of, model_version)))


def _score_set(actor: Actor, as_of: datetime, model_version: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        S.business_id == actor.business_id, S.as_of == as_of, S.model_version == model_version
    )


def _newest_set(conn: Connection, actor: Actor) -> sa.RowMapping | None:
    """as_of, model_version, data_fingerprint and created_at of the business's newest
    score set (shared by all its rows), None when it has none."""
    query = (  # on SQLite: walk ids down from the top, not the business's index + a sort
        sa.select(S.as_of, S.model_version, S.data_fingerprint, S.created_at)
        .where(_unindexed(conn, S.business_id) == actor.business_id)
        .order_by(S.id.desc())
        .limit(1)
    )
    return conn.execute(query).mappings().first()


def load_latest_churn_scores(conn: Connection, *, actor: Actor) -> pd.DataFrame:
    """The business's newest score set, riskiest first (score descending, then
    customer_id): columns and dtypes SCORE_COLUMNS (drivers: the stored lists).
    An empty frame of those columns when nothing was scored yet."""
    actor.require(Permission.VIEW_ANALYTICS)
    newest = _newest_set(conn, actor)
    rows: Sequence[Any] = []
    if newest is not None:
        sqlite = conn.dialect.name == "sqlite"  # JSON text, parsed in one go below
        as_text = sa.type_coerce(S.drivers, sa.Text) if sqlite else sa.cast(S.drivers, sa.Text)
        query = (
            sa.select(S.customer_id, S.score, S.band, as_text)
            .where(_score_set(actor, newest.as_of, newest.model_version))
            .order_by(S.score.desc(), S.customer_id)
        )
        rows = conn.execute(query).all()
    ids, values, bands, texts = zip(*rows, strict=True) if rows else ((), (), (), ())
    frame = pd.DataFrame({"customer_id": ids, "score": values, "band": bands,
                          "drivers": json.loads(f"[{','.join(texts)}]")})  # fmt: skip
    for name in ("as_of", "model_version", "data_fingerprint", "created_at"):
        frame[name] = None if newest is None else newest[name]
    return frame.astype(SCORE_COLUMNS)


def load_customer_churn_score(
    conn: Connection, *, actor: Actor, customer_id: int
) -> dict[str, Any] | None:
    """The customer's row in the business's newest score set (keys: SCORE_COLUMNS), or
    None when that set does not score them. Staff may read it too (customer profile)."""
    if not (actor.can(Permission.VIEW_ANALYTICS) or actor.can(Permission.MANAGE_BOOKINGS)):
        raise PermissionDenied(f"the {actor.role.value} role may not see churn scores")
    newest = _newest_set(conn, actor)
    if newest is None:
        return None
    query = sa.select(S.customer_id, S.score, S.band, S.drivers).where(
        _score_set(actor, newest.as_of, newest.model_version), S.customer_id == customer_id
    )
    row = conn.execute(query).mappings().first()
    return None if row is None else {**row, **newest}


def load_churn_customer_details(
    conn: Connection, *, actor: Actor, customer_ids: Sequence[int], include_names: bool
) -> pd.DataFrame:
    """For display: customer_id and external_id of the given customers of this business
    (others are silently absent), plus first_name and last_name when `include_names`
    (the caller decides by role). Never e-mail or phone. Sorted by customer_id."""
    actor.require(Permission.VIEW_ANALYTICS)
    columns = [C.id.label("customer_id"), C.external_id]
    if include_names:
        columns += [C.first_name, C.last_name]
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK_ROWS):
        chunk = ids[start : start + CHUNK_ROWS]
        query = sa.select(*columns).where(C.business_id == actor.business_id, C.id.in_(chunk))
        rows.extend(conn.execute(query).all())
    frame = pd.DataFrame(rows, columns=[column.name for column in columns])
    text = {column.name: "str" for column in columns[1:]}  # a missing external_id: NaN
    frame = frame.astype({"customer_id": "int64", **text})
    return frame.sort_values("customer_id", ignore_index=True)

"""Table definitions for the whole product (SQLAlchemy 2 Core).

Every tenant table carries `business_id`. Child rows point at their parents through
composite `(business_id, id)` foreign keys, so a row can never reference another
business's staff, service or customer. Instants are UTC (`UTCDateTime`); money is
integer minor units (`*_cents`); working hours are local wall-clock times.
The Alembic migrations in `data/migrations/` build exactly this; a test checks it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data.types import Json, Key, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ROLES = ("owner", "staff", "analyst")
APPOINTMENT_STATUSES = ("booked", "confirmed", "completed", "cancelled", "no_show")
CHANNELS = ("sms", "email")
DEFAULT_REMINDER_RULES = (
    '[{"channel": "sms", "offset_minutes": 1440, "active": true}, '
    '{"channel": "email", "offset_minutes": 1440, "active": true}, '
    '{"channel": "sms", "offset_minutes": 120, "active": false}]'
)
NOTIFICATION_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "skipped", "withdrawn")


def _id() -> sa.Column:
    return sa.Column("id", Key, primary_key=True, autoincrement=True)


def _business() -> sa.Column:
    return sa.Column(
        "business_id", Key, sa.ForeignKey("businesses.id", ondelete="CASCADE"), nullable=False
    )


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    ]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _tenant_fk(
    columns: list[str], parent: str, ondelete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id", *columns], [f"{parent}.business_id", f"{parent}.id"], ondelete=ondelete
    )


businesses = sa.Table(
    "businesses",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("slug", sa.String(80), nullable=False, unique=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    *_stamps(),
    # Booking policy (migration 0002)
    sa.Column("min_notice_minutes", sa.Integer, nullable=False, server_default="60"),
    sa.Column("max_days_ahead", sa.Integer, nullable=False, server_default="90"),
    sa.Column("slot_step_minutes", sa.Integer, nullable=False, server_default="15"),
    # Automatic reminders (migration 0004): [{"channel", "offset_minutes", "active"}]
    sa.Column("reminder_rules", Json, nullable=False, server_default=DEFAULT_REMINDER_RULES),
)

accounts = sa.Table(
    "accounts",
    metadata,
    _id(),
    _business(),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("auth_provider", sa.String(16), nullable=False, server_default="local"),
    sa.Column("external_auth_id", sa.String(64), unique=True),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("last_sign_in_at", UTCDateTime),
    *_stamps(),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
    sa.CheckConstraint(_in("auth_provider", ("local", "supabase")), name="auth_provider"),
    sa.Index(None, "business_id"),
)

# Pre-tenant by nature: counts failed sign-ins per e-mail *hash* (no PII), before we
# know (or reveal) whether an account exists.
sign_in_throttle = sa.Table(
    "sign_in_throttle",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", UTCDateTime, nullable=False),
    sa.Column("blocked_until", UTCDateTime),
)

staff = sa.Table(
    "staff",
    metadata,
    _id(),
    _business(),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(20)),
    sa.Column("color", sa.String(7), nullable=False, server_default="#4C78A8"),
    sa.Column("account_id", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    *_stamps(),
    sa.UniqueConstraint("business_id", "id"),
    sa.UniqueConstraint("business_id", "display_name"),
)

services = sa.Table(
    "services",
    metadata,
    _id(),
    _business(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("category", sa.String(60), nullable=False, server_default="General"),
    sa.Column("duration_min", sa.Integer, nullable=False),
    sa.Column("buffer_min", sa.Integer, nullable=False, server_default="0"),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    *_stamps(),
    sa.UniqueConstraint("business_id", "id"),
    sa.UniqueConstraint("business_id", "name"),
    sa.CheckConstraint("duration_min > 0", name="duration_positive"),
    sa.CheckConstraint("buffer_min >= 0", name="buffer_not_negative"),
    sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
)

staff_services = sa.Table(
    "staff_services",
    metadata,
    sa.Column("business_id", Key, nullable=False),
    sa.Column("staff_id", Key, primary_key=True),
    sa.Column("service_id", Key, primary_key=True),
    _tenant_fk(["staff_id"], "staff"),
    _tenant_fk(["service_id"], "services"),
    sa.Index(None, "business_id"),  # row-level security filters on it (Supabase)
)

working_hours = sa.Table(
    "working_hours",
    metadata,
    _id(),
    sa.Column("business_id", Key, nullable=False),
    sa.Column("staff_id", Key, nullable=False),
    sa.Column("weekday", sa.SmallInteger, nullable=False),
    sa.Column("start_time", sa.Time, nullable=False),
    sa.Column("end_time", sa.Time, nullable=False),
    _tenant_fk(["staff_id"], "staff"),
    sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    sa.CheckConstraint("start_time < end_time", name="start_before_end"),
    sa.Index(None, "staff_id", "weekday"),
    sa.Index(None, "business_id"),
)

time_off = sa.Table(
    "time_off",
    metadata,
    _id(),
    _business(),
    sa.Column("staff_id", Key),  # NULL: the whole business is closed
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False, server_default=""),
    *_stamps(),
    _tenant_fk(["staff_id"], "staff"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.Index(None, "business_id", "starts_at"),
)

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    _business(),
    sa.Column("external_id", sa.String(64)),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(20)),  # E.164
    sa.Column("sms_opt_in", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("sms_opt_in_at", UTCDateTime),
    sa.Column("email_opt_in", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("email_opt_in_at", UTCDateTime),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("tags", Json, nullable=False, server_default="[]"),
    sa.Column("merged_into_id", Key),
    *_stamps(),
    sa.Column("import_key", sa.String(64)),  # natural key of an imported row (0002)
    sa.UniqueConstraint("business_id", "id"),
    sa.UniqueConstraint("business_id", "external_id"),
    sa.Index(None, "business_id", "import_key", unique=True),  # 0002
    _tenant_fk(["merged_into_id"], "customers", ondelete="NO ACTION"),
    sa.Index(None, "business_id", "phone"),
    sa.Index(None, "business_id", "email"),
    sa.Index(None, "business_id", "last_name"),
    sa.Index(None, "business_id", "first_name"),  # customer search (0002)
)

appointments = sa.Table(
    "appointments",
    metadata,
    _id(),
    sa.Column("business_id", Key, nullable=False),
    sa.Column("staff_id", Key, nullable=False),
    sa.Column("customer_id", Key),  # NULL: walk-in without a customer record
    sa.Column("service_id", Key, nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="booked"),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("source", sa.String(16), nullable=False, server_default="staff"),
    sa.Column("external_id", sa.String(64)),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    *_stamps(),
    sa.Column("cancelled_at", UTCDateTime),
    sa.Column("cancellation_reason", sa.String(200)),  # migration 0002
    sa.Column("import_key", sa.String(64)),  # natural key of an imported row (0002)
    sa.ForeignKeyConstraint(["business_id"], ["businesses.id"], ondelete="CASCADE"),
    _tenant_fk(["staff_id"], "staff", ondelete="RESTRICT"),
    _tenant_fk(["customer_id"], "customers", ondelete="RESTRICT"),
    _tenant_fk(["service_id"], "services", ondelete="RESTRICT"),
    sa.UniqueConstraint("business_id", "external_id"),
    sa.CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="status"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
    sa.Index(None, "staff_id", "starts_at"),  # calendar
    sa.Index(None, "business_id", "starts_at"),  # analytics
    sa.Index(None, "business_id", "updated_at"),  # cheap data version (0002)
    sa.Index(None, "business_id", "import_key", unique=True),  # 0002
    # Customers' histories, index-only (0003): first visits, returning customers and
    # cohorts; the timeline also serves rebooking, visit history and the customer FK.
    sa.Index(
        "ix_appointments_customer_history",
        *("business_id", "status", "customer_id", "starts_at", "created_at"),
    ),
    sa.Index(
        "ix_appointments_customer_timeline",
        *("customer_id", "starts_at", "status", "created_at", "business_id"),
    ),
    # PostgreSQL only: no two non-cancelled appointments of one staff member overlap.
    # Half-open ranges, so back-to-back bookings that only touch are allowed.
    postgresql.ExcludeConstraint(
        (sa.column("staff_id"), "="),
        (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at"), sa.text("'[)'")), "&&"),
        name="ex_appointments_no_overlap",
        using="gist",
        where=sa.text("status <> 'cancelled'"),
    ).ddl_if(dialect="postgresql"),
)

analytics_events = sa.Table(
    "analytics_events",
    metadata,
    _id(),
    _business(),
    sa.Column("account_id", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("event_data", Json, nullable=False, server_default="{}"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "business_id", "created_at"),
)

ai_suggestions = sa.Table(
    "ai_suggestions",
    metadata,
    _id(),
    _business(),
    sa.Column("suggestion_type", sa.String(64), nullable=False),
    sa.Column("suggestion_data", Json, nullable=False),
    sa.Column("is_implemented", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("engine", sa.String(16), nullable=False),  # openai | rules
    sa.Column("model", sa.String(100)),
    sa.Column("facts_hash", sa.String(64), nullable=False),
    sa.Column("created_by", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    *_stamps(),
    sa.CheckConstraint(_in("status", ("open", "implemented", "dismissed")), name="status"),
    sa.Index(None, "business_id", "created_at"),
)

notification_templates = sa.Table(
    "notification_templates",
    metadata,
    _id(),
    _business(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column(
        "kind", sa.String(32), nullable=False
    ),  # reminder, confirmation, cancellation, win_back, ...
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("variant", sa.String(8), nullable=False, server_default="A"),
    sa.Column("subject", sa.String(200)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    *_stamps(),
    sa.UniqueConstraint("business_id", "kind", "channel", "variant"),
    sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    _id(),
    _business(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("template_id", Key, sa.ForeignKey("notification_templates.id", ondelete="SET NULL")),
    sa.Column("segment", Json, nullable=False, server_default="{}"),
    sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
    sa.Column("scheduled_at", UTCDateTime),
    sa.Column("created_by", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    *_stamps(),
    sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
    sa.CheckConstraint(
        _in("status", ("draft", "scheduled", "running", "done", "cancelled")), name="status"
    ),
    sa.Index(None, "business_id", "created_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    _id(),
    _business(),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(200)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("template_id", Key, sa.ForeignKey("notification_templates.id", ondelete="SET NULL")),
    sa.Column("template_kind", sa.String(32), nullable=False),
    sa.Column("variant", sa.String(8)),
    sa.Column("campaign_id", Key, sa.ForeignKey("campaigns.id", ondelete="SET NULL")),
    sa.Column("appointment_id", Key, sa.ForeignKey("appointments.id", ondelete="SET NULL")),
    sa.Column("customer_id", Key, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
    sa.Column("status_reason", sa.String(200)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("scheduled_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("provider", sa.String(32)),
    sa.Column("provider_message_id", sa.String(100)),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    *_stamps(),
    sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
    sa.CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
    sa.Index(None, "status", "next_attempt_at"),  # dispatcher claim
    sa.Index(None, "business_id", "created_at"),
    sa.Index(None, "appointment_id"),
)

churn_scores = sa.Table(
    "churn_scores",
    metadata,
    _id(),
    _business(),
    sa.Column(
        "customer_id", Key, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("as_of", UTCDateTime, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("band", sa.String(16), nullable=False),
    sa.Column("drivers", Json, nullable=False, server_default="[]"),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("data_fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("business_id", "customer_id", "as_of", "model_version"),
    sa.Index(None, "business_id", "as_of"),
)

forecast_runs = sa.Table(
    "forecast_runs",
    metadata,
    _id(),
    _business(),
    sa.Column("scope", sa.String(16), nullable=False),  # business | staff | service
    sa.Column("scope_id", Key),
    sa.Column("params", Json, nullable=False),
    sa.Column("data_fingerprint", sa.String(64), nullable=False),
    sa.Column("model_json", sa.Text),
    sa.Column("metrics", Json, nullable=False, server_default="{}"),
    sa.Column("forecast", Json),
    sa.Column("status", sa.String(16), nullable=False, server_default="done"),
    sa.Column("created_by", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(_in("scope", ("business", "staff", "service")), name="scope"),
    sa.Index(None, "business_id", "scope", "scope_id", "data_fingerprint"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    _business(),
    sa.Column("account_id", Key, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("actor", sa.String(64), nullable=False),  # "account:<id>" or "cli", "system"
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(64)),
    sa.Column("diff", Json, nullable=False, server_default="{}"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "business_id", "created_at"),
    sa.Index(None, "business_id", "entity", "entity_id"),
)

-- Slotboard: the whole schema for a Supabase project, with row-level security.
--
-- Tables, columns, types, constraint and index names are exactly what Slotboard's Alembic
-- migration 0001 builds on PostgreSQL (data/schema.py is the source of truth), and
-- alembic_version is stamped '0001', so `python cli.py migrate` sees this database as
-- current. tests/supabase/test_supabase_migration.py applies this file to a plain
-- PostgreSQL database and compares it with data/schema.py.
--
-- Slotboard itself connects as the `postgres` role, which owns these tables; RLS does not
-- apply to a table's owner (nothing here uses FORCE ROW LEVEL SECURITY), and the app
-- enforces roles and tenancy in its own code. The policies below protect the Data API
-- (PostgREST): a signed-in user (`authenticated`) sees and changes only rows of the
-- business named in the JWT's app_metadata.business_id, as allowed by app_metadata.role
-- (owner, staff or analyst). `anon` gets no privilege on any table.
--
-- Needs Supabase's roles (anon, authenticated, service_role) and auth.jwt().
-- See supabase/README.md.

-- Extensions ---------------------------------------------------------------------------

-- btree_gist lets the exclusion constraint on appointments mix `=` on staff_id with `&&`
-- on a time range. Supabase keeps extensions in the `extensions` schema.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA extensions;

-- Tables (as data/migrations/versions/0001_initial_schema.py) --------------------------

CREATE TABLE public.businesses (
    id BIGSERIAL NOT NULL,
    name VARCHAR(200) NOT NULL,
    slug VARCHAR(80) NOT NULL,
    timezone VARCHAR(64) NOT NULL,
    country VARCHAR(2) NOT NULL,
    currency VARCHAR(3) NOT NULL,
    is_demo BOOLEAN DEFAULT false NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_businesses PRIMARY KEY (id),
    CONSTRAINT uq_businesses_slug UNIQUE (slug)
);

CREATE TABLE public.sign_in_throttle (
    key VARCHAR(64) NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP WITH TIME ZONE NOT NULL,
    blocked_until TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_sign_in_throttle PRIMARY KEY (key)
);

CREATE TABLE public.accounts (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    email VARCHAR(254) NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    role VARCHAR(16) NOT NULL,
    password_hash VARCHAR(255),
    auth_provider VARCHAR(16) DEFAULT 'local' NOT NULL,
    external_auth_id VARCHAR(64),
    is_active BOOLEAN DEFAULT true NOT NULL,
    last_sign_in_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_accounts PRIMARY KEY (id),
    CONSTRAINT ck_accounts_auth_provider CHECK (auth_provider IN ('local', 'supabase')),
    CONSTRAINT ck_accounts_role CHECK (role IN ('owner', 'staff', 'analyst')),
    CONSTRAINT fk_accounts_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_accounts_email UNIQUE (email),
    CONSTRAINT uq_accounts_external_auth_id UNIQUE (external_auth_id)
);

CREATE INDEX ix_accounts_business_id ON public.accounts (business_id);

CREATE TABLE public.customers (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    external_id VARCHAR(64),
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) DEFAULT '' NOT NULL,
    email VARCHAR(254),
    phone VARCHAR(20),
    sms_opt_in BOOLEAN DEFAULT false NOT NULL,
    sms_opt_in_at TIMESTAMP WITH TIME ZONE,
    email_opt_in BOOLEAN DEFAULT false NOT NULL,
    email_opt_in_at TIMESTAMP WITH TIME ZONE,
    notes TEXT DEFAULT '' NOT NULL,
    tags JSONB DEFAULT '[]' NOT NULL,
    merged_into_id BIGINT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_customers PRIMARY KEY (id),
    CONSTRAINT fk_customers_business_id_merged_into_id_customers FOREIGN KEY(business_id, merged_into_id) REFERENCES public.customers (business_id, id) ON DELETE NO ACTION,
    CONSTRAINT fk_customers_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_customers_business_id_external_id UNIQUE (business_id, external_id),
    CONSTRAINT uq_customers_business_id_id UNIQUE (business_id, id)
);

CREATE INDEX ix_customers_business_id_email ON public.customers (business_id, email);

CREATE INDEX ix_customers_business_id_last_name ON public.customers (business_id, last_name);

CREATE INDEX ix_customers_business_id_phone ON public.customers (business_id, phone);

CREATE TABLE public.notification_templates (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    name VARCHAR(120) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    channel VARCHAR(8) NOT NULL,
    variant VARCHAR(8) DEFAULT 'A' NOT NULL,
    subject VARCHAR(200),
    body TEXT NOT NULL,
    is_active BOOLEAN DEFAULT true NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_notification_templates PRIMARY KEY (id),
    CONSTRAINT ck_notification_templates_channel CHECK (channel IN ('sms', 'email')),
    CONSTRAINT fk_notification_templates_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_notification_templates_business_id_kind_channel_variant UNIQUE (business_id, kind, channel, variant)
);

CREATE TABLE public.services (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    name VARCHAR(120) NOT NULL,
    category VARCHAR(60) DEFAULT 'General' NOT NULL,
    duration_min INTEGER NOT NULL,
    buffer_min INTEGER DEFAULT 0 NOT NULL,
    price_cents INTEGER NOT NULL,
    is_active BOOLEAN DEFAULT true NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_services PRIMARY KEY (id),
    CONSTRAINT ck_services_buffer_not_negative CHECK (buffer_min >= 0),
    CONSTRAINT ck_services_duration_positive CHECK (duration_min > 0),
    CONSTRAINT ck_services_price_not_negative CHECK (price_cents >= 0),
    CONSTRAINT fk_services_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_services_business_id_id UNIQUE (business_id, id),
    CONSTRAINT uq_services_business_id_name UNIQUE (business_id, name)
);

CREATE TABLE public.ai_suggestions (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    suggestion_type VARCHAR(64) NOT NULL,
    suggestion_data JSONB NOT NULL,
    is_implemented BOOLEAN DEFAULT false NOT NULL,
    status VARCHAR(16) DEFAULT 'open' NOT NULL,
    engine VARCHAR(16) NOT NULL,
    model VARCHAR(100),
    facts_hash VARCHAR(64) NOT NULL,
    created_by BIGINT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_ai_suggestions PRIMARY KEY (id),
    CONSTRAINT ck_ai_suggestions_status CHECK (status IN ('open', 'implemented', 'dismissed')),
    CONSTRAINT fk_ai_suggestions_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT fk_ai_suggestions_created_by_accounts FOREIGN KEY(created_by) REFERENCES public.accounts (id) ON DELETE SET NULL
);

CREATE INDEX ix_ai_suggestions_business_id_created_at ON public.ai_suggestions (business_id, created_at);

CREATE TABLE public.analytics_events (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    account_id BIGINT,
    event_type VARCHAR(64) NOT NULL,
    event_data JSONB DEFAULT '{}' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_analytics_events PRIMARY KEY (id),
    CONSTRAINT fk_analytics_events_account_id_accounts FOREIGN KEY(account_id) REFERENCES public.accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_analytics_events_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE
);

CREATE INDEX ix_analytics_events_business_id_created_at ON public.analytics_events (business_id, created_at);

CREATE TABLE public.audit_log (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    account_id BIGINT,
    actor VARCHAR(64) NOT NULL,
    action VARCHAR(32) NOT NULL,
    entity VARCHAR(64) NOT NULL,
    entity_id VARCHAR(64),
    diff JSONB DEFAULT '{}' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_audit_log PRIMARY KEY (id),
    CONSTRAINT fk_audit_log_account_id_accounts FOREIGN KEY(account_id) REFERENCES public.accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_audit_log_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE
);

CREATE INDEX ix_audit_log_business_id_created_at ON public.audit_log (business_id, created_at);

CREATE INDEX ix_audit_log_business_id_entity_entity_id ON public.audit_log (business_id, entity, entity_id);

CREATE TABLE public.campaigns (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    name VARCHAR(200) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    channel VARCHAR(8) NOT NULL,
    template_id BIGINT,
    segment JSONB DEFAULT '{}' NOT NULL,
    status VARCHAR(16) DEFAULT 'draft' NOT NULL,
    scheduled_at TIMESTAMP WITH TIME ZONE,
    created_by BIGINT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_campaigns PRIMARY KEY (id),
    CONSTRAINT ck_campaigns_channel CHECK (channel IN ('sms', 'email')),
    CONSTRAINT ck_campaigns_status CHECK (status IN ('draft', 'scheduled', 'running', 'done', 'cancelled')),
    CONSTRAINT fk_campaigns_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT fk_campaigns_created_by_accounts FOREIGN KEY(created_by) REFERENCES public.accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_campaigns_template_id_notification_templates FOREIGN KEY(template_id) REFERENCES public.notification_templates (id) ON DELETE SET NULL
);

CREATE INDEX ix_campaigns_business_id_created_at ON public.campaigns (business_id, created_at);

CREATE TABLE public.churn_scores (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    as_of TIMESTAMP WITH TIME ZONE NOT NULL,
    score FLOAT NOT NULL,
    band VARCHAR(16) NOT NULL,
    drivers JSONB DEFAULT '[]' NOT NULL,
    model_version VARCHAR(64) NOT NULL,
    data_fingerprint VARCHAR(64) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_churn_scores PRIMARY KEY (id),
    CONSTRAINT fk_churn_scores_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT fk_churn_scores_customer_id_customers FOREIGN KEY(customer_id) REFERENCES public.customers (id) ON DELETE CASCADE,
    CONSTRAINT uq_churn_scores_business_id_customer_id_as_of_model_version UNIQUE (business_id, customer_id, as_of, model_version)
);

CREATE INDEX ix_churn_scores_business_id_as_of ON public.churn_scores (business_id, as_of);

CREATE TABLE public.forecast_runs (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    scope VARCHAR(16) NOT NULL,
    scope_id BIGINT,
    params JSONB NOT NULL,
    data_fingerprint VARCHAR(64) NOT NULL,
    model_json TEXT,
    metrics JSONB DEFAULT '{}' NOT NULL,
    forecast JSONB,
    status VARCHAR(16) DEFAULT 'done' NOT NULL,
    created_by BIGINT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_forecast_runs PRIMARY KEY (id),
    CONSTRAINT ck_forecast_runs_scope CHECK (scope IN ('business', 'staff', 'service')),
    CONSTRAINT fk_forecast_runs_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT fk_forecast_runs_created_by_accounts FOREIGN KEY(created_by) REFERENCES public.accounts (id) ON DELETE SET NULL
);

CREATE INDEX ix_forecast_runs_business_id_scope_scope_id_data_fingerprint ON public.forecast_runs (business_id, scope, scope_id, data_fingerprint);

CREATE TABLE public.staff (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    display_name VARCHAR(120) NOT NULL,
    email VARCHAR(254),
    phone VARCHAR(20),
    color VARCHAR(7) DEFAULT '#4C78A8' NOT NULL,
    account_id BIGINT,
    is_active BOOLEAN DEFAULT true NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_staff PRIMARY KEY (id),
    CONSTRAINT fk_staff_account_id_accounts FOREIGN KEY(account_id) REFERENCES public.accounts (id) ON DELETE SET NULL,
    CONSTRAINT fk_staff_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_staff_business_id_display_name UNIQUE (business_id, display_name),
    CONSTRAINT uq_staff_business_id_id UNIQUE (business_id, id)
);

CREATE TABLE public.appointments (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    staff_id BIGINT NOT NULL,
    customer_id BIGINT,
    service_id BIGINT NOT NULL,
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL,
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status VARCHAR(16) DEFAULT 'booked' NOT NULL,
    price_cents INTEGER NOT NULL,
    source VARCHAR(16) DEFAULT 'staff' NOT NULL,
    external_id VARCHAR(64),
    notes TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    cancelled_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_appointments PRIMARY KEY (id),
    CONSTRAINT ck_appointments_status CHECK (status IN ('booked', 'confirmed', 'completed', 'cancelled', 'no_show')),
    CONSTRAINT ck_appointments_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT ck_appointments_price_not_negative CHECK (price_cents >= 0),
    CONSTRAINT fk_appointments_business_id_customer_id_customers FOREIGN KEY(business_id, customer_id) REFERENCES public.customers (business_id, id) ON DELETE RESTRICT,
    CONSTRAINT fk_appointments_business_id_service_id_services FOREIGN KEY(business_id, service_id) REFERENCES public.services (business_id, id) ON DELETE RESTRICT,
    CONSTRAINT fk_appointments_business_id_staff_id_staff FOREIGN KEY(business_id, staff_id) REFERENCES public.staff (business_id, id) ON DELETE RESTRICT,
    CONSTRAINT fk_appointments_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT uq_appointments_business_id_external_id UNIQUE (business_id, external_id)
);

CREATE INDEX ix_appointments_business_id_starts_at ON public.appointments (business_id, starts_at);

CREATE INDEX ix_appointments_customer_id_starts_at ON public.appointments (customer_id, starts_at);

CREATE INDEX ix_appointments_staff_id_starts_at ON public.appointments (staff_id, starts_at);

-- No two non-cancelled appointments of one staff member overlap. Half-open ranges, so
-- back-to-back bookings that only touch are allowed.
ALTER TABLE public.appointments ADD CONSTRAINT ex_appointments_no_overlap
    EXCLUDE USING gist (staff_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');

CREATE TABLE public.staff_services (
    business_id BIGINT NOT NULL,
    staff_id BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
    CONSTRAINT pk_staff_services PRIMARY KEY (staff_id, service_id),
    CONSTRAINT fk_staff_services_business_id_service_id_services FOREIGN KEY(business_id, service_id) REFERENCES public.services (business_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_staff_services_business_id_staff_id_staff FOREIGN KEY(business_id, staff_id) REFERENCES public.staff (business_id, id) ON DELETE CASCADE
);

CREATE TABLE public.time_off (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    staff_id BIGINT,
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL,
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL,
    reason VARCHAR(200) DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_time_off PRIMARY KEY (id),
    CONSTRAINT ck_time_off_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT fk_time_off_business_id_staff_id_staff FOREIGN KEY(business_id, staff_id) REFERENCES public.staff (business_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_time_off_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE
);

CREATE INDEX ix_time_off_business_id_starts_at ON public.time_off (business_id, starts_at);

CREATE TABLE public.working_hours (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    staff_id BIGINT NOT NULL,
    weekday SMALLINT NOT NULL,
    start_time TIME WITHOUT TIME ZONE NOT NULL,
    end_time TIME WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_working_hours PRIMARY KEY (id),
    CONSTRAINT ck_working_hours_start_before_end CHECK (start_time < end_time),
    CONSTRAINT ck_working_hours_weekday CHECK (weekday BETWEEN 0 AND 6),
    CONSTRAINT fk_working_hours_business_id_staff_id_staff FOREIGN KEY(business_id, staff_id) REFERENCES public.staff (business_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_working_hours_business_id ON public.working_hours (business_id);

CREATE INDEX ix_working_hours_staff_id_weekday ON public.working_hours (staff_id, weekday);

CREATE TABLE public.notifications (
    id BIGSERIAL NOT NULL,
    business_id BIGINT NOT NULL,
    channel VARCHAR(8) NOT NULL,
    recipient VARCHAR(254) NOT NULL,
    subject VARCHAR(200),
    body TEXT NOT NULL,
    template_id BIGINT,
    template_kind VARCHAR(32) NOT NULL,
    variant VARCHAR(8),
    campaign_id BIGINT,
    appointment_id BIGINT,
    customer_id BIGINT,
    idempotency_key VARCHAR(200) NOT NULL,
    status VARCHAR(16) DEFAULT 'queued' NOT NULL,
    status_reason VARCHAR(200),
    attempts INTEGER DEFAULT 0 NOT NULL,
    scheduled_at TIMESTAMP WITH TIME ZONE NOT NULL,
    next_attempt_at TIMESTAMP WITH TIME ZONE,
    provider VARCHAR(32),
    provider_message_id VARCHAR(100),
    last_error TEXT,
    sent_at TIMESTAMP WITH TIME ZONE,
    delivered_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT ck_notifications_channel CHECK (channel IN ('sms', 'email')),
    CONSTRAINT ck_notifications_status CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'withdrawn')),
    CONSTRAINT fk_notifications_appointment_id_appointments FOREIGN KEY(appointment_id) REFERENCES public.appointments (id) ON DELETE SET NULL,
    CONSTRAINT fk_notifications_business_id_businesses FOREIGN KEY(business_id) REFERENCES public.businesses (id) ON DELETE CASCADE,
    CONSTRAINT fk_notifications_campaign_id_campaigns FOREIGN KEY(campaign_id) REFERENCES public.campaigns (id) ON DELETE SET NULL,
    CONSTRAINT fk_notifications_customer_id_customers FOREIGN KEY(customer_id) REFERENCES public.customers (id) ON DELETE SET NULL,
    CONSTRAINT fk_notifications_template_id_notification_templates FOREIGN KEY(template_id) REFERENCES public.notification_templates (id) ON DELETE SET NULL,
    CONSTRAINT uq_notifications_idempotency_key UNIQUE (idempotency_key)
);

CREATE INDEX ix_notifications_appointment_id ON public.notifications (appointment_id);

CREATE INDEX ix_notifications_business_id_created_at ON public.notifications (business_id, created_at);

CREATE INDEX ix_notifications_status_next_attempt_at ON public.notifications (status, next_attempt_at);

-- Alembic's bookkeeping: this database is at revision 0001 (head) ---------------------

CREATE TABLE public.alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

INSERT INTO public.alembic_version (version_num) VALUES ('0001');

-- Indexes for the policies -------------------------------------------------------------

-- Every policy filters on business_id (businesses: id). Each table already has an index
-- or unique constraint led by that column, except staff_services (its primary key is
-- (staff_id, service_id)).
CREATE INDEX ix_staff_services_business_id ON public.staff_services (business_id);

-- Tenant and role of the signed-in user -------------------------------------------------

-- Both come from the JWT's app_metadata, which only the service role (Auth admin API) can
-- set; user_metadata is editable by the user and must never decide access. A missing or
-- malformed claim gives NULL, which matches no row.
CREATE SCHEMA IF NOT EXISTS app;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO authenticated, service_role;

CREATE FUNCTION app.current_business_id()
RETURNS bigint
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT CASE WHEN claim ~ '^[0-9]{1,18}$' THEN claim::bigint END
    FROM (SELECT auth.jwt() -> 'app_metadata' ->> 'business_id' AS claim) AS jwt
$$;

COMMENT ON FUNCTION app.current_business_id() IS
    'The signed-in user''s business: JWT app_metadata.business_id, or NULL.';

CREATE FUNCTION app.current_user_role()
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT CASE WHEN claim IN ('owner', 'staff', 'analyst') THEN claim END
    FROM (SELECT auth.jwt() -> 'app_metadata' ->> 'role' AS claim) AS jwt
$$;

COMMENT ON FUNCTION app.current_user_role() IS
    'The signed-in user''s Slotboard role (owner, staff, analyst): JWT app_metadata.role, or NULL.';

REVOKE ALL ON FUNCTION app.current_business_id(), app.current_user_role() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION app.current_business_id(), app.current_user_role()
    TO authenticated, service_role;

-- Row-level security on every table -----------------------------------------------------

ALTER TABLE public.businesses ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sign_in_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.staff ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.services ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.staff_services ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.working_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.time_off ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.ai_suggestions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.churn_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.forecast_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.alembic_version ENABLE ROW LEVEL SECURITY;

-- Privileges ----------------------------------------------------------------------------

-- Supabase's default privileges give anon and authenticated everything on new tables and
-- sequences in public (TRUNCATE included, which RLS does not filter). Take it all back,
-- then grant authenticated only what its policies can use.
REVOKE ALL ON TABLE
    public.businesses, public.accounts, public.sign_in_throttle, public.staff,
    public.services, public.staff_services, public.working_hours, public.time_off,
    public.customers, public.appointments, public.analytics_events, public.ai_suggestions,
    public.notification_templates, public.campaigns, public.notifications,
    public.churn_scores, public.forecast_runs, public.audit_log, public.alembic_version
    FROM PUBLIC, anon, authenticated;

REVOKE ALL ON SEQUENCE
    public.businesses_id_seq, public.accounts_id_seq, public.staff_id_seq,
    public.services_id_seq, public.working_hours_id_seq, public.time_off_id_seq,
    public.customers_id_seq, public.appointments_id_seq, public.analytics_events_id_seq,
    public.ai_suggestions_id_seq, public.notification_templates_id_seq,
    public.campaigns_id_seq, public.notifications_id_seq, public.churn_scores_id_seq,
    public.forecast_runs_id_seq, public.audit_log_id_seq
    FROM PUBLIC, anon, authenticated;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
    public.staff, public.services, public.staff_services, public.working_hours,
    public.time_off, public.customers, public.appointments, public.analytics_events,
    public.ai_suggestions, public.notification_templates, public.campaigns,
    public.notifications, public.churn_scores, public.forecast_runs
    TO authenticated;

-- A business is created by an operator (service role / `cli.py business create`); its
-- owner may edit the settings but not its id or demo flag, nor delete it.
GRANT SELECT ON TABLE public.businesses TO authenticated;
GRANT UPDATE (name, slug, timezone, country, currency, updated_at)
    ON TABLE public.businesses TO authenticated;

-- Local password hashes never leave the database through the API, nor can they be set.
-- external_auth_id (the link to a Supabase Auth user) is set by Slotboard's sign-in only,
-- so an owner cannot point an account at another business's user.
GRANT SELECT (id, business_id, email, display_name, role, auth_provider, external_auth_id,
              is_active, last_sign_in_at, created_at, updated_at),
      INSERT (business_id, email, display_name, role, auth_provider, is_active, created_at,
              updated_at),
      UPDATE (email, display_name, role, auth_provider, is_active, updated_at),
      DELETE
    ON TABLE public.accounts TO authenticated;

-- The audit log is append-only through the API.
GRANT SELECT, INSERT ON TABLE public.audit_log TO authenticated;

-- sign_in_throttle and alembic_version: nothing for authenticated (RLS on, no policy).

GRANT USAGE ON SEQUENCE
    public.accounts_id_seq, public.staff_id_seq, public.services_id_seq,
    public.working_hours_id_seq, public.time_off_id_seq, public.customers_id_seq,
    public.appointments_id_seq, public.analytics_events_id_seq,
    public.ai_suggestions_id_seq, public.notification_templates_id_seq,
    public.campaigns_id_seq, public.notifications_id_seq, public.churn_scores_id_seq,
    public.forecast_runs_id_seq, public.audit_log_id_seq
    TO authenticated;

-- The service role is for trusted server code; on Supabase it bypasses RLS.
GRANT ALL ON TABLE
    public.businesses, public.accounts, public.sign_in_throttle, public.staff,
    public.services, public.staff_services, public.working_hours, public.time_off,
    public.customers, public.appointments, public.analytics_events, public.ai_suggestions,
    public.notification_templates, public.campaigns, public.notifications,
    public.churn_scores, public.forecast_runs, public.audit_log, public.alembic_version
    TO service_role;

GRANT ALL ON SEQUENCE
    public.businesses_id_seq, public.accounts_id_seq, public.staff_id_seq,
    public.services_id_seq, public.working_hours_id_seq, public.time_off_id_seq,
    public.customers_id_seq, public.appointments_id_seq, public.analytics_events_id_seq,
    public.ai_suggestions_id_seq, public.notification_templates_id_seq,
    public.campaigns_id_seq, public.notifications_id_seq, public.churn_scores_id_seq,
    public.forecast_runs_id_seq, public.audit_log_id_seq
    TO service_role;

-- Policies --------------------------------------------------------------------------------

-- Every policy is for `authenticated` and scopes rows to the JWT's business. The helpers
-- are wrapped in (select ...) so PostgreSQL evaluates them once per statement, not once
-- per row. A user without a valid role claim sees nothing.
--
--   role     reads                                      writes
--   owner    everything in the business                 everything in the business
--   staff    all but accounts and audit_log             bookings side; audit_log insert
--   analyst  all but accounts and audit_log             nothing
--
-- audit_log has no UPDATE or DELETE policy (nor privilege) for anyone.

-- The business itself: every role reads it, the owner edits its settings.
CREATE POLICY businesses_select ON public.businesses FOR SELECT TO authenticated
    USING (id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY businesses_update ON public.businesses FOR UPDATE TO authenticated
    USING (id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

-- Sign-in accounts and roles: the owner's.
CREATE POLICY accounts_select ON public.accounts FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY accounts_insert ON public.accounts FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY accounts_update ON public.accounts FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY accounts_delete ON public.accounts FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

-- The audit log: the owner reads it; whoever may change data (owner, staff) appends.
CREATE POLICY audit_log_select ON public.audit_log FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY audit_log_insert ON public.audit_log FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

-- Configuration: every role reads, only the owner writes.
CREATE POLICY staff_select ON public.staff FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY staff_insert ON public.staff FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY staff_update ON public.staff FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY staff_delete ON public.staff FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY services_select ON public.services FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY services_insert ON public.services FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY services_update ON public.services FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY services_delete ON public.services FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY staff_services_select ON public.staff_services FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY staff_services_insert ON public.staff_services FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY staff_services_update ON public.staff_services FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY staff_services_delete ON public.staff_services FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY working_hours_select ON public.working_hours FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY working_hours_insert ON public.working_hours FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY working_hours_update ON public.working_hours FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY working_hours_delete ON public.working_hours FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY time_off_select ON public.time_off FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY time_off_insert ON public.time_off FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY time_off_update ON public.time_off FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY time_off_delete ON public.time_off FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

-- Bookings side: every role reads, owner and staff write.
CREATE POLICY customers_select ON public.customers FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY customers_insert ON public.customers FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY customers_update ON public.customers FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY customers_delete ON public.customers FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

CREATE POLICY appointments_select ON public.appointments FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY appointments_insert ON public.appointments FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY appointments_update ON public.appointments FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY appointments_delete ON public.appointments FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

CREATE POLICY notification_templates_select ON public.notification_templates FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY notification_templates_insert ON public.notification_templates FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY notification_templates_update ON public.notification_templates FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY notification_templates_delete ON public.notification_templates FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

CREATE POLICY campaigns_select ON public.campaigns FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY campaigns_insert ON public.campaigns FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY campaigns_update ON public.campaigns FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY campaigns_delete ON public.campaigns FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

CREATE POLICY notifications_select ON public.notifications FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY notifications_insert ON public.notifications FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY notifications_update ON public.notifications FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY notifications_delete ON public.notifications FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

CREATE POLICY analytics_events_select ON public.analytics_events FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY analytics_events_insert ON public.analytics_events FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY analytics_events_update ON public.analytics_events FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'))
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));
CREATE POLICY analytics_events_delete ON public.analytics_events FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) in ('owner', 'staff'));

-- Computed results (written by the app or the CLI): every role reads, only the owner writes.
CREATE POLICY ai_suggestions_select ON public.ai_suggestions FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY ai_suggestions_insert ON public.ai_suggestions FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY ai_suggestions_update ON public.ai_suggestions FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY ai_suggestions_delete ON public.ai_suggestions FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY churn_scores_select ON public.churn_scores FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY churn_scores_insert ON public.churn_scores FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY churn_scores_update ON public.churn_scores FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY churn_scores_delete ON public.churn_scores FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

CREATE POLICY forecast_runs_select ON public.forecast_runs FOR SELECT TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) is not null);
CREATE POLICY forecast_runs_insert ON public.forecast_runs FOR INSERT TO authenticated
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY forecast_runs_update ON public.forecast_runs FOR UPDATE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner')
    WITH CHECK (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');
CREATE POLICY forecast_runs_delete ON public.forecast_runs FOR DELETE TO authenticated
    USING (business_id = (select app.current_business_id()) AND (select app.current_user_role()) = 'owner');

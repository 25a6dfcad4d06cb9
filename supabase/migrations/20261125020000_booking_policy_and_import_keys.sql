-- Slotboard schema, Alembic revision 0002: booking policy per business, cancellation
-- reasons, import keys (re-importing a file creates no duplicates), and the index behind
-- the calendar's cheap data-version check. Mirrors data/migrations/versions/0002_*.py.
-- No new tables, so row-level security and policies are unchanged; owners may edit the
-- new booking-policy columns like the other business settings.

ALTER TABLE public.businesses
    ADD COLUMN min_notice_minutes integer DEFAULT 60 NOT NULL,
    ADD COLUMN max_days_ahead integer DEFAULT 90 NOT NULL,
    ADD COLUMN slot_step_minutes integer DEFAULT 15 NOT NULL;

ALTER TABLE public.appointments
    ADD COLUMN cancellation_reason varchar(200),
    ADD COLUMN import_key varchar(64);

ALTER TABLE public.customers
    ADD COLUMN import_key varchar(64);

CREATE UNIQUE INDEX ix_appointments_business_id_import_key
    ON public.appointments (business_id, import_key);
CREATE UNIQUE INDEX ix_customers_business_id_import_key
    ON public.customers (business_id, import_key);
CREATE INDEX ix_appointments_business_id_updated_at
    ON public.appointments (business_id, updated_at);
CREATE INDEX ix_customers_business_id_first_name
    ON public.customers (business_id, first_name);

GRANT UPDATE (min_notice_minutes, max_days_ahead, slot_step_minutes)
    ON TABLE public.businesses TO authenticated;

UPDATE public.alembic_version SET version_num = '0002' WHERE version_num = '0001';

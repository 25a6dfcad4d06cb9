-- Slotboard schema, Alembic revision 0003: covering indexes for customers' histories
-- (first completed visit, returning customers, rebooking and cohorts in the Overview).
-- The timeline index replaces (customer_id, starts_at), its prefix.
-- Mirrors data/migrations/versions/0003_*.py. No new tables: RLS is unchanged.

CREATE INDEX ix_appointments_customer_history
    ON public.appointments (business_id, status, customer_id, starts_at, created_at);
CREATE INDEX ix_appointments_customer_timeline
    ON public.appointments (customer_id, starts_at, status, created_at, business_id);
DROP INDEX public.ix_appointments_customer_id_starts_at;

UPDATE public.alembic_version SET version_num = '0003' WHERE version_num = '0002';

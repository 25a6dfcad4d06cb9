-- Slotboard schema, Alembic revision 0003: a covering index for customers' histories
-- (first completed visit, returning customers, rebooking, cohorts in the Overview).
-- Mirrors data/migrations/versions/0003_*.py. No new tables: RLS is unchanged.

CREATE INDEX ix_appointments_customer_history
    ON public.appointments (business_id, status, customer_id, starts_at, created_at);

UPDATE public.alembic_version SET version_num = '0003' WHERE version_num = '0002';

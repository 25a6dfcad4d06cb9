-- Slotboard schema, Alembic revision 0004: automatic reminder rules per business.
-- Mirrors data/migrations/versions/0004_*.py. No new tables: RLS is unchanged; owners may
-- edit the rules like the other business settings.

ALTER TABLE public.businesses
    ADD COLUMN reminder_rules jsonb DEFAULT '[{"channel": "sms", "offset_minutes": 1440, "active": true}, {"channel": "email", "offset_minutes": 1440, "active": true}, {"channel": "sms", "offset_minutes": 120, "active": false}]' NOT NULL;

GRANT UPDATE (reminder_rules) ON TABLE public.businesses TO authenticated;

UPDATE public.alembic_version SET version_num = '0004' WHERE version_num = '0003';

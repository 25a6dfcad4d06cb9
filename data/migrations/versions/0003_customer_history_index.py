"""Covering indexes for customers' histories (the Overview at a million appointments).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

- ix_appointments_customer_history (business_id, status, customer_id, starts_at,
  created_at): every customer's first completed visit in one ordered index-only scan
  (cohorts, new customers), and "a completed visit before the period?" in one seek.
- ix_appointments_customer_timeline (customer_id, starts_at, status, created_at,
  business_id) replaces (customer_id, starts_at), its prefix: "was a later appointment
  booked within N days of this visit?" (rebooking) is answered from the index alone.
  The customer foreign key and the visit history keep using the prefix.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HISTORY = "ix_appointments_customer_history"  # full column-list names pass 63 characters
TIMELINE = "ix_appointments_customer_timeline"


def upgrade() -> None:
    op.create_index(
        op.f(HISTORY),
        "appointments",
        ["business_id", "status", "customer_id", "starts_at", "created_at"],
    )
    op.create_index(
        op.f(TIMELINE),
        "appointments",
        ["customer_id", "starts_at", "status", "created_at", "business_id"],
    )
    op.drop_index(op.f("ix_appointments_customer_id_starts_at"), "appointments")


def downgrade() -> None:
    op.create_index(
        op.f("ix_appointments_customer_id_starts_at"), "appointments", ["customer_id", "starts_at"]
    )
    op.drop_index(op.f(TIMELINE), "appointments")
    op.drop_index(op.f(HISTORY), "appointments")

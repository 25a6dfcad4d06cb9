"""A covering index for customers' histories: (business_id, status, customer_id,
starts_at, created_at).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The Overview asks, per customer: when was the first completed visit, was there a
completed visit before the period, and was a later appointment booked within N days of
a visit. With this index each is an index-only seek, and "every customer's first
completed visit" is one ordered index scan: at a million appointments the cohort table
drops from over a second to a few hundred milliseconds. (customer_id, starts_at) stays:
the customer foreign key and the visit history use it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME = "ix_appointments_customer_history"  # the full column list would pass 63 characters


def upgrade() -> None:
    op.create_index(
        op.f(NAME),
        "appointments",
        ["business_id", "status", "customer_id", "starts_at", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f(NAME), "appointments")

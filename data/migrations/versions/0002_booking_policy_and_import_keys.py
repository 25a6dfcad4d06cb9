"""Booking policy, cancellation reasons, import keys, data-version and name-search indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Only ADD COLUMN and CREATE INDEX, so SQLite needs no table rebuild (a rebuild of a
million-row appointments table would be slow, and would have to carry every constraint).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "businesses",
        sa.Column("min_notice_minutes", sa.Integer(), server_default="60", nullable=False),
    )
    op.add_column(
        "businesses",
        sa.Column("max_days_ahead", sa.Integer(), server_default="90", nullable=False),
    )
    op.add_column(
        "businesses",
        sa.Column("slot_step_minutes", sa.Integer(), server_default="15", nullable=False),
    )
    op.add_column("appointments", sa.Column("cancellation_reason", sa.String(200)))
    op.add_column("appointments", sa.Column("import_key", sa.String(64)))
    op.add_column("customers", sa.Column("import_key", sa.String(64)))
    op.create_index(
        op.f("ix_appointments_business_id_import_key"),
        "appointments",
        ["business_id", "import_key"],
        unique=True,
    )
    op.create_index(
        op.f("ix_customers_business_id_import_key"),
        "customers",
        ["business_id", "import_key"],
        unique=True,
    )
    op.create_index(
        op.f("ix_appointments_business_id_updated_at"),
        "appointments",
        ["business_id", "updated_at"],
    )
    op.create_index(
        op.f("ix_customers_business_id_first_name"), "customers", ["business_id", "first_name"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_business_id_first_name"), "customers")
    op.drop_index(op.f("ix_appointments_business_id_updated_at"), "appointments")
    op.drop_index(op.f("ix_customers_business_id_import_key"), "customers")
    op.drop_index(op.f("ix_appointments_business_id_import_key"), "appointments")
    for table, column in (
        ("customers", "import_key"),
        ("appointments", "import_key"),
        ("appointments", "cancellation_reason"),
        ("businesses", "slot_step_minutes"),
        ("businesses", "max_days_ahead"),
        ("businesses", "min_notice_minutes"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)

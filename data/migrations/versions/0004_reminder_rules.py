"""Automatic reminder rules per business (issue 7).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

businesses.reminder_rules: a JSON list of {"channel": "sms"|"email", "offset_minutes": int,
"active": bool}. The default reminds 24 hours before by SMS and by e-mail, and keeps a
2-hour SMS reminder switched off. "24 hours" means the same local time the day before,
across DST too (notifications.planning).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.types import Json

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DEFAULT_RULES = (
    '[{"channel": "sms", "offset_minutes": 1440, "active": true}, '
    '{"channel": "email", "offset_minutes": 1440, "active": true}, '
    '{"channel": "sms", "offset_minutes": 120, "active": false}]'
)


def upgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.add_column(
            sa.Column("reminder_rules", Json, nullable=False, server_default=DEFAULT_RULES)
        )


def downgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.drop_column("reminder_rules")

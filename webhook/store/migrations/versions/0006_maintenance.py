"""Maintenance windows and their Alertmanager silences; incidents inside one are planned.

Revision ID: 0006_maintenance
Revises: 0004_access
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_maintenance"
down_revision: str | None = "0004_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("skpd", sa.String(length=64), nullable=False),
        sa.Column("nodes", JSON, nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("silence_ids", JSON, nullable=False),
        sa.Column("synced_revision", sa.Integer(), nullable=True),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("synced_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance")),
    )
    op.create_index("ix_maintenance_skpd_ends_at", "maintenance", ["skpd", "ends_at"])
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("planned", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("planned")
    op.drop_index("ix_maintenance_skpd_ends_at", table_name="maintenance")
    op.drop_table("maintenance")

"""The duty roster: the rotation and its overrides (swaps, leave).

Revision ID: 0005_roster
Revises: 0004_access
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_roster"
down_revision: str | None = "0006_maintenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "roster_rotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("people", JSON, nullable=False),
        sa.Column("shift_days", sa.Integer(), nullable=False),
        sa.Column("handover", sa.String(length=5), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_rotation")),
    )
    op.create_table(
        "roster_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_override")),
    )
    op.create_index(
        op.f("ix_roster_override_ends_at"), "roster_override", ["ends_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_roster_override_ends_at"), table_name="roster_override")
    op.drop_table("roster_override")
    op.drop_table("roster_rotation")

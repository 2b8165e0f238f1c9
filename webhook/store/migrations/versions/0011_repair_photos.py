"""Photos of a repair on its F-04 (issue 24, "F-04 as evidence").

Revision ID: 0011_repair_photos
Revises: 0010_chat
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_repair_photos"
down_revision: str | None = "0010_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "repair_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_repair_photo_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_photo")),
        sqlite_autoincrement=True,  # ids never reused (cached photo URLs)
    )
    op.create_index(
        op.f("ix_repair_photo_incident_id"), "repair_photo", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_repair_photo_incident_id"), table_name="repair_photo")
    op.drop_table("repair_photo")

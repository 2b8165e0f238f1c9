"""The status page's notices (issue 22): the coordinator's short public notice, with who
posted it and when.

Revision ID: 0009_status_notice
Revises: 0008_alert_firing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_status_notice"
down_revision: str | None = "0008_alert_firing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_by", sa.String(100), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_notice")

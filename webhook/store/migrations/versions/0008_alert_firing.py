"""The firing alerts by fingerprint, in a partial index, instead of an index on status: with
the latter, the databases looked a notification's alerts up among all firing ones (every batch
of a storm cost more than the one before); reconciliation still finds the firing alerts without
reading the others.

Revision ID: 0008_alert_firing
Revises: 0007_documents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_alert_firing"
down_revision: str | None = "0007_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRING = "status = 'firing'"


def upgrade() -> None:
    op.drop_index("ix_alert_status", table_name="alert")
    op.create_index(
        "ix_alert_firing",
        "alert",
        ["fingerprint"],
        sqlite_where=sa.text(FIRING),
        postgresql_where=sa.text(FIRING),
    )


def downgrade() -> None:
    op.drop_index("ix_alert_firing", table_name="alert")
    op.create_index("ix_alert_status", "alert", ["status"])

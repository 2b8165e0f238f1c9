"""The partial index of the firing alerts keyed by id instead of fingerprint: fingerprints are
random, so each write transaction of a storm dirtied leaf pages all over that index (SQLite
writes every dirty page to its log at commit); ids only grow, so new entries fill its last
page. Lookups by fingerprint use the unique index on (fingerprint, starts_at), and
reconciliation walks this one in the order received.

Revision ID: 0009_alert_firing_by_id
Revises: 0008_alert_firing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_alert_firing_by_id"
down_revision: str | None = "0008_alert_firing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRING = "status = 'firing'"


def _firing_index(column: str) -> None:
    op.drop_index("ix_alert_firing", table_name="alert")
    op.create_index(
        "ix_alert_firing",
        "alert",
        [column],
        sqlite_where=sa.text(FIRING),
        postgresql_where=sa.text(FIRING),
    )


def upgrade() -> None:
    _firing_index("id")


def downgrade() -> None:
    _firing_index("fingerprint")

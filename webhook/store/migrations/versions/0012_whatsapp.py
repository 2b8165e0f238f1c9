"""WhatsApp and the gateway's replies: the incoming messages acted on (issue 21).

Revision ID: 0012_whatsapp
Revises: 0011_repair_photos
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_whatsapp"
down_revision: str | None = "0011_repair_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_message",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_id", name=op.f("pk_inbound_message")),
    )


def downgrade() -> None:
    op.drop_table("inbound_message")

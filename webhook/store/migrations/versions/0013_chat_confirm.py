"""Chat, second part (issue 21): the SKPD's answer to "is your office's connection down?" on the
incident (SOP 3), the group chats (the NOC's, an SKPD's own), and each linked chat's language.

Revision ID: 0013_chat_confirm
Revises: 0012_whatsapp
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_chat_confirm"
down_revision: str | None = "0012_whatsapp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("skpd_answer", sa.String(16), nullable=True))
        batch.add_column(sa.Column("skpd_answer_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("skpd_answer_at", WHEN, nullable=True))
    with op.batch_alter_table("telegram_chat") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
    op.create_table(
        "telegram_group",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_group")),
        sa.UniqueConstraint("scope", name=op.f("uq_telegram_group_scope")),
    )


def downgrade() -> None:
    op.drop_table("telegram_group")
    with op.batch_alter_table("telegram_chat") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("skpd_answer_at")
        batch.drop_column("skpd_answer_by")
        batch.drop_column("skpd_answer")

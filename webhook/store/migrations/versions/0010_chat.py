"""Telegram: people's linked chats, one-time link codes, and the updates acted on (issue 21).

Revision ID: 0010_chat
Revises: 0009_status_notice
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_chat"
down_revision: str | None = "0009_status_notice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "telegram_chat",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_telegram_chat_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chat")),
        sa.UniqueConstraint("user_id", name=op.f("uq_telegram_chat_user_id")),
    )
    op.create_table(
        "telegram_link_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_telegram_link_code_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_telegram_link_code")),
    )
    op.create_index(
        op.f("ix_telegram_link_code_user_id"), "telegram_link_code", ["user_id"], unique=False
    )
    op.create_table(
        "telegram_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_update")),
    )


def downgrade() -> None:
    op.drop_table("telegram_update")
    op.drop_index(op.f("ix_telegram_link_code_user_id"), table_name="telegram_link_code")
    op.drop_table("telegram_link_code")
    op.drop_table("telegram_chat")

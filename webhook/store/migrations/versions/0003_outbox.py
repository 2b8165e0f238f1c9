"""The transactional outbox: `notice` (what a move owes, written in its transaction) and the
delivery state of `notification` (message, idempotency key, next attempt, claim lease).

Messages still pending from before the outbox were kept in a process's memory only and have no
text to send: they are marked failed, with the reason.

Revision ID: 0003_outbox
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_outbox"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("notice", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("planned_at", WHEN, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_notice_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    op.create_index(op.f("ix_notice_incident_id"), "notice", ["incident_id"], unique=False)
    op.create_index(op.f("ix_notice_planned_at"), "notice", ["planned_at"], unique=False)
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("person", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("links", JSON, nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("idempotency_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", WHEN, nullable=True))
        batch.add_column(sa.Column("claimed_until", WHEN, nullable=True))
    notification = sa.table(
        "notification",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("last_error", sa.Text()),
        sa.column("idempotency_key", sa.String()),
    )
    op.execute(
        notification.update().values(
            idempotency_key=sa.literal("sigap-legacy-") + sa.cast(notification.c.id, sa.String(20))
        )
    )
    op.execute(
        notification.update()
        .where(notification.c.status == "pending")
        .values(status="failed", last_error="not sent before the upgrade to the outbox")
    )
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("idempotency_key", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint(op.f("uq_notification_idempotency_key"), ["idempotency_key"])
        batch.create_foreign_key(
            op.f("fk_notification_notice_id_notice"), "notice", ["notice_id"], ["id"]
        )
        batch.create_index(op.f("ix_notification_notice_id"), ["notice_id"], unique=False)
        batch.create_index(
            "ix_notification_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_index("ix_notification_status_next_attempt_at")
        batch.drop_index(op.f("ix_notification_notice_id"))
        batch.drop_constraint(op.f("fk_notification_notice_id_notice"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_notification_idempotency_key"), type_="unique")
        for column in (
            "claimed_until",
            "next_attempt_at",
            "idempotency_key",
            "links",
            "text",
            "person",
            "notice_id",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_notice_planned_at"), table_name="notice")
    op.drop_index(op.f("ix_notice_incident_id"), table_name="notice")
    op.drop_table("notice")

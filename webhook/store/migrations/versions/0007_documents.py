"""Documents: a number per form (kind, local month, sequence); users' full name and NIP for
the signature blocks.

Revision ID: 0007_documents
Revises: 0004_access
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_documents"
down_revision: str | None = "0005_roster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("form") as batch:
        batch.add_column(sa.Column("number_year", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("number_month", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("number_seq", sa.Integer(), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_form_kind"), ["kind", "number_year", "number_month", "number_seq"]
        )
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("full_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("nip", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("nip")
        batch.drop_column("full_name")
    with op.batch_alter_table("form") as batch:
        batch.drop_constraint(op.f("uq_form_kind"), type_="unique")
        batch.drop_column("number_seq")
        batch.drop_column("number_month")
        batch.drop_column("number_year")

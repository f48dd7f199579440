"""agreements: the werkbegeleider's outcome beside the student's own

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("workplace_outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("workplace_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("workplace_round_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("workplace_outcome_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("workplace_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_agreements_workplace_by_members",
            "members",
            ["workplace_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            "fk_agreements_workplace_round_id_rounds",
            "rounds",
            ["workplace_round_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("agreements") as batch:
        batch.drop_constraint("fk_agreements_workplace_round_id_rounds", type_="foreignkey")
        batch.drop_constraint("fk_agreements_workplace_by_members", type_="foreignkey")
        batch.drop_column("workplace_by")
        batch.drop_column("workplace_outcome_at")
        batch.drop_column("workplace_round_id")
        batch.drop_column("workplace_note")
        batch.drop_column("workplace_outcome")

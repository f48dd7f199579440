"""prompts: the Telegram message they were sent in, and one prompt per question

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 08:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(
            "uq_prompts_round_id_member_id_question_key", ["round_id", "member_id", "question_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint("uq_prompts_round_id_member_id_question_key", type_="unique")
        batch.drop_column("message_id")

"""agreements, meeting notes and compliments (bot.loop); why an alert was resolved

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _prompt_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("prompt_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("prompt_message_id", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("resolved_week", sa.Integer(), nullable=True))
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("skill", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("made_by", sa.String(length=200), nullable=False),
        sa.Column("made_by_user_id", sa.BigInteger(), nullable=False),
        *_prompt_columns(),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("made_week", sa.Integer(), nullable=False),
        sa.Column("follow_up_week", sa.Integer(), nullable=True),
        sa.Column("share_workplace", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("outcome_round_id", sa.Integer(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
        sa.Column("outcome_applied", sa.Boolean(), nullable=False),
        sa.Column("on_agenda", sa.Boolean(), nullable=False),
        sa.Column("discussed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_agreements_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_agreements_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_agreements_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["outcome_round_id"],
            ["rounds.id"],
            name=op.f("fk_agreements_outcome_round_id_rounds"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index(op.f("ix_agreements_cohort_id"), "agreements", ["cohort_id"])
    op.create_index(op.f("ix_agreements_member_id"), "agreements", ["member_id"])
    op.create_table(
        "loop_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_by_user_id", sa.BigInteger(), nullable=False),
        *_prompt_columns(),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_loop_notes_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_loop_notes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_notes")),
    )
    op.create_index(op.f("ix_loop_notes_cohort_id"), "loop_notes", ["cohort_id"])
    op.create_index(op.f("ix_loop_notes_member_id"), "loop_notes", ["member_id"])
    op.create_table(
        "compliments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_by_user_id", sa.BigInteger(), nullable=False),
        *_prompt_columns(),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_compliments_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_compliments_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_compliments_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliments")),
    )
    op.create_index(op.f("ix_compliments_cohort_id"), "compliments", ["cohort_id"])
    op.create_index(op.f("ix_compliments_member_id"), "compliments", ["member_id"])


def downgrade() -> None:
    for table in ("compliments", "loop_notes", "agreements"):
        op.drop_index(op.f(f"ix_{table}_member_id"), table_name=table)
        op.drop_index(op.f(f"ix_{table}_cohort_id"), table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resolved_week")
        batch.drop_column("resolution")

"""werkbegeleiders: supervisions, observations, field signals, the observation round's time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cohorts") as batch:
        batch.add_column(
            sa.Column("observation_at", sa.String(16), nullable=False, server_default="fri 16:00")
        )
        batch.add_column(
            sa.Column("observation_every", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("student_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_invites_student_id_members", "members", ["student_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "cohort_id",
            sa.Integer(),
            sa.ForeignKey("cohorts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "werkbegeleider_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "student_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_supervisions"),
        sa.UniqueConstraint(
            "werkbegeleider_id", "student_id", name="uq_supervisions_werkbegeleider_id_student_id"
        ),
    )
    op.create_index("ix_supervisions_werkbegeleider_id", "supervisions", ["werkbegeleider_id"])
    op.create_index("ix_supervisions_student_id", "supervisions", ["student_id"])
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "werkbegeleider_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "student_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
        sa.UniqueConstraint(
            "round_id",
            "werkbegeleider_id",
            "student_id",
            "skill",
            name="uq_observations_round_id_werkbegeleider_id_student_id_skill",
        ),
    )
    op.create_index("ix_observations_werkbegeleider_id", "observations", ["werkbegeleider_id"])
    op.create_index("ix_observations_student_id", "observations", ["student_id"])
    op.create_table(
        "field_signals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "cohort_id",
            sa.Integer(),
            sa.ForeignKey("cohorts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("skill", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_field_signals"),
    )


def downgrade() -> None:
    op.drop_table("field_signals")
    op.drop_index("ix_observations_student_id", table_name="observations")
    op.drop_index("ix_observations_werkbegeleider_id", table_name="observations")
    op.drop_table("observations")
    op.drop_index("ix_supervisions_student_id", table_name="supervisions")
    op.drop_index("ix_supervisions_werkbegeleider_id", table_name="supervisions")
    op.drop_table("supervisions")
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint("fk_invites_student_id_members", type_="foreignkey")
        batch.drop_column("student_id")
    with op.batch_alter_table("cohorts") as batch:
        batch.drop_column("observation_every")
        batch.drop_column("observation_at")

"""rounds: a partial index of the open rounds by cohort and kind

The alert check after every completed reflection finds a cohort's open reflection and
observation rounds four times in its one statement (`storage.repos.gap_query`). With only
`(cohort_id, week, kind)` each lookup read all of the cohort's rounds (80 in a school year
with observations) to keep the one or two open ones; this index holds only open rounds, so it
stays as small as the rounds running now. Measured on the benchmark's 10,000 students × 40
weeks: the statement 0.82 → 0.44 ms on SQLite and 0.74 → 0.47 ms on PostgreSQL
(docs/benchmarks.md §3, eleventh step).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index(
        "ix_rounds_open",
        "rounds",
        ["cohort_id", "kind"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_rounds_open", table_name="rounds")

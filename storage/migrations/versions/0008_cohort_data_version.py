"""cohorts.data_version: a change counter of what the gap check keeps, bumped by triggers

The per-answer gap check (`bot.gaps.check`) keeps a cohort's closed rounds in process and
reads only its open rounds each time; this counter tells it when the kept part is stale. It
is bumped by the database on every path that can change that part — a closed round's answers,
participations or observations written or deleted (retention, erasure, a werkbegeleider's
/stop, a cascade), a round that is not open inserted, changed or deleted, a member joining,
leaving or changing name, role, status or organisation — so none of those paths has to know.
A tap in an open round does not bump it (open rounds are read on each check), nor do member
columns that change for other reasons (chat, consent, joined). SQLite: row triggers;
PostgreSQL: statement triggers with transition tables, so a retention run that deletes a
year's answers bumps each cohort once per statement, not once per row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# the tables whose rows belong to a round: only a round that is not open counts
ROUND_ROWS = {
    "answers": "round_id, member_id, question_key, kind, skill, rating, choice, text, skipped",
    "participations": "round_id, member_id, completed_at",
    "observations": "round_id, werkbegeleider_id, student_id, skill, level",
}
# the tables with a cohort_id of their own, and the columns whose change counts
COHORT_ROWS = {
    "rounds": "cohort_id, week, kind, status, due_at, closed_at",
    "members": "cohort_id, role, name, status, organisation",
}
EVENTS = ("insert", "update", "delete")
BUMP = "UPDATE cohorts SET data_version = data_version + 1 WHERE id"


def upgrade() -> None:
    op.add_column(
        "cohorts",
        sa.Column("data_version", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_up()
    else:
        _sqlite_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*ROUND_ROWS, *COHORT_ROWS):
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS gap_version_{event} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS gap_version_of_round_rows()")
        op.execute("DROP FUNCTION IF EXISTS gap_version_of_rounds()")
        op.execute("DROP FUNCTION IF EXISTS gap_version_of_members()")
    else:
        for table in (*ROUND_ROWS, *COHORT_ROWS):
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS gap_version_{table}_{event}")
    # a plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of `cohorts` would cascade its
    # children away when the old table is dropped with foreign keys on
    op.execute("ALTER TABLE cohorts DROP COLUMN data_version")


# -- SQLite: row triggers ------------------------------------------------------------------


def _closed(row: str) -> str:
    return f"(SELECT status FROM rounds WHERE id = {row}.round_id) <> 'open'"


def _cohort_of(row: str) -> str:
    return f"(SELECT cohort_id FROM rounds WHERE id = {row}.round_id)"


def _sqlite_up() -> None:
    for table, columns in ROUND_ROWS.items():
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_insert AFTER INSERT ON {table} "
            f"WHEN {_closed('NEW')} BEGIN {BUMP} = {_cohort_of('NEW')}; END"
        )
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_update AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {_closed('OLD')} OR {_closed('NEW')} "
            f"BEGIN {BUMP} IN ({_cohort_of('OLD')}, {_cohort_of('NEW')}); END"
        )
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_delete AFTER DELETE ON {table} "
            f"WHEN {_closed('OLD')} BEGIN {BUMP} = {_cohort_of('OLD')}; END"
        )
    for table, columns in COHORT_ROWS.items():
        # an open round is read on each check: inserting one changes nothing kept
        when = "WHEN NEW.status <> 'open' " if table == "rounds" else ""
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns.split(", "))
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_insert AFTER INSERT ON {table} "
            f"{when}BEGIN {BUMP} = NEW.cohort_id; END"
        )
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_update AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {changed} BEGIN {BUMP} IN (OLD.cohort_id, NEW.cohort_id); END"
        )
        op.execute(
            f"CREATE TRIGGER gap_version_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {BUMP} = OLD.cohort_id; END"
        )


# -- PostgreSQL: statement triggers over transition tables ---------------------------------

# the cohorts locked in id order before the bump: two transactions bumping the same cohorts
# then wait for each other instead of deadlocking
_LOCKED_BUMP = """
    UPDATE cohorts SET data_version = data_version + 1
    FROM (SELECT id FROM cohorts WHERE id IN ({cohorts}) ORDER BY id FOR UPDATE) AS locked
    WHERE cohorts.id = locked.id;
"""


def _function(name: str, inserted: str, updated: str, deleted: str) -> str:
    """A trigger function bumping the cohorts each event's query names (`changed`: the new
    rows, `gone`: the old ones)."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_LOCKED_BUMP.format(cohorts=inserted)}
        ELSIF TG_OP = 'UPDATE' THEN {_LOCKED_BUMP.format(cohorts=updated)}
        ELSE {_LOCKED_BUMP.format(cohorts=deleted)}
        END IF;
        RETURN NULL;
    END $$
    """


def _closed_rounds_of(rows: str) -> str:
    return (
        "SELECT r.cohort_id FROM rounds r WHERE r.status <> 'open' "
        f"AND r.id IN (SELECT round_id FROM {rows})"
    )


def _changed(columns: str) -> str:
    """The old and new cohorts of the rows whose listed columns changed."""
    old = ", ".join(f"o.{c}" for c in columns.split(", "))
    new = ", ".join(f"n.{c}" for c in columns.split(", "))
    pairs = f"changed n JOIN gone o ON o.id = n.id WHERE ({old}) IS DISTINCT FROM ({new})"
    return f"SELECT n.cohort_id FROM {pairs} UNION SELECT o.cohort_id FROM {pairs}"


def _postgres_up() -> None:
    # a round's rows: the round must be closed (or skipped) for the row to be kept; an
    # update of such a row is rare (retention, erasure), so any update of one counts
    both = "(SELECT round_id FROM changed UNION ALL SELECT round_id FROM gone) AS rows"
    op.execute(
        _function(
            "gap_version_of_round_rows",
            _closed_rounds_of("changed"),
            _closed_rounds_of(both),
            _closed_rounds_of("gone"),
        )
    )
    op.execute(
        _function(
            "gap_version_of_rounds",
            "SELECT cohort_id FROM changed WHERE status <> 'open'",
            _changed(COHORT_ROWS["rounds"]),
            "SELECT cohort_id FROM gone",
        )
    )
    op.execute(
        _function(
            "gap_version_of_members",
            "SELECT cohort_id FROM changed",
            _changed(COHORT_ROWS["members"]),
            "SELECT cohort_id FROM gone",
        )
    )
    functions = {
        "answers": "gap_version_of_round_rows",
        "participations": "gap_version_of_round_rows",
        "observations": "gap_version_of_round_rows",
        "rounds": "gap_version_of_rounds",
        "members": "gap_version_of_members",
    }
    referencing = {
        "insert": "NEW TABLE AS changed",
        "update": "OLD TABLE AS gone NEW TABLE AS changed",
        "delete": "OLD TABLE AS gone",
    }
    for table, function in functions.items():
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER gap_version_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {referencing[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {function}()"
            )

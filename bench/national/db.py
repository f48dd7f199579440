"""The database side of bench/national/: EXPLAIN of the hot queries at national size and the
size per school year estimated from measured bytes per row.

The hot queries are not rewritten here: the repositories' own statements are captured while
they run (in a transaction that is rolled back) and each is explained with its parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

WEEKS_PER_YEAR = 40
NATIONAL_STUDENTS = 50_000
NATIONAL_COHORTS = 2_000
# messages through the outbox per student per week: the expectations, the reflection, the
# reminder (to those who have not finished; counted for everyone: an upper bound)
OUTBOX_PER_STUDENT_WEEK = 3
NOW = datetime(2030, 9, 30, 6, 0, tzinfo=UTC)

Action = Callable[[Any], Awaitable[object]]


def _actions(ids: dict[str, Any]) -> dict[str, Action]:
    from bot.gaps.alerts import evaluate_cohort
    from storage.repos.outbox import OutboxRepo
    from storage.repos.rounds import AnswerRepo, PromptRepo

    async def claim(s: Any) -> object:
        return await OutboxRepo(s).claim("bench:1:x", NOW, 20, stale_after=timedelta(minutes=5))

    async def answer(s: Any) -> object:
        return await AnswerRepo(s).save(ids["round"], ids["member"], "q_bench", kind="rating",
                                        skill="bench", now=NOW, rating=3)  # fmt: skip

    async def prompt(s: Any) -> object:
        return await PromptRepo(s).get(ids["token"])

    async def gaps(s: Any) -> object:
        return await evaluate_cohort(s, ids["cohort"], NOW)

    return {"outbox claim": claim, "answer upsert": answer, "prompt by token": prompt,
            "gap check (evaluate_cohort)": gaps}  # fmt: skip


async def _sample_ids(db: Any) -> dict[str, Any]:
    """An open round with a student in the middle of the data, and one of its prompt tokens."""
    async with db.transaction() as s:
        row = (
            await s.execute(
                text(
                    "SELECT p.round_id, p.member_id, p.token, r.cohort_id FROM prompts p "
                    "JOIN rounds r ON r.id = p.round_id ORDER BY p.token LIMIT 1"
                )
            )
        ).one()
    return {"round": row[0], "member": row[1], "token": row[2], "cohort": row[3]}


SENT_HISTORY = 150_000  # sent outbox rows added before EXPLAIN: three weeks of national rounds


async def _add_sent_history(db: Any) -> None:
    """The outbox as it is after weeks of rounds: many sent rows next to the pending ones (the
    plans depend on the row counts, not on the payload, which is left small here)."""
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO outbox (dedupe_key, cohort_id, round_id, member_id, chat_id, kind, "
                "payload, priority, status, attempts, not_before, sent_at, repeats, created_at) "
                "SELECT 'history:' || g, o.cohort_id, o.round_id, o.member_id, o.chat_id, o.kind, "
                "'{}', o.priority, 'sent', 1, o.not_before, o.created_at, 0, o.created_at "
                "FROM (SELECT * FROM outbox ORDER BY id LIMIT 1) o, "
                f"generate_series(1, {SENT_HISTORY}) g"
            )
        )
        await s.execute(text("ANALYZE outbox"))


def _scans(plan: list[str]) -> list[str]:
    """The plan's lines that touch a table or an index."""
    keep = ("Scan", "Update on", "Insert on", "Delete on", "Conflict")
    return [line.strip() for line in plan if any(k in line for k in keep)]


async def explain_hot_queries(url: str) -> dict[str, list[str]]:
    """Each hot query's statements as the repositories send them, with their plans' scans; the
    outbox holds `SENT_HISTORY` sent rows next to the round's."""
    from storage.db import Database

    db = Database(url)
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many and not statement.lstrip().upper().startswith("EXPLAIN"):
            captured.append((statement, params))

    out: dict[str, list[str]] = {}
    try:
        ids = await _sample_ids(db)
        await _add_sent_history(db)
        event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
        for name, action in _actions(ids).items():
            captured.clear()
            async with db.sessions() as s:
                await action(s)
                statements = list(captured)
                conn = await s.connection()
                lines: list[str] = []
                for statement, params in statements:
                    if not statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE",
                                                                  "INSERT", "DELETE")):  # fmt: skip
                        continue
                    plan = await conn.exec_driver_sql("EXPLAIN " + statement, params)
                    rows = [r[0] for r in plan]
                    lines.append(f"[{' '.join(statement.split())[:90]}…]")
                    lines += [f"    {line}" for line in _scans(rows)]
                out[name] = lines
                await s.rollback()
    finally:
        await db.dispose()
    return out


def _year_rows(table: str, rows: int, students: int, weeks: int) -> int:
    """Rows a school year of 50,000 students adds (or holds, for the tables that do not grow
    with the weeks), from what the benchmark's data holds."""
    per_student = NATIONAL_STUDENTS / students
    per_student_week = rows / (students * weeks) if students else 0
    if table in ("answers", "participations"):
        return round(per_student_week * WEEKS_PER_YEAR * NATIONAL_STUDENTS)
    if table == "rounds":
        cohorts = students / 25
        # 4 kinds a week (expectations, reflection, reminder, digest); the data has 2
        return round(4 * WEEKS_PER_YEAR * NATIONAL_COHORTS) if cohorts else 0
    if table == "prompts":
        # one per question asked: as many as answers, plus one per expectations message
        return 0  # filled in from answers below
    if table == "outbox":
        return OUTBOX_PER_STUDENT_WEEK * WEEKS_PER_YEAR * NATIONAL_STUDENTS
    return round(rows * per_student)


async def sizes_per_year(url: str, students: int, weeks: int) -> dict[str, Any]:
    """Rows and bytes per table (pg_total_relation_size: table, indexes and TOAST) and the
    estimate for one school year of 50,000 students. Measured after VACUUM FULL: the bytes a
    row takes at rest. A table whose rows are updated (the outbox: pending, sending, sent)
    holds dead versions until autovacuum, so live it is larger (see docs/deploy.md)."""
    import asyncpg

    from bench._common import _pg_dsn

    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        await conn.execute("VACUUM FULL ANALYZE")
        names = [
            r[0]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ]
        tables: dict[str, dict[str, Any]] = {}
        for name in names:
            rows = int(await conn.fetchval(f'SELECT count(*) FROM "{name}"'))
            size = int(await conn.fetchval(f"SELECT pg_total_relation_size('\"{name}\"')"))
            tables[name] = {"rows": rows, "mb": round(size / 2**20, 1),
                            "bytes_per_row": round(size / rows) if rows else None}  # fmt: skip
    finally:
        await conn.close()
    total = 0.0
    for name, t in tables.items():
        t["year_rows"] = _year_rows(name, t["rows"], students, weeks)
        if name == "prompts":
            t["year_rows"] = tables.get("answers", {}).get("year_rows", 0) + round(
                WEEKS_PER_YEAR * NATIONAL_STUDENTS
            )
        t["year_mb"] = round((t["bytes_per_row"] or 0) * t["year_rows"] / 2**20, 1)
        total += t["year_mb"]
    return {"tables": tables, "year_total_mb": round(total)}

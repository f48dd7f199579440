"""Shared helpers of the benchmarks: the JSON line, percentiles, PostgreSQL scratch databases,
and bulk generation of cohorts, students, rounds and answers straight into the tables."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get(
    "MENTORBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 9, 4, 12, 0, tzinfo=UTC)  # Friday of week 1 (reflection time)
_NAIVE_START = START.replace(tzinfo=None)  # rows carry naive UTC (as stored)
COHORT_START = date(2026, 9, 1)


def emit(name: str, **figures: Any) -> None:
    """The benchmark's final line: one JSON object."""
    print(json.dumps({"bench": name, **figures}, sort_keys=False), flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f}/{five:.2f} on {os.cpu_count()} cores"


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def postgres_available() -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL), timeout=3)
    except Exception:
        return False
    await conn.close()
    return True


async def create_pg_database() -> str:
    import asyncpg

    name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# -- bulk data -------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "cohorts": (
        "id", "name", "timezone", "start_date", "expectations_at", "reflection_at",
        "reminder_at", "digest_at", "plan_yaml", "plan_version", "gap_settings",
        "group_chat_id", "schedule_version", "created_at",
    ),
    "members": (
        "id", "cohort_id", "role", "name", "organisation", "telegram_user_id", "chat_id",
        "status", "consent_at", "consent_version", "joined_at", "created_at",
    ),
    "user_settings": ("telegram_user_id", "language", "updated_at"),
    "rounds": (
        "id", "cohort_id", "week", "kind", "status", "due_at", "closes_at", "closed_at",
        "created_at",
    ),
    "participations": (
        "id", "round_id", "member_id", "started_at", "completed_at", "reminded_at",
    ),
    "answers": (
        "id", "round_id", "member_id", "question_key", "kind", "skill", "rating", "choice",
        "text", "skipped", "answered_at", "updated_at",
    ),
    "supervisions": ("id", "cohort_id", "werkbegeleider_id", "student_id", "linked_at", "ended_at"),
    "observations": (
        "id", "round_id", "werkbegeleider_id", "student_id", "skill", "level", "text",
        "answered_at", "updated_at",
    ),
}  # fmt: skip
USER_ID_BASE = 10_000_000  # telegram user id (= private chat id) = base + member id
WORDS = (
    "Ik las voor aan een groepje peuters en liet ze zelf de bladzijden omslaan.",
    "Een ouder vroeg naar het slaapritme; ik heb het overlegd met mijn begeleider.",
    "Bij het buitenspelen viel een kind; ik troostte en vulde het ongevallenformulier in.",
    "Ik heb een knutselactiviteit voorbereid, maar de tijd was te kort.",
)


@dataclass
class Generated:
    """What was written: counts per table and the ids the benchmark needs."""

    counts: dict[str, int] = field(default_factory=dict)
    cohort_ids: list[int] = field(default_factory=list)
    students: dict[int, list[int]] = field(default_factory=dict)  # cohort -> member ids
    open_round: dict[int, int] = field(default_factory=dict)  # cohort -> open reflection id
    pending: dict[int, list[int]] = field(default_factory=dict)  # cohort -> not yet completed
    next_ids: dict[str, int] = field(default_factory=dict)
    # the workplace's view (bench/gap_workplace.py): cohort -> open observation round id,
    # student -> werkbegeleider id
    open_observation: dict[int, int] = field(default_factory=dict)
    supervisor: dict[int, int] = field(default_factory=dict)


@dataclass
class Shape:
    cohorts: int = 400
    students: int = 25
    weeks: int = 40  # reflection rounds per cohort; the last one is open
    answered_in_open: float = 0.5  # share of the class that completed the open round
    mentors: int = 2
    seed: int = 7


def _profiles(rng: random.Random, shape: Shape, skills: list[str]) -> dict[str, Any]:
    weak_class_skill = rng.choice(skills) if rng.random() < 0.1 else None
    return {"weak_class_skill": weak_class_skill}


Rows = dict[str, list[tuple[Any, ...]]]


def generate(shape: Shape) -> tuple[Generated, Rows]:
    """Rows for every table (as generators, in insertion order) and what they contain.

    The class: ratings mostly 3-4 with noise; one student in 20 with a weak skill, one in 30
    gone silent for the last rounds, one in 30 declining after week 25, one cohort in 10 with a
    skill the whole class rates low; about 92 % answer a round. Week `weeks` is open."""
    from bot.plans import default_plan

    plan = default_plan()
    weeks = {w: plan.week(w) for w in range(1, shape.weeks + 1)}
    skills = sorted({q.skill for wk in weeks.values() for q in wk.questions if q.skill})
    rng = random.Random(shape.seed)
    gen = Generated()
    ids = {"members": 0, "rounds": 0, "participations": 0, "answers": 0}
    cohorts: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    users: list[tuple[Any, ...]] = []
    rounds: list[tuple[Any, ...]] = []
    plan_for_cohort: dict[int, list[tuple[int, int, int, list[int]]]] = {}
    for c in range(1, shape.cohorts + 1):
        gen.cohort_ids.append(c)
        cohorts.append(
            (c, f"K{c:04d}", "Europe/Amsterdam", COHORT_START, "mon 08:00", "fri 14:00",
             "sun 18:00", "mon 07:00", None, 0, "{}", None, 0, _NAIVE_START)
        )  # fmt: skip
        studs = []
        for i in range(shape.students + shape.mentors):
            ids["members"] += 1
            mid = ids["members"]
            role = "student" if i < shape.students else "mentor"
            uid = USER_ID_BASE + mid
            members.append(
                (mid, c, role, f"{'Student' if role == 'student' else 'Mentor'} {c}-{i:02d}",
                 None, uid, uid, "active", _NAIVE_START, "bench", _NAIVE_START, _NAIVE_START)
            )  # fmt: skip
            users.append((uid, "nl", _NAIVE_START))
            if role == "student":
                studs.append(mid)
        gen.students[c] = studs
        entries = []
        for w in range(1, shape.weeks + 1):
            due = _NAIVE_START + timedelta(weeks=w - 1)
            for kind in ("expectations", "reflection"):
                ids["rounds"] += 1
                is_open = w == shape.weeks
                closed = None if is_open else due + timedelta(days=7)
                rounds.append(
                    (ids["rounds"], c, w, kind, "open" if is_open else "closed",
                     due, None, closed, due)
                )  # fmt: skip
                if kind == "reflection":
                    entries.append((w, ids["rounds"], int(is_open), studs))
                    if is_open:
                        gen.open_round[c] = ids["rounds"]
        plan_for_cohort[c] = entries

    participations: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    for c, entries in plan_for_cohort.items():
        prof = _profiles(rng, shape, skills)
        studs = gen.students[c]
        kinds = {}
        for sid in studs:
            roll = rng.random()
            kinds[sid] = (
                "weak" if roll < 0.05 else
                "silent" if roll < 0.083 else
                "decline" if roll < 0.116 else
                "normal"
            )  # fmt: skip
        level = {sid: rng.gauss(3.5, 0.35) for sid in studs}
        weak_skill = {sid: rng.choice(skills) for sid in studs}
        done_in_open = set(rng.sample(studs, int(len(studs) * shape.answered_in_open)))
        gen.pending[c] = [s for s in studs if s not in done_in_open]
        for week, round_id, is_open, _ in entries:
            due = _NAIVE_START + timedelta(weeks=week - 1)
            wk = weeks[week]
            for sid in studs:
                ids["participations"] += 1
                pid = ids["participations"]
                if is_open:
                    answering = sid in done_in_open
                elif kinds[sid] == "silent" and week > shape.weeks - 4:
                    answering = False
                else:
                    answering = rng.random() < 0.92
                if not answering:
                    participations.append((pid, round_id, sid, None, None, None))
                    continue
                at = due + timedelta(minutes=rng.randint(1, 600))
                participations.append((pid, round_id, sid, at, at + timedelta(minutes=3), None))
                for q in wk.questions:
                    rating = choice = text = None
                    skill = q.skill
                    if q.kind == "rating":
                        mean = level[sid]
                        if kinds[sid] == "weak" and q.skill == weak_skill[sid]:
                            mean = 1.9
                        if kinds[sid] == "decline" and week > 25:
                            mean -= 1.2
                        if q.skill == prof["weak_class_skill"]:
                            mean -= 1.0
                        rating = max(1, min(5, round(rng.gauss(mean, 0.8))))
                    elif q.kind == "choice":
                        options = [o.value for o in q.options]
                        if q.help:
                            if q.optional and rng.random() < 0.5:
                                continue
                            choice = options[-1] if rng.random() < 0.8 else rng.choice(options)
                        else:
                            choice = rng.choice(options)
                    else:
                        if q.optional and rng.random() < 0.7:
                            continue
                        text = rng.choice(WORDS)
                    ids["answers"] += 1
                    answers.append(
                        (ids["answers"], round_id, sid, q.key, q.kind, skill, rating, choice,
                         text, False, at, at)
                    )  # fmt: skip
    gen.counts = {
        "cohorts": len(cohorts),
        "members": len(members),
        "user_settings": len(users),
        "rounds": len(rounds),
        "participations": len(participations),
        "answers": len(answers),
    }
    gen.next_ids = {k: v + 1 for k, v in ids.items()}
    tables = {
        "cohorts": cohorts,
        "members": members,
        "user_settings": users,
        "rounds": rounds,
        "participations": participations,
        "answers": answers,
    }
    return gen, tables


def write_sqlite(path: str, tables: Rows) -> None:
    """Insert the rows with the sqlite3 module in one transaction (the schema must exist).
    Datetimes are written as SQLAlchemy writes them ("YYYY-MM-DD HH:MM:SS.ffffff")."""
    memo: dict[Any, Any] = {}

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            text = memo.get(v)
            if text is None:
                text = memo[v] = v.strftime("%Y-%m-%d %H:%M:%S.%f")
            return text
        if isinstance(v, date):
            return v.isoformat()
        return v

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        with conn:
            for table, rows in tables.items():
                cols = COLUMNS[table]
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                )
                stamps = [i for i, c in enumerate(cols) if c.endswith(("_at", "_date"))]
                if not stamps:
                    conn.executemany(sql, rows)
                    continue

                def converted(
                    rows: list[tuple[Any, ...]] = rows, stamps: list[int] = stamps
                ) -> Iterator[list[Any]]:
                    for row in rows:
                        out = list(row)
                        for i in stamps:
                            out[i] = value(out[i])
                        yield out

                conn.executemany(sql, converted())
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def write_postgres(url: str, tables: Rows) -> None:
    """COPY the rows in (the schema must exist) and move the id sequences past them."""
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        for table, rows in tables.items():
            cols = COLUMNS[table]
            await conn.copy_records_to_table(table, records=rows, columns=list(cols))
            if "id" in cols:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()

"""The national benchmark's data: its constants, the template databases (written once with
COPY) and the copies each run works on."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from typing import Any

from bench._common import (
    POSTGRES_ADMIN_URL,
    Shape,
    _pg_dsn,
    generate,
    write_postgres,
)

LIMIT = 30.0  # Telegram's rate for one bot, messages/s
INSTANCES = 3
TARGET_RATIO = 0.95
TARGET_TAP_P95 = 1.0  # seconds from a tap to the next question (docs/benchmarks.md §1b)
TARGET_MB = 150.0
MB = 1024 * 1024
FIRST_USER = 700_000_001  # the sandbox's first user id: students are given these chat ids in order
# cohorts start in 2030, so the instances' schedulers (real clock) find nothing due; the bench
# owns the clock: Monday of plan week 5, 08:00 in Amsterdam
COHORT_START = date(2030, 9, 2)
MONDAY_0800 = datetime(2030, 9, 30, 6, 0, tzinfo=UTC)
WEEK = 5
SECRET = "National_S3cret"


# A tag in the databases' names (the branch's, say) keeps two engineers' runs apart.
TAG = os.environ.get("MENTORBOT_BENCH_TAG", "")


def template_name(students: int) -> str:
    return f"mentorbot_bench_national_{students}" + (f"_{TAG}" if TAG else "")


def url_of(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def remap(tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """Students get the sandbox's user ids in order (so a slice's users can be made in the
    sandbox), mentors ids no sandbox user has; cohorts start in 2030."""
    new_uid: dict[int, int] = {}
    students = mentors = 0
    members = []
    for row in tables["members"]:
        if row[2] == "student":
            uid = FIRST_USER + students
            students += 1
        else:
            uid = 800_000_001 + mentors
            mentors += 1
        new_uid[row[5]] = uid
        members.append((*row[:5], uid, uid, *row[7:]))
    tables["members"] = members
    tables["user_settings"] = [(new_uid[r[0]], *r[1:]) for r in tables["user_settings"]]
    tables["cohorts"] = [(*r[:3], COHORT_START, *r[4:]) for r in tables["cohorts"]]


async def ensure_template(students: int, weeks: int, fresh: bool) -> str:
    """The template database of `students` students, built once (or again with --fresh)."""
    from storage import migrate

    name = template_name(students)
    exists = await admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and not fresh:
        return name
    if exists:
        await admin(f'ALTER DATABASE "{name}" WITH is_template false')
        await admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    started = time.monotonic()
    await admin(f'CREATE DATABASE "{name}"')
    await migrate.upgrade(url_of(name))
    gen, tables = generate(Shape(cohorts=students // 25, students=25, weeks=weeks))
    remap(tables)
    await write_postgres(url_of(name), tables)
    await admin(f'ALTER DATABASE "{name}" WITH is_template true')
    print(f"template {name} written in {time.monotonic() - started:.0f} s: {gen.counts}",
          flush=True)  # fmt: skip
    return name


async def copy_of(template: str) -> str:
    name = f"{template}_run"
    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return url_of(name)

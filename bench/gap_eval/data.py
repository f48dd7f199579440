"""The benchmark's data, written once and kept: a SQLite file and a PostgreSQL template database
per shape, with what was generated beside them."""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
from datetime import timedelta
from pathlib import Path

from bench._common import (
    POSTGRES_ADMIN_URL,
    START,
    Generated,
    Shape,
    Timer,
    generate,
    write_postgres,
    write_sqlite,
)
from bench.gap_workplace import add_workplace

CACHE_DIR = Path(tempfile.gettempdir()) / "mentorbot-bench"


def _cache_name(shape: Shape) -> str:
    # "_wp": with the workplace's observations (bench/gap_workplace.py); "_al": with the
    # standing alerts raised and the statistics taken after them (`_raise_standing`)
    return f"gap_{shape.cohorts}x{shape.students}x{shape.weeks}_s{shape.seed}_wp_al"


def _meta_path(shape: Shape) -> Path:
    return CACHE_DIR / f"{_cache_name(shape)}.json"


def _save_meta(shape: Shape, gen: Generated) -> None:
    meta = {
        "counts": gen.counts,
        "cohort_ids": gen.cohort_ids,
        "open_round": {str(k): v for k, v in gen.open_round.items()},
        "pending": {str(k): v for k, v in gen.pending.items()},
        "open_observation": {str(k): v for k, v in gen.open_observation.items()},
        "supervisor": {str(k): v for k, v in gen.supervisor.items()},
    }
    _meta_path(shape).write_text(json.dumps(meta))


def _load_meta(shape: Shape) -> Generated | None:
    path = _meta_path(shape)
    if not path.exists():
        return None
    meta = json.loads(path.read_text())
    gen = Generated(counts=meta["counts"], cohort_ids=meta["cohort_ids"])
    gen.open_round = {int(k): v for k, v in meta["open_round"].items()}
    gen.pending = {int(k): v for k, v in meta["pending"].items()}
    gen.open_observation = {int(k): v for k, v in meta["open_observation"].items()}
    gen.supervisor = {int(k): v for k, v in meta["supervisor"].items()}
    return gen


async def _raise_standing(url: str, gen: Generated, shape: Shape) -> None:
    """The alerts the year's answers stand for, raised as the running bot's checks would have
    raised them week by week (with their messages in the outbox), then the statistics taken.
    A school year in, `alerts` and `outbox` hold rows and the server's autovacuum has analyzed
    them; written without them, PostgreSQL's plans for the check's statement read all of
    `alerts` while the run filled it, and re-planned after each analysis of a table that
    grew from nothing (docs/benchmarks.md §3, twelfth step)."""
    from sqlalchemy import text

    from bot.loop.followup import check_alerts
    from storage.db import Database

    db = Database(url)
    try:
        now = START + timedelta(weeks=shape.weeks - 1, hours=3)  # as the run's checks
        for cohort_id in gen.cohort_ids:
            await check_alerts(db, cohort_id, now)
        async with db.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    finally:
        await db.dispose()


async def _pg_exists(name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def prepare(
    backends: list[str], shape: Shape, fresh: bool
) -> tuple[Generated, dict[str, str]]:
    """The written data, once: a SQLite file and a PostgreSQL template database kept under
    CACHE_DIR / by name, so that a second run copies them instead of writing 2.5 million rows
    again (--fresh rebuilds them). Returns what was generated and each backend's template."""
    from storage import migrate

    CACHE_DIR.mkdir(exist_ok=True)
    name = _cache_name(shape)
    sqlite_path = CACHE_DIR / f"{name}.db"
    pg_template = f"mentorbot_bench_{name}"
    pg_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_template}"
    gen = None if fresh else _load_meta(shape)
    need_sqlite = "sqlite" in backends and (fresh or gen is None or not sqlite_path.exists())
    need_pg = "postgres" in backends and (fresh or gen is None or not await _pg_exists(pg_template))
    if need_sqlite or need_pg:
        with Timer() as gen_t:
            gen, tables = generate(shape)
            add_workplace(gen, tables, shape)
        print(f"generated {gen.counts} in {gen_t.seconds:.1f}s", flush=True)
        if need_sqlite:
            sqlite_path.unlink(missing_ok=True)
            await migrate.upgrade(f"sqlite+aiosqlite:///{sqlite_path}")
            with Timer() as t:
                await asyncio.to_thread(write_sqlite, str(sqlite_path), tables)
                await _raise_standing(f"sqlite+aiosqlite:///{sqlite_path}", gen, shape)
            print(f"[sqlite] written in {t.seconds:.1f}s (kept as {sqlite_path})", flush=True)
        if need_pg:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_template}" WITH (FORCE)')
            await pg_admin(f'CREATE DATABASE "{pg_template}"')
            await migrate.upgrade(pg_url)
            with Timer() as t:
                await write_postgres(pg_url, tables)
                await _raise_standing(pg_url, gen, shape)
            print(f"[postgres] written in {t.seconds:.1f}s (kept as database {pg_template})",
                  flush=True)  # fmt: skip
        _save_meta(shape, gen)
        del tables  # 2.5 million row tuples: not on the heap while timing
    else:
        print(f"using the data written before ({sqlite_path}, database {pg_template}); "
              "--fresh writes it again", flush=True)  # fmt: skip
    assert gen is not None
    gc.collect()
    gc.freeze()  # what is left is the benchmark's own: keep it out of the collector's way
    return gen, {"sqlite": str(sqlite_path), "postgres": pg_template}

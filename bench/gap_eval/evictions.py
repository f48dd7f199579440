"""`python -m bench.gap_eval.evictions`: many cohorts through the gap cache (32 entries), as a
long-running bot sees them: per cohort its first check, then two students complete the open
week, each followed by the check (SQLite, the gap benchmark's data). Every 20 cohorts: RSS,
frozen and tracked objects, and the full collections so far. `--no-freeze` for the cache as
it was (`GapCache.settle` not freezing), to compare."""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench._common import START, Shape, emit, load_average
from bench.gap_eval.data import prepare
from bench.gap_eval.steps import complete_one, evaluate


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=160)
    parser.add_argument("--no-freeze", action="store_true")
    args = parser.parse_args()
    from bot.gaps.cache import GapCache
    from storage import migrate
    from storage.db import Database

    shape = Shape(cohorts=400, students=25, weeks=40)
    print(f"gap cache evictions: {args.cohorts} cohorts; load {load_average()}", flush=True)
    gen, templates = await prepare(["sqlite"], shape, False)
    tmp = tempfile.TemporaryDirectory(prefix="bench-evict-")
    path = Path(tmp.name) / "gap.db"
    shutil.copyfile(templates["sqlite"], path)
    url = f"sqlite+aiosqlite:///{path}"
    await migrate.upgrade(url)
    db = Database(url)
    cache = GapCache(freeze=not args.no_freeze)
    now = START + timedelta(weeks=shape.weeks - 1, hours=3)
    pending = {c: list(v) for c, v in gen.pending.items()}
    cohorts = [c for c in gen.cohort_ids if len(pending[c]) >= 2][: args.cohorts]
    full: list[float] = []
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                full.append(time.perf_counter() - started[0])

    gc.callbacks.append(timed)
    rows = []
    try:
        for i, c in enumerate(cohorts, 1):
            await evaluate(db, c, now, cache)
            for _ in range(2):
                student = pending[c].pop()
                observed = (gen.open_observation[c], gen.supervisor[student])
                await complete_one(db, gen.open_round[c], student, shape.weeks, observed)
                await evaluate(db, c, now, cache)
            if i % 20 == 0 or i == len(cohorts):
                row = {
                    "cohorts": i,
                    "rss_mb": round(rss_mb(), 1),
                    "frozen": gc.get_freeze_count(),
                    "tracked": len(gc.get_objects()),
                    "full_n": len(full),
                    "full_total_ms": round(sum(full) * 1000),
                    "full_max_ms": round(max(full, default=0) * 1000, 1),
                }
                rows.append(row)
                print("  ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    finally:
        gc.callbacks.remove(timed)
        await db.dispose()
        tmp.cleanup()
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    hidden = gc.collect()  # what the freezes kept from the collector: cycles that died since
    print(f"at the end: {frozen} objects frozen; unfrozen, a full collection frees {hidden}")
    emit("gap_evictions", freeze=not args.no_freeze, rows=rows, garbage_hidden=hidden)


if __name__ == "__main__":
    asyncio.run(main())

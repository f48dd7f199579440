"""Memory: peak RSS of a running mentorbot process with 10,000 enrolled students, after a
round for one cohort, against a bare python-telegram-bot Application in the same run.

`mentorbot run` (a subprocess, long polling, SQLite) and a bare PTB Application
(bench/_bare_bot.py, a second token) poll one sandbox. The database holds 400 cohorts × 25
students with 4 weeks of reflections (written straight into the tables). One cohort gets a
reflection round (`mentorbot push`), its 25 students answer every question through the sandbox
(each completion runs the alert check), and the bare app gets the same number of updates.
Peak = the kernel's high-water mark (VmHWM); the current RSS is sampled every 0.1 s.
Target: mentorbot peak < 150 MB.

    .venv/bin/python -m bench.memory [--cohorts 400] [--weeks 4]
"""

# ruff: noqa: ASYNC109, ASYNC220, ASYNC221, ASYNC230  (a driver script: blocking calls are fine)

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench._common import ROOT, Shape, emit, generate, load_average, write_sqlite
from bench.ingest import BARE_TOKEN, DONE, mentor_student

TARGET_MB = 150.0
MB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """VmHWM (bytes): the most resident memory the process ever had."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler:
    def __init__(self, procs: dict[str, psutil.Process]) -> None:
        self.procs = procs
        self.max = dict.fromkeys(procs, 0)
        self.last = dict.fromkeys(procs, 0)
        self.hwm = dict.fromkeys(procs, 0)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, proc in self.procs.items():
            try:
                rss = proc.memory_info().rss
                self.hwm[name] = max(self.hwm[name], peak_rss(proc.pid))
            except (psutil.Error, OSError):
                continue
            self.last[name] = rss
            self.max[name] = max(self.max[name], rss)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.1)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.sample()
        if self._task is not None:
            self._task.cancel()


def clean_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORBOT_", "TELEGRAM_", "DATABASE_URL"))
    }
    env.update(values)
    env["PYTHONPATH"] = str(ROOT)
    return env


async def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def main() -> None:
    from storage import migrate
    from tgsandbox import SandboxServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=400)
    parser.add_argument("--weeks", type=int, default=4)
    args = parser.parse_args()
    shape = Shape(cohorts=args.cohorts, weeks=args.weeks)
    print(f"memory: {shape.cohorts * shape.students:,} students in {shape.cohorts} cohorts, "
          f"{shape.weeks} weeks of answers; load {load_average()}", flush=True)  # fmt: skip
    tmp = tempfile.TemporaryDirectory(prefix="bench-memory-")
    path = Path(tmp.name) / "memory.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate.upgrade(url)
    gen, tables = generate(shape)
    write_sqlite(str(path), tables)
    print(f"database: {gen.counts}", flush=True)
    venv = Path(sys.executable).parent
    procs: dict[str, subprocess.Popen[bytes]] = {}
    async with SandboxServer() as api:
        api.add_bot(BARE_TOKEN, username="bare_bot", first_name="Bare")
        # the one cohort that gets a round talks to sandbox users
        cohort = gen.cohort_ids[0]
        users = [api.add_user(f"S{i:02d}") for i in range(shape.students)]
        bare_users = [api.add_user(f"B{i:02d}") for i in range(shape.students)]
        with sqlite3.connect(path) as conn:
            for member_id, user in zip(gen.students[cohort], users, strict=True):
                conn.execute(
                    "UPDATE members SET telegram_user_id = ?, chat_id = ? WHERE id = ?",
                    (user.id, user.id, member_id),
                )
        env = clean_env(
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            DATABASE_URL=url,
            MENTORBOT_LOG_LEVEL="WARNING",
        )
        log_path = Path(tmp.name) / "mentorbot.log"
        with open(log_path, "wb") as log:
            procs["mentorbot"] = subprocess.Popen(
                [str(venv / "mentorbot"), "run"], cwd=tmp.name, env=env, stdout=log, stderr=log
            )
            procs["bare_ptb"] = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "_bare_bot.py"), BARE_TOKEN, api.base_url],
                cwd=tmp.name, env=clean_env(), stdout=log, stderr=log,
            )  # fmt: skip
            sampler = Sampler({name: psutil.Process(p.pid) for name, p in procs.items()})
            sampler.start()
            try:
                polls = api.stats.calls
                await wait_for(
                    lambda: any(r.method == "getUpdates" and r.token == api.token
                                for r in api.requests[-50:]),
                    90, "mentorbot polling",
                )  # fmt: skip
                started = dict(sampler.last)
                print(f"started: mentorbot {started['mentorbot'] / MB:.1f} MB, bare "
                      f"{started['bare_ptb'] / MB:.1f} MB", flush=True)  # fmt: skip
                week = shape.weeks + 1
                marks = {u.id: api.mark(u) for u in users}
                push = subprocess.run(
                    [str(venv / "mentorbot"), "push", f"K{cohort:04d}", "reflection",
                     "--week", str(week)],
                    cwd=tmp.name, env=env, capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                print(f"push: {push.stdout.strip() or push.stderr.strip()}", flush=True)
                firsts = [
                    await api.wait_for_message(
                        u,
                        lambda m: f"reflectie van week {week}" in (m.text or ""),
                        since=marks[u.id],
                        timeout=60,
                    )
                    for u in users
                ]
                answered = await asyncio.gather(
                    *(mentor_student(api, u, f) for u, f in zip(users, firsts, strict=True))
                )
                done = sum(1 for u in users if any(DONE in (m.text or "") for m in api.messages(u)))
                # the bare app: the same number of updates
                for user in bare_users:
                    for _ in range(answered[0]):
                        mark = api.mark(user, token=BARE_TOKEN)
                        await api.send_text(user, "antwoord", token=BARE_TOKEN)
                        await api.wait_for_message(user, since=mark, token=BARE_TOKEN, timeout=30)
                await asyncio.sleep(2)
                await sampler.stop()
            finally:
                for p in procs.values():
                    p.terminate()
                for p in procs.values():
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
        del polls
    tmp.cleanup()
    rows = {
        name: {
            "started_mb": round(started[name] / MB, 1),
            "end_mb": round(sampler.last[name] / MB, 1),
            "max_sampled_mb": round(sampler.max[name] / MB, 1),
            "peak_mb": round(sampler.hwm[name] / MB, 1),
        }
        for name in procs
    }
    ratio = rows["mentorbot"]["peak_mb"] / rows["bare_ptb"]["peak_mb"]
    print()
    print(
        f"{'process':10} {'after start':>12} {'at end':>9} {'max sampled':>12} {'peak (HWM)':>11}"
    )
    for name, r in rows.items():
        print(f"{name:10} {r['started_mb']:12.1f} {r['end_mb']:9.1f} {r['max_sampled_mb']:12.1f} "
              f"{r['peak_mb']:11.1f}")  # fmt: skip
    met = rows["mentorbot"]["peak_mb"] < TARGET_MB
    print(f"answers {sum(answered)}, completed {done}/{len(users)}; mentorbot/bare peak "
          f"{ratio:.2f}; target < {TARGET_MB:.0f} MB: {'met' if met else 'MISSED'}")  # fmt: skip
    emit(
        "memory",
        students=shape.cohorts * shape.students,
        weeks=shape.weeks,
        answers=sum(answered),
        completed=done,
        mentorbot_peak_mb=rows["mentorbot"]["peak_mb"],
        bare_peak_mb=rows["bare_ptb"]["peak_mb"],
        ratio=round(ratio, 2),
        target_mb=TARGET_MB,
        met=met,
        processes=rows,
    )


if __name__ == "__main__":
    asyncio.run(main())

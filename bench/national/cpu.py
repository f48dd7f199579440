"""CPU per message sent, by process: the figure a 2-core machine's rate is bounded by.

Over a window of the round's sending, the CPU time (user + system) of each instance, of the
driver (the sandbox, i.e. the fake Telegram, and the taps, in one event loop), of the
PostgreSQL backends serving the run's database, and of PostgreSQL's shared processes (WAL
writer, checkpointer: shared with anyone else using the server), each divided by the messages
the sandbox accepted in that window. Load-independent where the wall clock is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

_POSTGRES_AUX = ("checkpointer", "background writer", "walwriter", "autovacuum")


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


def _postgres(database: str) -> dict[str, float]:
    """CPU seconds so far of the backends of `database` and of PostgreSQL's shared processes."""
    backends = aux = 0.0
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if not line.startswith("postgres:"):
            continue
        if f" {database} " in f"{line} ":
            backends += _cpu(process)
        elif any(name in line for name in _POSTGRES_AUX):
            aux += _cpu(process)
    return {"postgres": backends, "postgres_shared": aux}


@dataclass
class CpuMeter:
    """Snapshots of each process's CPU seconds; `per_message` between the first and the last."""

    instances: dict[str, int]  # name → pid
    database: str
    snapshots: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def snapshot(self) -> None:
        cpu = {name: _cpu(psutil.Process(pid)) for name, pid in self.instances.items()}
        cpu["driver"] = _cpu(psutil.Process(os.getpid()))
        self.snapshots.append((time.monotonic(), cpu | _postgres(self.database)))

    async def sample(self, stop: asyncio.Event, every: float = 0.5) -> None:
        """A snapshot now and every `every` seconds until `stop`."""
        while True:
            self.snapshot()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return

    def per_message(self, sends: list[float]) -> dict[str, Any]:
        """CPU ms per message accepted by the sandbox from the first snapshot to the last one
        before the last send (`sends`: the sandbox's send times, sorted); the instances also
        summed as `instances`, everything as `all`."""
        start, before = self.snapshots[0]
        last = sends[-1] if sends else start
        end, after = next(
            ((t, cpu) for t, cpu in reversed(self.snapshots) if t <= last), self.snapshots[-1]
        )
        messages = sum(1 for t in sends if start <= t <= end)
        used = {name: after[name] - before[name] for name in after}
        used["instances"] = sum(used[name] for name in self.instances)
        used["all"] = sum(v for k, v in used.items() if k not in ("instances",))
        per = {k: round(1000 * v / max(1, messages), 3) for k, v in used.items()}
        return {
            "cpu_window_s": round(end - start, 2),
            "cpu_window_messages": messages,
            "cpu_window_msgs_per_s": round(messages / max(1e-9, end - start), 1),
            "cpu_s": {k: round(v, 2) for k, v in used.items()},
            "cpu_ms_per_msg": per,
        }

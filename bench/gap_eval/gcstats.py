"""The garbage collector's pauses during a run (`gc.callbacks`): the full collections' count,
total and longest, and the time collections took inside the timed warm checks."""

from __future__ import annotations

import gc
import time
from typing import Any


class GcPauses:
    """Times every collection from `install` to `close`; `begin_warm`/`end_warm` go around
    a timed warm check so that its collections are counted for it."""

    def __init__(self) -> None:
        self.full: list[float] = []  # seconds of each gen-2 collection
        self.in_warm: list[float] = []  # per warm check: seconds of collections inside it
        self.warm = False
        self._started = 0.0

    def install(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def close(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def begin_warm(self) -> None:
        self.warm = True
        self.in_warm.append(0.0)

    def end_warm(self) -> None:
        self.warm = False

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        if info["generation"] == 2:
            self.full.append(took)
        if self.warm:
            self.in_warm[-1] += took

    def summary(self) -> dict[str, float | int]:
        full, warm = sorted(self.full), sorted(self.in_warm)
        return {
            "full_n": len(full),
            "full_total_ms": round(sum(full) * 1000, 1),
            "full_p50_ms": round(full[len(full) // 2] * 1000, 2) if full else 0.0,
            "full_max_ms": round(full[-1] * 1000, 2) if full else 0.0,
            "warm_checks_with_gc": sum(1 for x in warm if x > 0),
            "warm_gc_p99_ms": round(warm[int(0.99 * (len(warm) - 1))] * 1000, 2) if warm else 0.0,
            "warm_gc_max_ms": round(warm[-1] * 1000, 2) if warm else 0.0,
        }

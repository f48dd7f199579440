"""The skills × weeks table a heatmap draws: plain data, no matplotlib (cheap to import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Matrix:
    """Mean rating per skill (rows) and week (columns); None where nobody rated it."""

    skills: list[str]  # titles
    weeks: list[int]
    values: list[list[float | None]]

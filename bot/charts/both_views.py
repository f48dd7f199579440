"""Both views per skill as PNG bytes: the class's mean self-rating (1–5) and the workplace's
mean observation (nooit … goed) over the weeks, one panel per skill, two colours."""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bot.charts.matrix import Matrix

SELF_COLOUR = "#2166ac"  # blue: the students' own rating
WORKPLACE_COLOUR = "#e08214"  # orange: the werkbegeleiders' observation
LEVELS = ("nooit", "oefenen", "voldoende", "goed")


def both_views_png(own: Matrix, workplace: Matrix, title: str) -> bytes:
    """`own` and `workplace` share skills (rows) and weeks (columns); None where nobody
    rated or observed. The workplace's axis is on the right, labelled with the scale."""
    count = max(1, len(own.skills))
    cols = 1 if count == 1 else 2
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.2 * rows + 1), dpi=100, squeeze=False)
    try:
        for index, skill in enumerate(own.skills):
            ax = axes[index // cols][index % cols]
            _panel(ax, skill, own.weeks, own.values[index], workplace.values[index])
        for index in range(count, rows * cols):
            axes[index // cols][index % cols].axis("off")
        fig.suptitle(title, fontsize=16)
        fig.legend(
            handles=[
                plt.Line2D([], [], color=SELF_COLOUR, marker="o", label="eigen inschatting (1–5)"),
                plt.Line2D([], [], color=WORKPLACE_COLOUR, marker="s", label="werkplek"),
            ],
            loc="lower center",
            ncol=2,
            fontsize=12,
        )
        fig.tight_layout(rect=(0, 0.06, 1, 0.95))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _panel(
    ax: plt.Axes,
    skill: str,
    weeks: list[int],
    own: list[float | None],
    workplace: list[float | None],
) -> None:
    ax.set_title(textwrap.shorten(skill, 50, placeholder="…"), fontsize=12)
    mine = [(w, v) for w, v in zip(weeks, own, strict=True) if v is not None]
    if mine:
        ax.plot(*zip(*mine, strict=True), color=SELF_COLOUR, marker="o", linewidth=2)
    ax.set_ylim(0.8, 5.2)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_xticks(weeks)
    ax.set_xlim(min(weeks) - 0.5, max(weeks) + 0.5)  # every panel on the same weeks
    ax.tick_params(axis="y", colors=SELF_COLOUR)
    right = ax.twinx()
    seen = [(w, v) for w, v in zip(weeks, workplace, strict=True) if v is not None]
    if seen:
        right.plot(*zip(*seen, strict=True), color=WORKPLACE_COLOUR, marker="s", linewidth=2)
    right.set_ylim(-0.2, 3.2)
    right.set_yticks(range(4), LEVELS, fontsize=9)
    right.tick_params(axis="y", colors=WORKPLACE_COLOUR)

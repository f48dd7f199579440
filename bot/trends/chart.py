"""The observers' trend chart as PNG bytes: mean self-rating per skill over calendar weeks.

Imported on first use only (matplotlib is slow to load); Agg backend, no display needed.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bot.texts import t

if TYPE_CHECKING:
    from bot.trends.data import TrendsReport

# Ten colours that stay apart on a phone screen and for most colour-blind readers
# (Tableau 10), and markers so that lines differ without colour too.
_COLOURS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")


def trend_lines_png(report: TrendsReport, lang: str) -> bytes:
    """About 1000×700 px with large fonts; a week without a shown figure breaks the line."""
    weeks = list(report.weeks)
    position = {week: i for i, week in enumerate(weeks)}
    fig, ax = plt.subplots(figsize=(10, 7), dpi=100)
    try:
        for i, series in enumerate(report.series):
            ys: list[float | None] = [None] * len(weeks)
            for point in series.points:
                ys[position[point.week]] = point.mean
            ax.plot(
                range(len(weeks)),
                [float("nan") if y is None else y for y in ys],
                color=_COLOURS[i % len(_COLOURS)],
                marker=_MARKERS[i % len(_MARKERS)],
                markersize=9,
                linewidth=3,
                label=textwrap.shorten(series.skill, 30, placeholder="…"),
            )
        ax.set_xticks(range(len(weeks)), [str(w[1]) for w in weeks], fontsize=14)
        ax.set_xlim(-0.5, max(len(weeks) - 0.5, 0.5))
        ax.set_ylim(0.8, 5.2)
        ax.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=14)
        ax.grid(axis="y", alpha=0.35)
        ax.set_xlabel(t("observer.chart_x", lang), fontsize=15)
        ax.set_ylabel(t("observer.chart_y", lang), fontsize=15)
        ax.set_title(t("observer.chart_title", lang, min=report.min_group), fontsize=17, pad=12)
        if report.series:
            ax.legend(
                fontsize=12,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.13),
                ncol=2 if len(report.series) > 3 else 1,
                frameon=False,
            )
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()

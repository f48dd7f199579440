"""Charts as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

from bot.charts.matrix import Matrix

# red (1, low) → amber (3) → green (5, high); grey where nobody rated
_CMAP = LinearSegmentedColormap.from_list(
    "ratings", ["#d7301f", "#fdae61", "#fee08b", "#a6d96a", "#1a9850"]
).with_extremes(bad="#e0e0e0")


def heatmap_png(matrix: Matrix, title: str) -> bytes:
    """Skills × weeks mean self-rating, about 1000×700 px, large enough to read on a phone."""
    rows, cols = len(matrix.skills), len(matrix.weeks)
    data = np.array(
        [[np.nan if v is None else v for v in row] for row in matrix.values], dtype=float
    ).reshape(rows, cols)
    fig, ax = plt.subplots(figsize=(10, 7), dpi=100)
    try:
        image = ax.imshow(np.ma.masked_invalid(data), cmap=_CMAP, vmin=1, vmax=5, aspect="auto")
        ax.set_xticks(range(cols), [str(w) for w in matrix.weeks], fontsize=14)
        labels = [textwrap.fill(s, 22) for s in matrix.skills]
        ax.set_yticks(range(rows), labels, fontsize=13)
        ax.set_xlabel("Week", fontsize=15)
        ax.set_title(title, fontsize=17, pad=12)
        font = 15 if cols <= 8 else 12
        for i in range(rows):
            for j in range(cols):
                if not np.isnan(data[i, j]):
                    ax.text(j, i, f"{data[i, j]:.1f}".replace(".", ","), ha="center",
                            va="center", fontsize=font, color="black")  # fmt: skip
        bar = fig.colorbar(image, ax=ax, ticks=[1, 2, 3, 4, 5], fraction=0.04, pad=0.02)
        bar.ax.tick_params(labelsize=13)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()

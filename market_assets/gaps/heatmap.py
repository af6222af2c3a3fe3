"""A coverage heatmap (date × venue) as a PNG, from gap report series."""

import io
from collections.abc import Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory

from matplotlib import pyplot as plt
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from market_assets.gaps.report import (
    CHECKS_FAILED,
    FAILED,
    IN_PROGRESS,
    MATERIALIZED,
    MISSING,
    Coverage,
)

# Best to worst; a (day, venue) cell shows the worst state among the assets.
ORDER = (MATERIALIZED, IN_PROGRESS, CHECKS_FAILED, MISSING, FAILED)
COLOURS = ("#2e7d32", "#1e88e5", "#f9a825", "#d7d7d7", "#c62828")


def worst_states(
    coverages: Sequence[Coverage], venues: Sequence[str], first: date, last: date
) -> list[list[int]]:
    """Per venue (rows) and day (columns), the index in ``ORDER`` of the worst state."""
    days = (last - first).days + 1
    grid = [[0] * days for _ in venues]
    row_of = {venue: n for n, venue in enumerate(venues)}
    for coverage in coverages:
        row = grid[row_of[coverage.venue]]
        for state, state_days in coverage.days.items():
            rank = ORDER.index(state)
            for day in state_days:
                column = (day - first).days
                row[column] = max(row[column], rank)
    return grid


def heatmap_png(
    coverages: Sequence[Coverage], venues: Sequence[str], first: date, last: date
) -> bytes:
    """The heatmap as PNG bytes: one row per venue, one column per UTC day."""
    grid = worst_states(coverages, venues, first, last)
    days = (last - first).days + 1
    figure, axes = plt.subplots(figsize=(min(4 + days * 0.12, 24), 1 + 0.4 * len(venues)))
    axes.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(COLOURS),
        vmin=0,
        vmax=len(ORDER) - 1,
    )
    axes.set_yticks(range(len(venues)), venues)
    step = max(1, days // 12)
    axes.set_xticks(
        range(0, days, step),
        [str(first + timedelta(days=d)) for d in range(0, days, step)],
        rotation=45,
        ha="right",
        fontsize=8,
    )
    axes.legend(
        handles=[
            Patch(color=c, label=s.replace("_", " ")) for s, c in zip(ORDER, COLOURS, strict=True)
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
    )
    axes.set_title(f"coverage {first} to {last} (worst state over the ingested assets)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()

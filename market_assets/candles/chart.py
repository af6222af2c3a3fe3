"""A candlestick chart of one instrument's day, as PNG bytes.

Drawn with matplotlib's object API (no pyplot, no global figure state), each series as
one collection of rectangles rather than an artist per candle, and matplotlib imported
only when a chart is drawn: every command that loads the definitions would pay for it.
"""

import io

import numpy as np
import pyarrow as pa

UP, DOWN = "#2e7d32", "#c62828"
BODY_WIDTH = 0.7  # of the spacing between candles


def _rectangles(x: np.ndarray, bottom: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Corners (n, 4, 2) of rectangles ``BODY_WIDTH`` wide centred on ``x``."""
    left, right = x - BODY_WIDTH / 2, x + BODY_WIDTH / 2
    return np.stack(
        [
            np.column_stack([left, bottom]),
            np.column_stack([right, bottom]),
            np.column_stack([right, top]),
            np.column_stack([left, top]),
        ],
        axis=1,
    )


def candlestick_png(bars: pa.Table, title: str) -> bytes:
    """Candles (open/high/low/close by ``timestamp``) over volume bars; empty bars are gaps."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    frame = bars.select(["timestamp", "open", "high", "low", "close", "volume"]).to_pandas()
    o, h, low, c = (frame[name].to_numpy(dtype=float) for name in ("open", "high", "low", "close"))
    volume = frame["volume"].fillna(0).to_numpy(dtype=float)
    traded = ~np.isnan(o)
    x = np.arange(len(frame), dtype=float)
    with np.errstate(invalid="ignore"):
        colours = np.where(c >= o, UP, DOWN)
    figure = Figure(figsize=(10, 5), dpi=90)
    prices, volumes = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    wicks = np.stack(
        [np.column_stack([x[traded], low[traded]]), np.column_stack([x[traded], h[traded]])],
        axis=1,
    )
    prices.add_collection(LineCollection(wicks, colors=colours[traded], linewidths=1))
    body_low = np.minimum(o, c)[traded]
    body_high = body_low + np.maximum(np.abs(c - o)[traded], 1e-12)
    prices.add_collection(
        PolyCollection(
            _rectangles(x[traded], body_low, body_high), facecolors=colours[traded], linewidths=0
        )
    )
    if traded.any():
        span = np.nanmax(h) - np.nanmin(low)
        margin = 0.05 * span if span > 0 else 0.5 * abs(np.nanmax(h)) or 1.0
        prices.set_ylim(np.nanmin(low) - margin, np.nanmax(h) + margin)
    prices.set_xlim(-1, max(len(frame), 1))
    prices.set_title(title)
    prices.grid(alpha=0.3)
    volumes.add_collection(
        PolyCollection(
            _rectangles(x, np.zeros_like(volume), volume), facecolors=colours, linewidths=0
        )
    )
    volumes.set_ylim(0, max(float(volume.max(initial=0.0)), 1e-12) * 1.05)
    volumes.set_ylabel("volume")
    ticks = np.linspace(0, len(frame) - 1, min(len(frame), 7)).astype(int)
    volumes.set_xticks(ticks, [frame["timestamp"][t].strftime("%H:%M") for t in ticks])
    volumes.set_xlabel("UTC")
    figure.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.1, hspace=0.08)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

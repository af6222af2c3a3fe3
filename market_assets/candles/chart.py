"""A candlestick chart of one instrument's day, as PNG bytes."""

import io

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory

import numpy as np
import pyarrow as pa
from matplotlib import pyplot as plt

UP, DOWN = "#2e7d32", "#c62828"


def candlestick_png(bars: pa.Table, title: str) -> bytes:
    """Candles (open/high/low/close by ``timestamp``) over volume bars; empty bars are gaps."""
    frame = bars.select(["timestamp", "open", "high", "low", "close", "volume"]).to_pandas()
    traded = frame["open"].notna().to_numpy()
    x = np.arange(len(frame))
    rising = (frame["close"] >= frame["open"]).to_numpy()
    colours = np.where(rising, UP, DOWN)
    figure, (prices, volumes) = plt.subplots(
        2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, dpi=90
    )
    prices.vlines(x[traded], frame["low"][traded], frame["high"][traded], colors=colours[traded])
    body_low = np.minimum(frame["open"], frame["close"])[traded]
    body = np.maximum(np.abs(frame["close"] - frame["open"])[traded], 1e-12)
    prices.bar(x[traded], body, 0.7, body_low, color=colours[traded])
    prices.set_title(title)
    prices.grid(alpha=0.3)
    volumes.bar(x, frame["volume"].fillna(0), 0.7, color=colours)
    volumes.set_ylabel("volume")
    ticks = np.linspace(0, len(frame) - 1, min(len(frame), 7)).astype(int)
    volumes.set_xticks(ticks, [frame["timestamp"][t].strftime("%H:%M") for t in ticks])
    volumes.set_xlabel("UTC")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()

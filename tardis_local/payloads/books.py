"""Order book columns: quotes/book_ticker, book_snapshot_N and incremental_book_L2 updates."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from tardis_local.chunks import Chunk
from tardis_local.market import BASIS, Instrument, amounts, prices, trend

_OPENING_LEVELS = 25


def _best_levels(chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Best bid and ask in ticks: the spread is at least one tick and usually exactly one."""
    mid_ticks = chunk.mid / chunk.instrument.tick
    spread = chunk.rng.geometric(0.7, chunk.n)
    bid = np.maximum(np.floor(mid_ticks - spread / 2), 1)
    return bid, bid + spread


def quotes(chunk: Chunk) -> dict[str, pa.Array]:
    """Best ask/bid amount and price of `chunk`'s rows (quotes and book_ticker alike)."""
    bid, ask = _best_levels(chunk)
    return {
        "ask_amount": pa.array(amounts(chunk.rng, chunk.instrument, chunk.mid, scale=3)),
        "ask_price": pa.array(prices(ask, chunk.instrument)),
        "bid_price": pa.array(prices(bid, chunk.instrument)),
        "bid_amount": pa.array(amounts(chunk.rng, chunk.instrument, chunk.mid, scale=3)),
    }


def book_snapshot(chunk: Chunk, levels: int) -> dict[str, pa.Array]:
    """asks[i]/bids[i] price and amount for i < `levels`; a thin side leaves cells empty."""
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    best_bid, best_ask = _best_levels(chunk)
    ask_gaps = rng.geometric(0.6, (n, levels))
    bid_gaps = rng.geometric(0.6, (n, levels))
    ask_gaps[:, 0] = 0
    bid_gaps[:, 0] = 0
    asks = best_ask[:, None] + np.cumsum(ask_gaps, axis=1)
    bids = best_bid[:, None] - np.cumsum(bid_gaps, axis=1)
    # A thin side (fewer levels than asked for) leaves empty cells, as Tardis writes them.
    thin = rng.random(n) < 0.03
    thin_side = rng.random(n) < 0.5
    depth = rng.integers(1, levels, n)
    level_index = np.arange(levels)[None, :]
    ask_missing = (thin & thin_side)[:, None] & (level_index >= depth[:, None])
    bid_missing = ((thin & ~thin_side)[:, None] & (level_index >= depth[:, None])) | (bids < 1)
    columns: dict[str, pa.Array] = {}
    for level in range(levels):
        ask_amount = amounts(rng, chunk.instrument, chunk.mid, scale=4)
        bid_amount = amounts(rng, chunk.instrument, chunk.mid, scale=4)
        columns[f"asks[{level}].price"] = pa.array(
            prices(asks[:, level], instrument), mask=ask_missing[:, level]
        )
        columns[f"asks[{level}].amount"] = pa.array(ask_amount, mask=ask_missing[:, level])
        columns[f"bids[{level}].price"] = pa.array(
            prices(bids[:, level], instrument), mask=bid_missing[:, level]
        )
        columns[f"bids[{level}].amount"] = pa.array(bid_amount, mask=bid_missing[:, level])
    return columns


def incremental_book(chunk: Chunk) -> dict[str, pa.Array]:
    """is_snapshot (false), side, price, amount of level updates; amount 0 deletes a level."""
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    side = (rng.random(n) < 0.5).astype(np.int8)  # 0 bid, 1 ask
    depth = rng.geometric(0.3, n) - 1
    mid_ticks = chunk.mid / instrument.tick
    ticks = np.where(
        side == 1, np.ceil(mid_ticks) + depth, np.maximum(np.floor(mid_ticks) - depth, 1)
    )
    amount = np.where(rng.random(n) < 0.15, 0.0, amounts(rng, chunk.instrument, chunk.mid, scale=4))
    return {
        "is_snapshot": pa.array(np.zeros(n, dtype=bool)),
        "side": pa.array(["bid", "ask"]).take(pa.array(side)),
        "price": pa.array(prices(ticks, instrument)),
        "amount": pa.array(amount),
    }


def opening_snapshot(instrument: Instrument, at_us: int, rng: np.random.Generator) -> pa.Table:
    """The full book Tardis writes first in each incremental_book_L2 day (is_snapshot=true).

    `at_us` (µs since the epoch, UTC) stamps every row; the table carries the full
    incremental_book_L2 header plus a `_key` sort column that puts it before same-µs rows.
    """
    levels = _OPENING_LEVELS
    mid_ticks = (
        float(trend(instrument.base, np.array([at_us]))[0])
        * BASIS[instrument.kind]
        / instrument.tick
    )
    asks = math.ceil(mid_ticks) + np.cumsum(rng.geometric(0.6, levels)) - 1
    bids = np.maximum(math.floor(mid_ticks) - np.cumsum(rng.geometric(0.6, levels)) + 1, 1)
    mids = np.full(levels, mid_ticks * instrument.tick)
    sizes = np.concatenate(
        [amounts(rng, instrument, mids, scale=4), amounts(rng, instrument, mids, scale=4)]
    )
    rows = 2 * levels
    stamps = np.full(rows, at_us, dtype=np.int64)
    return pa.table(
        {
            "exchange": pa.repeat(instrument.exchange, rows),
            "symbol": pa.repeat(instrument.symbol, rows),
            "timestamp": stamps,
            "local_timestamp": stamps,
            "is_snapshot": np.ones(rows, dtype=bool),
            "side": pa.array(["ask"] * levels + ["bid"] * levels),
            "price": prices(np.concatenate([asks, bids]).astype(np.float64), instrument),
            "amount": sizes,
            "_key": stamps * 2,  # ties with other rows at the same µs: the snapshot comes first
        }
    )

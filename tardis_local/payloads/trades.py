"""trades and liquidations columns: ids as each venue writes them, sides, prices and amounts."""

from __future__ import annotations

import binascii
import hashlib
from datetime import date

import numpy as np
import pyarrow as pa

from tardis_local.chunks import Chunk
from tardis_local.market import amounts, prices

_ID_EPOCH = date(2019, 1, 1)
# Sequential trade ids leave this much room per day so they keep rising across days.
_IDS_PER_DAY = 200_000_000
_UNKNOWN_SIDE_SHARE = {"okex": 0.005}


def _side(codes: np.ndarray) -> pa.Array:
    return pa.array(["buy", "sell", "unknown"]).take(pa.array(codes.astype(np.int8)))


def _trade_ids(chunk: Chunk, numeric: bool, uuid: bool) -> pa.Array:
    if uuid:
        # Random version-4 UUIDs, formatted in bulk: hex digits laid into a (rows, 36) byte grid.
        digits = np.frombuffer(
            binascii.hexlify(chunk.rng.bytes(16 * chunk.n)), dtype=np.uint8
        ).reshape(-1, 32)
        grid = np.full((chunk.n, 36), ord("-"), dtype=np.uint8)
        for target, source in ((0, 0), (9, 8), (14, 12), (19, 16), (24, 20)):
            width = {0: 8, 24: 12}.get(target, 4)
            grid[:, target : target + width] = digits[:, source : source + width]
        grid[:, 14] = ord("4")
        grid[:, 19] = ord("a")
        return pa.array(grid.view("S36").ravel(), pa.binary(36)).cast(pa.string())
    if not numeric:
        return pa.nulls(chunk.n, pa.string())
    base = (
        1_000_000
        + int.from_bytes(hashlib.sha256(chunk.instrument.symbol.encode()).digest()[:3], "big") * 100
    )
    first = base + (chunk.gen_day - _ID_EPOCH).days * _IDS_PER_DAY + chunk.first_row_ordinal
    return pa.array(np.arange(first, first + chunk.n, dtype=np.int64)).cast(pa.string())


def trades(chunk: Chunk) -> dict[str, pa.Array]:
    """id, side, price, amount of `chunk`'s trades; a burst sweeps the book from the mid."""
    rng, instrument = chunk.rng, chunk.instrument
    groups = int(chunk.group[-1]) + 1
    group_side = (rng.random(groups) < 0.5).astype(np.int8)  # 0 buy, 1 sell
    unknown = rng.random(groups) < _UNKNOWN_SIDE_SHARE.get(instrument.exchange, 0.0)
    group_side[unknown] = 2
    side = group_side[chunk.group]
    # A burst is one taker order sweeping levels: each fill at the same or a worse price.
    sweep = np.cumsum((rng.random(chunk.n) < 0.4) & (chunk.position > 0))
    sweep -= sweep[chunk.group.searchsorted(chunk.group, side="left")]
    mid_ticks = chunk.mid / instrument.tick
    ticks = np.where(side == 1, np.floor(mid_ticks) - sweep, np.ceil(mid_ticks) + sweep)
    exchange = instrument.exchange
    return {
        "id": _trade_ids(
            chunk, numeric=exchange not in ("bybit", "bybit-spot"), uuid=exchange == "bybit"
        ),
        "side": _side(side),
        "price": pa.array(prices(np.maximum(ticks, 1), instrument)),
        "amount": pa.array(amounts(rng, chunk.instrument, chunk.mid)),
    }


def liquidations(chunk: Chunk) -> dict[str, pa.Array]:
    """id (Deribit only), side, price, amount of `chunk`'s forced orders, priced off the mid."""
    rng, instrument = chunk.rng, chunk.instrument
    side = (rng.random(chunk.n) < 0.5).astype(np.int8)
    # A liquidated short is bought back above the market; a long is sold below it.
    price = chunk.mid * np.where(
        side == 0, 1 + rng.uniform(0, 0.003, chunk.n), 1 - rng.uniform(0, 0.003, chunk.n)
    )
    return {
        "id": _trade_ids(chunk, numeric=instrument.exchange == "deribit", uuid=False),
        "side": _side(side),
        "price": pa.array(prices(np.maximum(np.round(price / instrument.tick), 1), instrument)),
        "amount": pa.array(amounts(rng, chunk.instrument, chunk.mid, scale=5)),
    }

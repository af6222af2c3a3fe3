"""Deterministic, realistic Tardis-style CSV.gz datasets, generated, never copied.

Model: every (exchange, data type, symbol) has one continuous event stream. An
exchange day is cut into chunks of at most `CHUNK_ROWS` rows, each seeded from a
SHA-256 of its coordinates, so any chunk can be rebuilt alone. Events get an exchange
`timestamp` inside their chunk and a receive `local_timestamp` a few milliseconds
later; the file of day D holds exactly the events whose local_timestamp falls in
[D, D+1) UTC, so it is built from the last chunk of exchange day D-1 (its late tail)
plus the chunks of day D, minus day D's own tail that belongs to D+1.

Prices follow a slow deterministic trend per base currency (shared across venues, as
arbitrage would keep them) plus a Brownian bridge inside each chunk, so the walk is
continuous across chunks and days.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import heapq
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tardis_local import catalog

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
CHUNK_ROWS = 500_000
_EPOCH = date(1970, 1, 1)
_ID_EPOCH = date(2019, 1, 1)
# Sequential trade ids leave this much room per day so they keep rising across days.
_IDS_PER_DAY = 200_000_000
_GZIP_LEVEL = 1


def _book_header(levels: int) -> tuple[str, ...]:
    columns: list[str] = []
    for level in range(levels):
        columns += [
            f"asks[{level}].price",
            f"asks[{level}].amount",
            f"bids[{level}].price",
            f"bids[{level}].amount",
        ]
    return tuple(columns)


_PREFIX = ("exchange", "symbol", "timestamp", "local_timestamp")
HEADERS: dict[str, tuple[str, ...]] = {
    "trades": (*_PREFIX, "id", "side", "price", "amount"),
    "book_snapshot_5": (*_PREFIX, *_book_header(5)),
    "book_snapshot_25": (*_PREFIX, *_book_header(25)),
    "quotes": (*_PREFIX, "ask_amount", "ask_price", "bid_price", "bid_amount"),
    "book_ticker": (*_PREFIX, "ask_amount", "ask_price", "bid_price", "bid_amount"),
    "derivative_ticker": (
        *_PREFIX,
        "funding_timestamp",
        "funding_rate",
        "predicted_funding_rate",
        "open_interest",
        "last_price",
        "index_price",
        "mark_price",
    ),
    "liquidations": (*_PREFIX, "id", "side", "price", "amount"),
    "options_chain": (
        *_PREFIX,
        "type",
        "strike_price",
        "expiration",
        "open_interest",
        "last_price",
        "bid_price",
        "bid_amount",
        "bid_iv",
        "ask_price",
        "ask_amount",
        "ask_iv",
        "mark_price",
        "mark_iv",
        "underlying_index",
        "underlying_price",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
    ),
    "incremental_book_L2": (*_PREFIX, "is_snapshot", "side", "price", "amount"),
}

# Rows per symbol and exchange day; for grouped symbols, per member instrument.
DEFAULT_ROWS_PER_DAY: dict[str, int] = {
    "trades": 2_000,
    "book_snapshot_5": 1_000,
    "book_snapshot_25": 1_000,
    "quotes": 2_000,
    "book_ticker": 2_000,
    "derivative_ticker": 500,
    "liquidations": 50,
    "options_chain": 50,
    "incremental_book_L2": 3_000,
}


@dataclass(frozen=True)
class _Profile:
    burst_share: float  # share of exchange messages that carry several rows at one timestamp
    midnight_groups: int  # messages forced into the last ms of a day, so they land in the next file


_PROFILES: dict[str, _Profile] = {
    "trades": _Profile(0.08, 3),
    "book_snapshot_5": _Profile(0.0, 1),
    "book_snapshot_25": _Profile(0.0, 1),
    "quotes": _Profile(0.0, 1),
    "book_ticker": _Profile(0.0, 1),
    "derivative_ticker": _Profile(0.0, 1),
    "liquidations": _Profile(0.05, 0),
    "options_chain": _Profile(0.0, 0),
    "incremental_book_L2": _Profile(0.3, 2),
}

_REFERENCE_PRICE: dict[str, float] = {
    "BTC": 42_000.0,
    "ETH": 2_300.0,
    "SOL": 100.0,
    "1000PEPE": 0.0012,
    "XRP": 0.55,
}
# Derivatives trade at a small premium to spot; dated futures more than perpetuals.
_BASIS: dict[str, float] = {"spot": 1.0, "perpetual": 1.0002, "future": 1.012, "option": 1.012}
_DAILY_VOLATILITY = 0.025
_UNKNOWN_SIDE_SHARE = {"okex": 0.005}

# Share of derivative_ticker rows carrying each field, per venue (0 = never provided).
_TICKER_PRESENCE: dict[str, dict[str, float]] = {
    "binance-futures": {
        "funding_timestamp": 1,
        "funding_rate": 1,
        "predicted_funding_rate": 0,
        "open_interest": 0.2,
        "last_price": 0.5,
        "index_price": 1,
        "mark_price": 1,
    },
    "bybit": {
        "funding_timestamp": 1,
        "funding_rate": 1,
        "predicted_funding_rate": 0.7,
        "open_interest": 0.6,
        "last_price": 0.7,
        "index_price": 0.7,
        "mark_price": 0.7,
    },
    "deribit": {
        "funding_timestamp": 0,
        "funding_rate": 1,
        "predicted_funding_rate": 0,
        "open_interest": 1,
        "last_price": 0.8,
        "index_price": 1,
        "mark_price": 1,
    },
    "okex-swap": {
        "funding_timestamp": 0.5,
        "funding_rate": 0.5,
        "predicted_funding_rate": 0.5,
        "open_interest": 0.3,
        "last_price": 0.5,
        "index_price": 0.5,
        "mark_price": 0.7,
    },
    "okex-futures": {
        "open_interest": 0.3,
        "last_price": 0.5,
        "index_price": 0.5,
        "mark_price": 0.7,
    },
}


def _rng(*parts: object) -> np.random.Generator:
    """A Generator seeded from a SHA-256 of `parts`: stable across processes, unlike hash()."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _decimals(increment: float | str) -> int:
    return max(0, -Decimal(str(increment)).normalize().as_tuple().exponent)  # type: ignore[operator]


def _day_us(day: date) -> int:
    return (day - _EPOCH).days * US_PER_DAY


@dataclass(frozen=True)
class _Instrument:
    """The numbers generation needs, as of one day (changes applied, strings coerced)."""

    exchange: str
    symbol: str
    kind: str
    base: str
    tick: float
    tick_decimals: int
    lot: float
    lot_decimals: int
    multiplier: float
    inverse: bool
    since_us: int
    until_us: int | None
    raw: dict[str, Any]

    @classmethod
    def load(cls, exchange: str, symbol: str, day: date) -> _Instrument:
        raw = catalog.instrument_as_of(exchange, symbol, day)
        since, until = catalog.availability(exchange, symbol)
        epoch = catalog.day_start(_EPOCH)
        return cls(
            exchange=exchange,
            symbol=raw["datasetId"],
            kind=raw["type"],
            base=raw["baseCurrency"],
            tick=float(raw["priceIncrement"]),
            tick_decimals=_decimals(raw["priceIncrement"]),
            lot=float(raw["amountIncrement"]),
            lot_decimals=_decimals(raw["amountIncrement"]),
            multiplier=float(raw.get("contractMultiplier", 1)),
            inverse=bool(raw.get("inverse", False)),
            since_us=(since - epoch) // timedelta(microseconds=1),
            until_us=None if until is None else (until - epoch) // timedelta(microseconds=1),
            raw=raw,
        )


def _trend(base: str, ts_us: np.ndarray) -> np.ndarray:
    """Deterministic slow USD price level of `base` at `ts_us` (a few % a day, ±20% in months)."""
    phases = _rng("trend", base).uniform(0, 2 * math.pi, 3)
    days = ts_us / US_PER_DAY
    wave = 0.03 * np.sin(2 * math.pi * days + phases[0])
    wave += 0.06 * np.sin(2 * math.pi * days / 7 + phases[1])
    wave += 0.12 * np.sin(2 * math.pi * days / 45 + phases[2])
    return _REFERENCE_PRICE[base] * np.exp(wave)


@dataclass
class _Chunk:
    """One chunk's event timing: rows grouped into exchange messages (bursts)."""

    rng: np.random.Generator
    instrument: _Instrument
    n: int
    group: np.ndarray  # message index of each row
    position: np.ndarray  # row's position inside its message
    ts: np.ndarray  # per row, µs
    local: np.ndarray  # per row, µs
    mid: np.ndarray  # per row, mid price in quote currency (USD-ish)
    first_row_ordinal: int  # rows of this exchange day before this chunk, for sequential ids
    gen_day: date


def _schedule(
    rng: np.random.Generator, n: int, start: int, end: int, day_end: int, profile: _Profile
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Message sizes, exchange timestamps and local timestamps (µs) for `n` rows in [start, end)."""
    sizes = np.where(rng.random(n) < profile.burst_share, 1 + rng.geometric(0.35, n), 1)
    cumulative = np.cumsum(sizes)
    groups = int(np.searchsorted(cumulative, n)) + 1
    sizes = sizes[:groups].copy()
    sizes[-1] -= cumulative[groups - 1] - n
    ts = np.sort(rng.integers(start, end, groups))
    latency = np.clip(np.round(rng.lognormal(math.log(3_000), 0.6, groups)), 500, 60_000).astype(
        np.int64
    )

    # A slow packet followed by a fast one: received in the other order, so after sorting by
    # local_timestamp the exchange timestamp steps back, as Tardis files show.
    chosen = rng.random(groups) < 0.01
    chosen[0] = False
    previous = chosen[:-1].copy()
    chosen[1:] &= ~previous
    later = np.flatnonzero(chosen)
    gap = rng.integers(100, 1_000, later.size)
    overtake = rng.integers(50, 500, later.size)
    ts[later] = np.minimum(ts[later - 1] + gap, end - 1)
    latency[later - 1] += gap + 2_000
    latency[later] = latency[later - 1] - (ts[later] - ts[later - 1]) - overtake

    # Messages sent just before midnight but received after it belong to the next day's file.
    tail = min(profile.midnight_groups, groups) if end == day_end else 0
    offsets = np.sort(rng.integers(300, 2_500, profile.midnight_groups))[::-1]
    tail_latency = 3_000 + rng.integers(0, 4_000, profile.midnight_groups)
    if tail:
        ts[-tail:] = end - offsets[-tail:]
        latency[-tail:] = tail_latency[-tail:]
    return sizes, ts, ts + latency


def _build_chunk(
    exchange: str,
    data_type: str,
    symbol: str,
    gen_day: date,
    index: int,
    count: int,
    rows_per_day: int,
) -> _Chunk | None:
    instrument = _Instrument.load(exchange, symbol, gen_day)
    n = rows_per_day // count + (1 if index < rows_per_day % count else 0)
    if n == 0:
        return None
    rng = _rng(
        exchange, data_type, instrument.symbol, gen_day.isoformat(), index, count, rows_per_day
    )
    day_us = _day_us(gen_day)
    span = US_PER_DAY // count
    start = day_us + index * span
    end = day_us + US_PER_DAY if index == count - 1 else start + span
    sizes, group_ts, group_local = _schedule(
        rng, n, start, end, day_us + US_PER_DAY, _PROFILES[data_type]
    )
    groups = sizes.size

    steps = rng.normal(0.0, _DAILY_VOLATILITY * math.sqrt(span / US_PER_DAY / groups), groups)
    walk = np.cumsum(steps)
    bridge = walk - np.linspace(0.0, 1.0, groups) * walk[-1]
    group_mid = _trend(instrument.base, group_ts) * _BASIS[instrument.kind] * np.exp(bridge)

    group = np.repeat(np.arange(groups), sizes)
    first_of_group = np.cumsum(sizes) - sizes
    return _Chunk(
        rng=rng,
        instrument=instrument,
        n=n,
        group=group,
        position=np.arange(n) - first_of_group[group],
        ts=group_ts[group],
        local=group_local[group],
        mid=group_mid[group],
        first_row_ordinal=index * (rows_per_day // count) + min(index, rows_per_day % count),
        gen_day=gen_day,
    )


def _prices(value: np.ndarray, instrument: _Instrument) -> np.ndarray:
    return np.round(value * instrument.tick, instrument.tick_decimals)


def _amounts(
    rng: np.random.Generator, instrument: _Instrument, mid: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """Order-sized amounts in exchange units (base, USD contracts or contracts), on the lot grid.

    `mid` (quote currency per base unit) sets how many rows and the base value per row.
    """
    size = mid.size
    notional = rng.lognormal(math.log(1_500 * scale), 1.3, size)  # USD
    if instrument.kind == "option":
        units = notional / 40_000 * (1 if instrument.base == "BTC" else 20)
    elif instrument.exchange.startswith("okex") and instrument.kind != "spot":
        if instrument.inverse:
            units = notional / instrument.multiplier
        else:
            units = notional / mid / instrument.multiplier
    elif instrument.inverse:
        units = notional
    else:
        units = notional / mid
    lots = np.maximum(np.round(units / instrument.lot), 1)
    return np.round(lots * instrument.lot, instrument.lot_decimals)


def _side(codes: np.ndarray) -> pa.Array:
    return pa.array(["buy", "sell", "unknown"]).take(pa.array(codes.astype(np.int8)))


def _trade_ids(chunk: _Chunk, numeric: bool, uuid: bool) -> pa.Array:
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


def _trades(chunk: _Chunk) -> dict[str, pa.Array]:
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
        "price": pa.array(_prices(np.maximum(ticks, 1), instrument)),
        "amount": pa.array(_amounts(rng, chunk.instrument, chunk.mid)),
    }


def _liquidations(chunk: _Chunk) -> dict[str, pa.Array]:
    rng, instrument = chunk.rng, chunk.instrument
    side = (rng.random(chunk.n) < 0.5).astype(np.int8)
    # A liquidated short is bought back above the market; a long is sold below it.
    price = chunk.mid * np.where(
        side == 0, 1 + rng.uniform(0, 0.003, chunk.n), 1 - rng.uniform(0, 0.003, chunk.n)
    )
    return {
        "id": _trade_ids(chunk, numeric=instrument.exchange == "deribit", uuid=False),
        "side": _side(side),
        "price": pa.array(_prices(np.maximum(np.round(price / instrument.tick), 1), instrument)),
        "amount": pa.array(_amounts(rng, chunk.instrument, chunk.mid, scale=5)),
    }


def _best_levels(chunk: _Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Best bid and ask in ticks: the spread is at least one tick and usually exactly one."""
    mid_ticks = chunk.mid / chunk.instrument.tick
    spread = chunk.rng.geometric(0.7, chunk.n)
    bid = np.maximum(np.floor(mid_ticks - spread / 2), 1)
    return bid, bid + spread


def _quotes(chunk: _Chunk) -> dict[str, pa.Array]:
    bid, ask = _best_levels(chunk)
    return {
        "ask_amount": pa.array(_amounts(chunk.rng, chunk.instrument, chunk.mid, scale=3)),
        "ask_price": pa.array(_prices(ask, chunk.instrument)),
        "bid_price": pa.array(_prices(bid, chunk.instrument)),
        "bid_amount": pa.array(_amounts(chunk.rng, chunk.instrument, chunk.mid, scale=3)),
    }


def _book_snapshot(chunk: _Chunk, levels: int) -> dict[str, pa.Array]:
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
        ask_amount = _amounts(rng, chunk.instrument, chunk.mid, scale=4)
        bid_amount = _amounts(rng, chunk.instrument, chunk.mid, scale=4)
        columns[f"asks[{level}].price"] = pa.array(
            _prices(asks[:, level], instrument), mask=ask_missing[:, level]
        )
        columns[f"asks[{level}].amount"] = pa.array(ask_amount, mask=ask_missing[:, level])
        columns[f"bids[{level}].price"] = pa.array(
            _prices(bids[:, level], instrument), mask=bid_missing[:, level]
        )
        columns[f"bids[{level}].amount"] = pa.array(bid_amount, mask=bid_missing[:, level])
    return columns


def _incremental_book(chunk: _Chunk) -> dict[str, pa.Array]:
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    side = (rng.random(n) < 0.5).astype(np.int8)  # 0 bid, 1 ask
    depth = rng.geometric(0.3, n) - 1
    mid_ticks = chunk.mid / instrument.tick
    ticks = np.where(
        side == 1, np.ceil(mid_ticks) + depth, np.maximum(np.floor(mid_ticks) - depth, 1)
    )
    amount = np.where(
        rng.random(n) < 0.15, 0.0, _amounts(rng, chunk.instrument, chunk.mid, scale=4)
    )
    return {
        "is_snapshot": pa.array(np.zeros(n, dtype=bool)),
        "side": pa.array(["bid", "ask"]).take(pa.array(side)),
        "price": pa.array(_prices(ticks, instrument)),
        "amount": pa.array(amount),
    }


def _book_start_snapshot(instrument: _Instrument, at_us: int, rng: np.random.Generator) -> pa.Table:
    """The full book Tardis writes first in each incremental_book_L2 day (is_snapshot=true)."""
    levels = 25
    mid_ticks = (
        float(_trend(instrument.base, np.array([at_us]))[0])
        * _BASIS[instrument.kind]
        / instrument.tick
    )
    asks = math.ceil(mid_ticks) + np.cumsum(rng.geometric(0.6, levels)) - 1
    bids = np.maximum(math.floor(mid_ticks) - np.cumsum(rng.geometric(0.6, levels)) + 1, 1)
    mids = np.full(levels, mid_ticks * instrument.tick)
    amounts = np.concatenate(
        [_amounts(rng, instrument, mids, scale=4), _amounts(rng, instrument, mids, scale=4)]
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
            "price": _prices(np.concatenate([asks, bids]).astype(np.float64), instrument),
            "amount": amounts,
            "_key": stamps * 2,  # ties with other rows at the same µs: the snapshot comes first
        }
    )


def _derivative_ticker(chunk: _Chunk) -> dict[str, pa.Array]:
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    presence = dict(_TICKER_PRESENCE.get(instrument.exchange, {}))
    if instrument.kind == "future":
        presence.update(funding_timestamp=0, funding_rate=0, predicted_funding_rate=0)
    eight_hours = 8 * 3600 * US_PER_SECOND
    index = chunk.mid / _BASIS[instrument.kind]
    if instrument.inverse:
        open_interest_units = 2e9 / (
            instrument.multiplier if instrument.exchange.startswith("okex") else 1
        )
    else:
        open_interest_units = (
            3e9
            / chunk.mid
            / (instrument.multiplier if instrument.exchange.startswith("okex") else 1)
        )
    values: dict[str, np.ndarray] = {
        "funding_timestamp": (chunk.ts // eight_hours + 1) * eight_hours,
        "funding_rate": np.round(0.0001 + rng.normal(0, 0.00004, n), 8),
        "predicted_funding_rate": np.round(0.0001 + rng.normal(0, 0.00005, n), 8),
        "open_interest": np.round(
            open_interest_units * (1 + rng.normal(0, 0.001, n)), instrument.lot_decimals
        ),
        "last_price": _prices(np.round(chunk.mid / instrument.tick), instrument),
        "index_price": np.round(index, instrument.tick_decimals + 2),
        "mark_price": np.round(
            chunk.mid * (1 + rng.normal(0, 0.0001, n)), instrument.tick_decimals + 2
        ),
    }
    columns: dict[str, pa.Array] = {}
    for name, value in values.items():
        missing = rng.random(n) >= presence.get(name, 0.0)
        columns[name] = pa.array(value, mask=missing)
    return columns


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7: plenty for synthetic greeks, no scipy.
    z = np.abs(x) / math.sqrt(2)
    t = 1 / (1 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1 - poly * np.exp(-z * z)
    return 0.5 * (1 + np.sign(x) * erf)


def _options_chain(chunk: _Chunk) -> dict[str, pa.Array]:
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    raw = instrument.raw
    strike = float(raw["strikePrice"])
    call = raw["optionType"] == "call"
    expiry_us = (catalog.parse_iso(raw["expiry"]) - catalog.day_start(_EPOCH)) // timedelta(
        microseconds=1
    )
    underlying = np.round(chunk.mid, 4 if instrument.base == "XRP" else 2)
    years = np.maximum(expiry_us - chunk.ts, 60 * US_PER_SECOND) / (365 * US_PER_DAY)
    moneyness = np.log(strike / underlying)
    mark_iv = np.round(55 + 60 * moneyness**2 + 8 * np.abs(moneyness) + rng.normal(0, 0.5, n), 2)
    sigma = mark_iv / 100
    root = np.sqrt(years)
    d1 = (-moneyness + 0.5 * sigma**2 * years) / (sigma * root)
    d2 = d1 - sigma * root
    density = np.exp(-0.5 * d1**2) / math.sqrt(2 * math.pi)
    if call:
        value = underlying * _normal_cdf(d1) - strike * _normal_cdf(d2)
        delta = _normal_cdf(d1)
        rho = strike * years * _normal_cdf(d2) / 100
    else:
        value = strike * _normal_cdf(-d2) - underlying * _normal_cdf(-d1)
        delta = _normal_cdf(d1) - 1
        rho = -strike * years * _normal_cdf(-d2) / 100
    gamma = density / (underlying * sigma * root)
    vega = underlying * density * root / 100  # per volatility point
    theta = -underlying * density * sigma / (2 * root) / 365  # per day
    # Coin-settled options are quoted in the coin; USDC ones in USDC.
    mark = value / underlying if instrument.inverse else value
    tick = instrument.tick
    mark = np.maximum(np.round(mark / tick), 1) * tick
    half_spread = np.maximum(np.round(mark * 0.03 / tick), 1) * tick
    no_bid = (rng.random(n) < 0.1) | (mark - half_spread < tick)
    no_last = rng.random(n) < 0.3
    decimals = instrument.tick_decimals
    type_name = "call" if call else "put"
    return {
        "type": pa.repeat(type_name, n),
        "strike_price": pa.array(np.full(n, strike)),
        "expiration": pa.array(np.full(n, expiry_us, dtype=np.int64)),
        "open_interest": pa.array(
            np.round(400 + 50 * np.sin(chunk.ts / US_PER_DAY) + rng.normal(0, 2, n), 1)
        ),
        "last_price": pa.array(
            np.round(mark + rng.integers(-2, 3, n) * tick, decimals).clip(tick), mask=no_last
        ),
        "bid_price": pa.array(np.round(mark - half_spread, decimals), mask=no_bid),
        "bid_amount": pa.array(_amounts(rng, chunk.instrument, chunk.mid, scale=20), mask=no_bid),
        "bid_iv": pa.array(np.round(mark_iv - rng.uniform(0.5, 3, n), 2), mask=no_bid),
        "ask_price": pa.array(np.round(mark + half_spread, decimals)),
        "ask_amount": pa.array(_amounts(rng, chunk.instrument, chunk.mid, scale=20)),
        "ask_iv": pa.array(np.round(mark_iv + rng.uniform(0.5, 3, n), 2)),
        "mark_price": pa.array(np.round(mark, decimals)),
        "mark_iv": pa.array(mark_iv),
        "underlying_index": pa.repeat(raw["underlyingIndex"], n),
        "underlying_price": pa.array(underlying),
        "delta": pa.array(np.round(delta, 5)),
        "gamma": pa.array(np.round(gamma, 5)),
        "vega": pa.array(np.round(vega, 5)),
        "theta": pa.array(np.round(theta, 5)),
        "rho": pa.array(np.round(rho, 5)),
    }


def _payload(data_type: str, chunk: _Chunk) -> dict[str, pa.Array]:
    if data_type == "trades":
        return _trades(chunk)
    if data_type == "liquidations":
        return _liquidations(chunk)
    if data_type in ("quotes", "book_ticker"):
        return _quotes(chunk)
    if data_type.startswith("book_snapshot_"):
        return _book_snapshot(chunk, int(data_type.rsplit("_", 1)[1]))
    if data_type == "derivative_ticker":
        return _derivative_ticker(chunk)
    if data_type == "options_chain":
        return _options_chain(chunk)
    return _incremental_book(chunk)


def _chunk_table(
    exchange: str,
    data_type: str,
    symbol: str,
    gen_day: date,
    index: int,
    count: int,
    rows_per_day: int,
) -> pa.Table | None:
    """One chunk's rows (plus a `_key` sort column), limited to the symbol's availability."""
    chunk = _build_chunk(exchange, data_type, symbol, gen_day, index, count, rows_per_day)
    if chunk is None:
        return None
    instrument = chunk.instrument
    columns: dict[str, Any] = {
        "exchange": pa.repeat(exchange, chunk.n),
        "symbol": pa.repeat(instrument.symbol, chunk.n),
        "timestamp": chunk.ts,
        "local_timestamp": chunk.local,
        **_payload(data_type, chunk),
        "_key": chunk.local * 2 + 1,
    }
    table = pa.table(columns)
    if data_type == "incremental_book_L2" and index == 0:
        opening = max(_day_us(gen_day), instrument.since_us)
        table = pa.concat_tables([_book_start_snapshot(instrument, opening, chunk.rng), table])
    stamps = table.column("timestamp").to_numpy()
    keep = stamps >= instrument.since_us
    if instrument.until_us is not None:
        keep &= stamps < instrument.until_us
    return table if keep.all() else table.filter(pa.array(keep))


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pa.array(np.argsort(table.column("_key").to_numpy(), kind="stable")))


def _member_tables(
    exchange: str, data_type: str, symbol: str, day: date, rows_per_day: int
) -> Iterator[tuple[int, pa.Table]]:
    """(window, sorted table with `_key`) of one instrument's rows received on `day`.

    Window `i` covers the same slice of receive time for every instrument generated with
    the same `rows_per_day`, so grouped files merge members window by window.
    """
    count = max(1, math.ceil(rows_per_day / CHUNK_ROWS))
    day_us = _day_us(day)
    pending: pa.Table | None = None
    previous_day = day - timedelta(days=1)
    sources = [(previous_day, count - 1)] + [(day, index) for index in range(count)]
    for gen_day, index in sources:
        table = _chunk_table(exchange, data_type, symbol, gen_day, index, count, rows_per_day)
        parts = [part for part in (pending, table) if part is not None and part.num_rows]
        if not parts:
            pending = None
            continue
        combined = _sorted(pa.concat_tables(parts))
        key = combined.column("_key").to_numpy()
        if gen_day < day:
            # Only the previous day's late tail (received after midnight) belongs to this file.
            pending = combined.slice(int(np.searchsorted(key, day_us * 2)))
            continue
        chunk_end = day_us + (
            US_PER_DAY if index == count - 1 else (index + 1) * (US_PER_DAY // count)
        )
        cut = int(np.searchsorted(key, chunk_end * 2))
        if cut:
            yield index, combined.slice(0, cut)
        pending = combined.slice(cut)
    # What is left was received after midnight: it is the next day's file.


def _file_tables(
    exchange: str, data_type: str, symbol: str, day: date, rows_per_day: int | None
) -> Iterator[pa.Table]:
    header = HEADERS[data_type]
    rows = DEFAULT_ROWS_PER_DAY[data_type] if rows_per_day is None else rows_per_day
    if symbol not in catalog.GROUPED_SYMBOLS:
        for _, table in _member_tables(exchange, data_type, symbol, day, rows):
            yield table.select(header)
        return
    # A grouped file is the union of its members' files, merged by local_timestamp one
    # receive-time window at a time, so memory holds one window of every member, not a day.
    members = [
        _member_tables(exchange, data_type, member["id"], day, rows)
        for member in catalog.grouped_members(exchange, symbol)
        if any(
            catalog.is_available(exchange, member["id"], d) for d in (day, day - timedelta(days=1))
        )
    ]
    windows: dict[int, list[pa.Table]] = {}
    for window, table in heapq.merge(*members, key=lambda item: item[0]):
        windows.setdefault(window, []).append(table)
        for done in [w for w in windows if w < window]:
            yield _sorted(pa.concat_tables(windows.pop(done))).select(header)
    for window in sorted(windows):
        yield _sorted(pa.concat_tables(windows.pop(window))).select(header)


def _check(exchange: str, data_type: str, symbol: str, day: date) -> None:
    if data_type not in HEADERS:
        raise ValueError(f"unknown data type {data_type!r}; known: {', '.join(HEADERS)}")
    published = catalog.symbol_data_types(exchange, symbol)  # raises for unknown exchange/symbol
    if data_type not in published:
        raise ValueError(
            f"{exchange} {symbol} has no {data_type} dataset; it has {', '.join(published)}"
        )
    if not catalog.is_available(exchange, symbol, day):
        raise ValueError(f"{exchange} {symbol} is not available on {day.isoformat()}")


def _write_gzip(
    sink: BinaryIO,
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    rows_per_day: int | None,
    empty: bool,
) -> None:
    # mtime=0 and no file name in the gzip header: same arguments, same bytes.
    with gzip.GzipFile(
        filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=sink, mtime=0
    ) as archive:
        if empty:
            return
        archive.write((",".join(HEADERS[data_type]) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        for table in _file_tables(exchange, data_type, symbol, day, rows_per_day):
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(table, buffer, options)
            archive.write(buffer.getvalue())


def write_dataset(
    path: str | Path,
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    *,
    rows_per_day: int | None = None,
    empty: bool = False,
) -> None:
    """Write the Tardis CSV.gz of (exchange, data_type, symbol, UTC day) to `path`.

    `symbol` is a Tardis dataset id (e.g. "BTCUSDT", "OPTIONS"). Rows hold the events
    whose local_timestamp (µs since epoch, UTC) falls on `day`, ordered by it.
    `rows_per_day` sets the events per exchange day (per member for grouped symbols);
    `empty=True` writes an empty gzip, Tardis' way of saying "no data that day".
    Raises ValueError for an unknown exchange, symbol or data type, or a day outside
    the symbol's availability.
    """
    _check(exchange, data_type, symbol, day)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as sink:
        _write_gzip(sink, exchange, data_type, symbol, day, rows_per_day, empty)


def dataset_bytes(
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    *,
    rows_per_day: int | None = None,
    empty: bool = False,
) -> bytes:
    """The gzip bytes `write_dataset` would write for the same arguments."""
    _check(exchange, data_type, symbol, day)
    sink = io.BytesIO()
    _write_gzip(sink, exchange, data_type, symbol, day, rows_per_day, empty)
    return sink.getvalue()

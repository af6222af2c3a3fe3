"""Candles checked against an independent, plain-pandas reference.

The reference below reimplements the written semantics (market_assets/candles/bars.py and
options.py docstrings, ARCHITECTURE.md "Candles") bar by bar with pandas group-bys and
as-of joins, without the project's numpy helpers, on small synthetic days that contain
the awkward cases: late trades in the next day's file, rows of the day's file stamped the
day before, exchange timestamps out of order within a file, equal timestamps, empty bars,
instruments without book or ticker data, a book with missing levels and a time before its
first snapshot, ticker rows with null fields, and an options chain whose chosen expiry
changes during the day.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_assets.candles.bars import CANDLE_SCHEMA, in_source_order
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.options import CHAIN_COLUMNS, option_grids
from market_assets.tardis_csv import LAYOUTS
from partitions import TIMEFRAMES

US = 1_000_000
MS = 1_000
MINUTE = 60 * US
HOUR = 3_600 * US
DAY_US = 86_400 * US
D = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * US
END = D + DAY_US
LEVELS = 5
FLOAT_RTOL = 1e-9
# The time-weighted columns are integrated over the whole day by the implementation; a
# mean close to zero (imbalance) may then differ from the direct per-bar sum by ~1e-12.
TW_ATOL = 1e-10

BTC = "BINANCE-FUTURES:PERPETUAL:BTC-USDT"
ETH = "BINANCE-FUTURES:PERPETUAL:ETH-USDT"
SOL = "BINANCE:SPOT_PAIR:SOL-USDT"
INSTRUMENTS = (BTC, ETH, SOL)
OPTION_BASE = {BTC: "BTC", ETH: "ETH", SOL: None}

TRADE_COLUMNS = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "vwap",
    "trade_count",
    "buy_volume",
    "sell_volume",
    "unknown_volume",
    "buy_count",
    "sell_count",
    "unknown_count",
    "mean_trade_size",
    "max_trade_size",
    "delay_min_ms",
    "delay_median_ms",
    "delay_mean_ms",
    "delay_max_ms",
    "timestamp_out",
]
LIQUIDATION_COLUMNS = [
    "liquidation_buy_volume",
    "liquidation_buy_count",
    "liquidation_sell_volume",
    "liquidation_sell_count",
]
TICKER_COLUMNS = [
    "funding_rate",
    "predicted_funding_rate",
    "mark_price",
    "index_price",
    "open_interest",
    "open_interest_change",
    "basis",
]
BOOK_COLUMNS = [
    "best_bid",
    "best_ask",
    "mid",
    "spread_bps",
    "microprice",
    "bid_depth_5",
    "ask_depth_5",
    "imbalance_5",
    "spread_bps_tw",
    "imbalance_5_tw",
]
OPTION_COLUMNS = ["option_expiry", "atm_iv", "risk_reversal_25d", "put_call_iv_ratio_25d"]


# --------------------------------------------------------------------------------------
# Synthetic Tardis files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Files:
    """One data type of one instrument: the day's file and the next day's, as parsed."""

    today: pa.Table
    next_day: pa.Table

    @property
    def source_order(self) -> pa.Table:
        return in_source_order([self.today, self.next_day])


def _arrow_table(layout: str, rows: dict[str, np.ndarray], key: str, symbol: str) -> pa.Table:
    """Rows (columns of numpy arrays, NaN = empty cell) as a table of the lake's schema."""
    schema = LAYOUTS[layout].schema
    size = len(rows["timestamp"])
    arrays = []
    for field in schema:
        if field.name == "instrument_key":
            values = rows.get("instrument_key", np.full(size, key, dtype=object))
        elif field.name == "symbol":
            values = rows.get("symbol", np.full(size, symbol, dtype=object))
        else:
            values = rows.get(field.name)
        if values is None:
            arrays.append(pa.nulls(size, field.type))
        elif pa.types.is_timestamp(field.type):
            arrays.append(pa.array(np.asarray(values, np.int64), pa.int64()).cast(field.type))
        elif pa.types.is_dictionary(field.type):
            arrays.append(pa.array(list(values), pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(values, field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _files(layout: str, rows: dict[str, np.ndarray], key: str, symbol: str = "X") -> Files:
    """Rows cut into the day's and the next day's file by receive time, each file in
    receive-time order (Tardis cuts and orders files by ``local_timestamp``)."""
    local = rows["local_timestamp"]
    assert local.min() >= D, "a row received before the day would be in the previous file"
    order = np.argsort(local, kind="stable")
    rows = {name: values[order] for name, values in rows.items()}
    local = rows["local_timestamp"]
    today = {name: values[local < END] for name, values in rows.items()}
    following = {name: values[local >= END] for name, values in rows.items()}
    return Files(
        _arrow_table(layout, today, key, symbol), _arrow_table(layout, following, key, symbol)
    )


def _delays(rng: np.random.Generator, size: int, mean_ms: float) -> np.ndarray:
    return rng.exponential(mean_ms * MS, size).astype(np.int64) + 1


def _trade_rows(
    rng: np.random.Generator,
    *,
    clusters: int,
    per_cluster: int,
    base: float,
    silent: tuple[int, int] | None,
    sides: tuple[str, ...] = ("buy", "sell", "unknown"),
    side_p: tuple[float, ...] = (0.47, 0.47, 0.06),
) -> dict[str, np.ndarray]:
    """Trades in bursts (so exchange times interleave once ordered by receive time),
    plus the day-boundary and tie cases."""
    centers = rng.integers(0, DAY_US, clusters)
    ts = np.repeat(centers, per_cluster) + rng.normal(0, 1.5 * US, clusters * per_cluster).astype(
        np.int64
    )
    ts = ts // MS * MS  # millisecond stamps
    # One aggressor filling several makers: consecutive trades of a burst share a stamp.
    fills = np.flatnonzero(rng.random(ts.size) < 0.1)
    fills = fills[fills % per_cluster != 0]
    ts[fills] = ts[fills - 1]
    ts = ts[(ts >= 0) & (ts < DAY_US - 5 * US)]
    if silent:
        ts = ts[(ts < silent[0]) | (ts >= silent[1])]
    delay = _delays(rng, ts.size, 150)
    # A few receive times before the exchange's (clock skew), away from midnight.
    skew = (rng.random(ts.size) < 0.02) & (ts > MINUTE)
    delay[skew] = -rng.integers(0, 3 * MS, skew.sum())
    local = ts + delay

    extra_ts, extra_local = [], []

    def add(stamps, received):
        extra_ts.append(np.asarray(stamps, np.int64))
        extra_local.append(np.asarray(received, np.int64))

    # Equal timestamps whose receive order (= source order) is not their price order.
    burst = np.full(12, 12 * HOUR)
    add(burst, burst + rng.permutation(12) * 7 * MS + 1)
    # On a bar edge and just before it.
    add(np.full(3, 5 * HOUR), 5 * HOUR + np.arange(3) * MS + 5)
    add(np.full(3, 5 * HOUR - 1), 5 * HOUR + np.arange(3) * MS + 2)
    # The day's file starts with trades stamped the day before.
    pre = -rng.integers(1, 5 * US, 25)
    add(pre, rng.integers(0, 2 * US, 25))
    # Trades of the day received after midnight: in the next day's file.
    late = DAY_US - rng.integers(1, 3 * US, 15)
    add(late, DAY_US + rng.integers(0, 2 * US, 15))
    # The day's last microsecond, once in each file.
    add([DAY_US - 1, DAY_US - 1], [DAY_US - 1, DAY_US + 500 * MS])
    # The next day's own trades.
    following = DAY_US + rng.integers(0, 10 * MINUTE, 150)
    add(following, following + _delays(rng, 150, 150))

    ts = np.concatenate([ts, *extra_ts]) + D
    local = np.concatenate([local, *extra_local]) + D
    size = ts.size
    order = np.argsort(ts, kind="stable")
    price = np.empty(size)
    price[order] = np.round(base * np.exp(np.cumsum(rng.normal(0, 2e-4, size))), 2)
    return {
        "timestamp": ts,
        "local_timestamp": local,
        "id": np.array([str(i) for i in range(size)], dtype=object),
        "side": rng.choice(np.array(sides, dtype=object), size, p=side_p),
        "price": price,
        "amount": np.round(rng.lognormal(-2, 1, size), 4) + 1e-4,
    }


def _book_rows(
    rng: np.random.Generator,
    *,
    count: int,
    base: float,
    first: int | None,
    gap: tuple[int, int],
    missing_levels: bool,
) -> dict[str, np.ndarray]:
    """Snapshots of five levels. ``first``: the first snapshot's time of day (None: the
    book starts with snapshots stamped the day before)."""
    start = 0 if first is None else first
    ts = rng.integers(start, DAY_US - 3 * US, count)
    ts = ts[(ts < gap[0]) | (ts >= gap[1])]
    # Snapshots on a bar edge (twice: a tie), just before one, and one inside a bar.
    on_edges = np.array([6 * HOUR, 6 * HOUR, 6 * HOUR - 1, 9 * HOUR + 15 * US])
    extra_ts = [ts, on_edges]
    extra_local = [ts + _delays(rng, ts.size, 30), on_edges + np.array([10, 20, 30, 40]) * MS]
    if first is None:
        pre = -rng.integers(1, 4 * US, 3)
        extra_ts.append(pre)
        extra_local.append(rng.integers(0, US, 3))
    else:
        extra_ts.append(np.array([first]))
        extra_local.append(np.array([first + 3 * MS]))
    late = DAY_US - rng.integers(1, 2 * US, 4)
    extra_ts.append(late)
    extra_local.append(DAY_US + rng.integers(0, US, 4))
    following = DAY_US + rng.integers(0, 5 * MINUTE, 20)
    extra_ts.append(following)
    extra_local.append(following + _delays(rng, 20, 30))
    ts = np.concatenate(extra_ts) + D
    local = np.concatenate(extra_local) + D
    size = ts.size

    order = np.argsort(ts, kind="stable")
    mid = np.empty(size)
    mid[order] = base * np.exp(np.cumsum(rng.normal(0, 3e-4, size)))
    tick = base * 1e-5
    half_spread = tick * rng.integers(1, 20, size) / 2
    rows: dict[str, np.ndarray] = {"timestamp": ts, "local_timestamp": local}
    for level in range(LEVELS):
        rows[f"bids[{level}].price"] = np.round(mid - half_spread - level * tick * 3, 6)
        rows[f"asks[{level}].price"] = np.round(mid + half_spread + level * tick * 3, 6)
        rows[f"bids[{level}].amount"] = np.round(rng.lognormal(0, 1, size), 3) + 1e-3
        rows[f"asks[{level}].amount"] = np.round(rng.lognormal(0, 1, size), 3) + 1e-3
    if missing_levels:
        for side, level, share in (("asks", 4, 0.3), ("bids", 4, 0.1), ("bids", 3, 0.1)):
            thin = rng.random(size) < share
            if side == "bids" and level == 3:
                thin &= np.isnan(rows["bids[4].price"])  # levels go missing from the far end
            rows[f"{side}[{level}].price"][thin] = np.nan
            rows[f"{side}[{level}].amount"][thin] = np.nan
        # A one-sided book: no bids at all.
        empty_side = rng.choice(np.flatnonzero(ts < END), 6, replace=False)
        for level in range(LEVELS):
            rows[f"bids[{level}].price"][empty_side] = np.nan
            rows[f"bids[{level}].amount"][empty_side] = np.nan
    return rows


def _ticker_rows(
    rng: np.random.Generator,
    *,
    count: int,
    base: float,
    silent: tuple[int, int],
    null_share: dict[str, float],
) -> dict[str, np.ndarray]:
    ts = rng.integers(0, DAY_US - 3 * US, count) // MS * MS
    ts = ts[(ts < silent[0]) | (ts >= silent[1])]
    local = ts + _delays(rng, ts.size, 40)
    twins = rng.choice(ts, 6, replace=False)  # equal timestamps, different values
    pre = -rng.integers(1, 3 * US, 3)
    late = DAY_US - rng.integers(1, 2 * US, 3)
    following = DAY_US + rng.integers(0, 5 * MINUTE, 10)
    ts = np.concatenate([ts, twins, pre, late, following]) + D
    local = (
        np.concatenate(
            [
                local,
                twins + 100 * MS,
                rng.integers(0, US, 3),
                DAY_US + rng.integers(0, US, 3),
                following + 20 * MS,
            ]
        )
        + D
    )
    size = ts.size
    order = np.argsort(ts, kind="stable")
    walk = np.empty(size)
    walk[order] = base * np.exp(np.cumsum(rng.normal(0, 3e-4, size)))
    interest = np.empty(size)
    interest[order] = 1e5 + np.cumsum(rng.normal(0, 50, size))
    rows = {
        "timestamp": ts,
        "local_timestamp": local,
        "funding_timestamp": np.full(size, D + 8 * HOUR),
        "funding_rate": 1e-4 + rng.normal(0, 2e-5, size),
        "predicted_funding_rate": 1e-4 + rng.normal(0, 2e-5, size),
        "open_interest": np.round(interest, 3),
        "last_price": np.round(walk * (1 + rng.normal(0, 1e-4, size)), 2),
        "index_price": np.round(walk * (1 + rng.normal(0, 2e-4, size)), 4),
        "mark_price": np.round(walk * (1 + rng.normal(0, 2e-4, size)), 4),
    }
    for name, share in null_share.items():
        rows[name][rng.random(size) < share] = np.nan
    # The rows stamped before the day carry an open interest: the first bar's change.
    rows["open_interest"][np.isin(ts, pre + D)] = 1e5
    return rows


def _chain_rows(
    rng: np.random.Generator,
    *,
    base: str,
    spot: float,
    expiries: dict[int, list[float]],
    updates: int,
    listed_from: dict[int, int] | None = None,
    pinned: tuple[int, int, float] | None = None,
) -> dict[str, np.ndarray]:
    """Options chain rows of ``base``: per option an initial row (stamped just before the
    day unless ``listed_from`` says when the expiry is listed) then random updates.
    Exchange times are unique within the chain, so "the most recent row" is unambiguous.
    ``pinned``: (start, end, price) pins the underlying price over a stretch of the day."""
    listed_from = listed_from or {}
    options = [
        (expiry, strike, kind)
        for expiry, strikes in expiries.items()
        for strike in strikes
        for kind in ("call", "put")
    ]
    owner, stamps = [], []
    for number, (expiry, _, _) in enumerate(options):
        first = listed_from.get(expiry, -2 * US)
        owner.append(np.full(updates + 1, number))
        later = rng.integers(max(first, 0) + US, DAY_US + 2 * MINUTE, updates)
        stamps.append(np.concatenate([[first], later]))
    owner = np.concatenate(owner)
    ts = np.concatenate(stamps)
    # Unique exchange times: shift ties apart by whole microseconds.
    order = np.argsort(ts, kind="stable")
    ts[order] = ts[order] + np.arange(ts.size)
    ts = ts + D
    local = ts + _delays(rng, ts.size, 50)
    local = np.maximum(local, D)

    size = ts.size
    underlying = np.empty(size)
    underlying[order] = spot * np.exp(np.cumsum(rng.normal(0, 5e-4, size)))
    underlying = np.round(underlying, 2)
    if pinned:
        underlying[(ts >= D + pinned[0]) & (ts < D + pinned[1])] = pinned[2]
    expiry = np.array([options[i][0] for i in owner], dtype=np.int64)
    strike = np.array([options[i][1] for i in owner])
    is_call = np.array([options[i][2] == "call" for i in owner])
    moneyness = (strike - underlying) / underlying
    call_delta = np.clip(0.5 - 4 * moneyness + rng.normal(0, 0.02, size), 0.01, 0.99)
    delta = np.where(is_call, call_delta, call_delta - 1 + rng.normal(0, 0.01, size))
    iv = 50 + 80 * moneyness**2 - 10 * moneyness + rng.normal(0, 1.5, size)

    def label(i: int) -> str:
        when = datetime.fromtimestamp(options[i][0] / US, UTC).strftime("%y%m%d")
        return f"{base}-USD-{when}-{options[i][1]:.0f}-{options[i][2].upper()}"

    labels = [label(i) for i in range(len(options))]
    return {
        "instrument_key": np.array([f"DERIBIT:OPTION:{labels[i]}" for i in owner], dtype=object),
        "symbol": np.array([labels[i] for i in owner], dtype=object),
        "timestamp": ts,
        "local_timestamp": local,
        "type": np.where(is_call, "call", "put").astype(object),
        "strike_price": strike,
        "expiration": expiry,
        "mark_iv": np.round(iv, 2),
        "delta": np.round(delta, 5),
        "underlying_price": underlying,
    }


def _concat_rows(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


@dataclass(frozen=True)
class World:
    ticks: dict[str, dict[str, Files | None]]
    chain: Files
    candles: dict[str, dict[str, pa.Table]]


def _world() -> World:
    rng = np.random.default_rng(20240301)
    btc_rows = _trade_rows(
        rng, clusters=300, per_cluster=12, base=60_000, silent=(3 * HOUR, 4 * HOUR)
    )
    ticks: dict[str, dict[str, Files | None]] = {
        BTC: {
            "trades": _files("trades", btc_rows, BTC, "BTCUSDT"),
            "liquidations": _files(
                "liquidations",
                _trade_rows(
                    rng,
                    clusters=20,
                    per_cluster=3,
                    base=60_000,
                    silent=None,
                    sides=("buy", "sell"),
                    side_p=(0.5, 0.5),
                ),
                BTC,
                "BTCUSDT",
            ),
            "derivative_ticker": _files(
                "derivative_ticker",
                _ticker_rows(
                    rng,
                    count=1_500,
                    base=60_000,
                    silent=(14 * HOUR, 15 * HOUR),
                    null_share={
                        "funding_rate": 0.4,
                        "predicted_funding_rate": 0.2,
                        "open_interest": 0.3,
                        "mark_price": 0.1,
                        "index_price": 0.1,
                    },
                ),
                BTC,
                "BTCUSDT",
            ),
            "book": _files(
                "book_snapshot_5",
                _book_rows(
                    rng,
                    count=2_500,
                    base=60_000,
                    first=None,
                    gap=(10 * HOUR, 11 * HOUR + 30 * MINUTE),
                    missing_levels=False,
                ),
                BTC,
                "BTCUSDT",
            ),
        },
        ETH: {
            "trades": _files(
                "trades",
                _trade_rows(
                    rng, clusters=200, per_cluster=10, base=3_300, silent=(20 * HOUR, 21 * HOUR)
                ),
                ETH,
                "ETHUSDT",
            ),
            # Liquidations stamped the day before only, and a few of the day: the
            # instrument has the data, so its empty bars are zeros.
            "liquidations": _files(
                "liquidations",
                {
                    "timestamp": D + np.array([-3 * US, -2 * US, 7 * HOUR + 1, 7 * HOUR + 1]),
                    "local_timestamp": D + np.array([10, 20, 7 * HOUR + 5, 7 * HOUR + 6]),
                    "id": np.array(["a", "b", "c", "d"], dtype=object),
                    "side": np.array(["sell", "buy", "buy", "buy"], dtype=object),
                    "price": np.array([3_301.0, 3_302.0, 3_290.5, 3_290.0]),
                    "amount": np.array([1.5, 2.0, 0.25, 4.0]),
                },
                ETH,
                "ETHUSDT",
            ),
            "derivative_ticker": _files(
                "derivative_ticker",
                _ticker_rows(
                    rng,
                    count=600,
                    base=3_300,
                    silent=(2 * HOUR, 5 * HOUR),
                    null_share={
                        "funding_rate": 1.0,
                        "predicted_funding_rate": 0.5,
                        "open_interest": 0.6,
                        "mark_price": 0.3,
                        "index_price": 0.3,
                    },
                ),
                ETH,
                "ETHUSDT",
            ),
            "book": _files(
                "book_snapshot_5",
                _book_rows(
                    rng,
                    count=1_500,
                    base=3_300,
                    first=7 * MINUTE + 31 * US + 123_456,
                    gap=(16 * HOUR, 19 * HOUR),
                    missing_levels=True,
                ),
                ETH,
                "ETHUSDT",
            ),
        },
        SOL: {
            "trades": _files(
                "trades",
                _trade_rows(rng, clusters=60, per_cluster=5, base=150, silent=(0, 2 * HOUR)),
                SOL,
                "SOLUSDT",
            ),
            "liquidations": None,
            "derivative_ticker": None,
            "book": None,
        },
    }

    e1, e2, e3 = D + 3 * DAY_US + 8 * HOUR, D + 7 * DAY_US + 8 * HOUR, D + 14 * DAY_US + 8 * HOUR
    btc_strikes = [float(k) for k in range(55_000, 65_001, 1_000)]
    chain_rows = _concat_rows(
        _chain_rows(
            rng,
            base="BTC",
            spot=60_000,
            expiries={e1: btc_strikes[3:8], e2: btc_strikes, e3: btc_strikes},
            updates=40,
            # Half-way between two strikes: the lower one is at the money.
            pinned=(13 * HOUR, 13 * HOUR + 30 * MINUTE, 60_500.0),
        ),
        _chain_rows(
            rng,
            base="ETH",
            spot=3_300,
            expiries={D + 9 * DAY_US + 8 * HOUR: [float(k) for k in range(3_000, 3_601, 100)]},
            updates=40,
        ),
    )
    # An expiry seen only in rows of the next day (stamped after the day): not the day's.
    chain_rows = _concat_rows(
        chain_rows,
        {
            **{name: values[:2].copy() for name, values in chain_rows.items()},
            "timestamp": np.array([END + MINUTE, END + 2 * MINUTE]),
            "local_timestamp": np.array([END + MINUTE + 1, END + 2 * MINUTE + 1]),
            "expiration": np.array([D + 7 * DAY_US + 20 * HOUR] * 2),
        },
    )
    chain = _files("options_chain", chain_rows, "", "")

    grids = option_grids(chain.source_order, D)
    candles = {}
    for key, tables in ticks.items():
        day = InstrumentDay(
            key, **{name: None if f is None else f.source_order for name, f in tables.items()}
        )
        base = OPTION_BASE[key]
        candles[key] = instrument_candles(day, D, TIMEFRAMES, grids[base] if base else None)
    return World(ticks, chain, candles)


@pytest.fixture(scope="module")
def world() -> World:
    return _world()


# --------------------------------------------------------------------------------------
# The reference, in plain pandas
# --------------------------------------------------------------------------------------

# Expected columns: per name, a float Series over the day's bars; NaN marks a null (the
# reference never produces NaN as a value), integers and times are exact in a float64.
Expected = dict[str, pd.Series]


def _frame(table: pa.Table, columns: list[str]) -> pd.DataFrame:
    """Columns of a tick table: times as int64 µs, labels as str, numbers as float."""
    data = {}
    for name in columns:
        column = table[name]
        if pa.types.is_timestamp(column.type):
            data[name] = column.cast(pa.int64()).to_numpy()
        elif pa.types.is_dictionary(column.type) or pa.types.is_string(column.type):
            data[name] = column.cast(pa.string()).to_numpy(zero_copy_only=False)
        else:
            data[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(data)


def _bars(seconds: int) -> pd.RangeIndex:
    return pd.RangeIndex(86_400 // seconds)


def _null(names: list[str], seconds: int) -> Expected:
    return {name: pd.Series(np.nan, index=_bars(seconds)) for name in names}


def ref_trades(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(TRADE_COLUMNS, seconds)
    bars = _bars(seconds)
    df = _frame(table, ["timestamp", "local_timestamp", "side", "price", "amount"])
    df = df[(df.timestamp >= D) & (df.timestamp < END)].sort_values("timestamp", kind="stable")
    df["bar"] = (df.timestamp - D) // (seconds * US)
    df["notional"] = df.price * df.amount
    df["delay_ms"] = (df.local_timestamp - df.timestamp) / 1_000
    by_bar = df.groupby("bar")
    out: Expected = {}
    out["open"] = by_bar.price.first().reindex(bars)
    out["high"] = by_bar.price.max().reindex(bars)
    out["low"] = by_bar.price.min().reindex(bars)
    out["close"] = by_bar.price.last().reindex(bars)
    out["volume"] = by_bar.amount.sum().reindex(bars, fill_value=0.0)
    out["quote_volume"] = by_bar.notional.sum().reindex(bars, fill_value=0.0)
    count = by_bar.size().reindex(bars, fill_value=0)
    out["trade_count"] = count.astype(float)
    out["vwap"] = (out["quote_volume"] / out["volume"]).where(count > 0)
    for side in ("buy", "sell", "unknown"):
        of_side = df[df.side == side].groupby("bar")
        out[f"{side}_volume"] = of_side.amount.sum().reindex(bars, fill_value=0.0)
        out[f"{side}_count"] = of_side.size().reindex(bars, fill_value=0).astype(float)
    out["mean_trade_size"] = (out["volume"] / count).where(count > 0)
    out["max_trade_size"] = by_bar.amount.max().reindex(bars)
    out["delay_min_ms"] = by_bar.delay_ms.min().reindex(bars)
    out["delay_median_ms"] = by_bar.delay_ms.median().reindex(bars)
    out["delay_mean_ms"] = by_bar.delay_ms.mean().reindex(bars)
    out["delay_max_ms"] = by_bar.delay_ms.max().reindex(bars)
    out["timestamp_out"] = by_bar.local_timestamp.max().reindex(bars).astype(float)
    return out


def ref_liquidations(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(LIQUIDATION_COLUMNS, seconds)
    bars = _bars(seconds)
    df = _frame(table, ["timestamp", "side", "amount"])
    df = df[(df.timestamp >= D) & (df.timestamp < END)].copy()
    df["bar"] = (df.timestamp - D) // (seconds * US)
    out: Expected = {}
    for side in ("buy", "sell"):
        of_side = df[df.side == side].groupby("bar")
        out[f"liquidation_{side}_volume"] = of_side.amount.sum().reindex(bars, fill_value=0.0)
        out[f"liquidation_{side}_count"] = of_side.size().reindex(bars, fill_value=0).astype(float)
    return out


def _last_strictly_before(points: np.ndarray, rows: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """For each point, ``names`` of the last row (ties: the later row) stamped strictly
    before it; NaN where there is none. ``rows`` is sorted by timestamp."""
    rows = rows.drop_duplicates("timestamp", keep="last")
    found = pd.merge_asof(
        pd.DataFrame({"point": np.asarray(points, np.int64)}),
        rows[["timestamp", *names]],
        left_on="point",
        right_on="timestamp",
        allow_exact_matches=False,
        direction="backward",
    )
    return found


def ref_ticker(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(TICKER_COLUMNS, seconds)
    bars = _bars(seconds)
    fields = [
        "funding_rate",
        "predicted_funding_rate",
        "mark_price",
        "index_price",
        "open_interest",
    ]
    df = _frame(table, ["timestamp", *fields])
    df = df[df.timestamp < END].sort_values("timestamp", kind="stable")
    inside = df[df.timestamp >= D].copy()
    inside["bar"] = (inside.timestamp - D) // (seconds * US)
    out: Expected = {}
    for name in fields:
        known = inside.dropna(subset=[name])
        out[name] = known.groupby("bar")[name].last().reindex(bars)
    starts = D + np.arange(len(bars), dtype=np.int64) * seconds * US
    interest = df.dropna(subset=["open_interest"])
    before = _last_strictly_before(starts, interest, ["open_interest"])["open_interest"]
    out["open_interest_change"] = out["open_interest"] - before.to_numpy()
    out["basis"] = (out["mark_price"] - out["index_price"]) / out["index_price"]
    return out


def _book_measures(table: pa.Table) -> pd.DataFrame:
    names = [
        f"{side}[{level}].{field}"
        for side in ("bids", "asks")
        for level in range(LEVELS)
        for field in ("price", "amount")
    ]
    df = _frame(table, ["timestamp", *names])
    df = df[df.timestamp < END].sort_values("timestamp", kind="stable")
    bid, ask = df["bids[0].price"], df["asks[0].price"]
    bid_amount, ask_amount = df["bids[0].amount"], df["asks[0].amount"]
    bid_depth = sum(df[f"bids[{level}].amount"].fillna(0.0) for level in range(LEVELS))
    ask_depth = sum(df[f"asks[{level}].amount"].fillna(0.0) for level in range(LEVELS))
    mid = (bid + ask) / 2
    return pd.DataFrame(
        {
            "timestamp": df.timestamp,
            "best_bid": bid,
            "best_ask": ask,
            "mid": mid,
            "spread_bps": (ask - bid) / mid * 1e4,
            "microprice": (bid * ask_amount + ask * bid_amount) / (bid_amount + ask_amount),
            "bid_depth_5": bid_depth,
            "ask_depth_5": ask_depth,
            "imbalance_5": (bid_depth - ask_depth) / (bid_depth + ask_depth),
        }
    )


def ref_book(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(BOOK_COLUMNS, seconds)
    bars = _bars(seconds)
    snapshots = _book_measures(table)
    at_close_names = BOOK_COLUMNS[:8]
    ends = D + np.arange(1, len(bars) + 1, dtype=np.int64) * seconds * US
    at_close = _last_strictly_before(ends, snapshots, at_close_names)
    out: Expected = {
        name: pd.Series(at_close[name].to_numpy(), index=bars) for name in at_close_names
    }

    # Time weighting: cut the day at every bar edge and every snapshot; on each piece the
    # book is the last snapshot stamped at or before the piece's start.
    state = snapshots.drop_duplicates("timestamp", keep="last")
    edges = D + np.arange(len(bars) + 1, dtype=np.int64) * seconds * US
    inner = state.timestamp[(state.timestamp > D) & (state.timestamp < END)].to_numpy()
    cuts = np.unique(np.concatenate([edges, inner]))
    pieces = pd.DataFrame({"start": cuts[:-1], "width": np.diff(cuts).astype(float)})
    pieces = pd.merge_asof(
        pieces,
        state[["timestamp", "spread_bps", "imbalance_5"]],
        left_on="start",
        right_on="timestamp",
        direction="backward",
    )
    pieces["bar"] = (pieces.start - D) // (seconds * US)
    for name in ("spread_bps", "imbalance_5"):
        defined = pieces[name].notna()
        weight = pieces.width.where(defined, 0.0)
        area = (pieces[name].fillna(0.0) * weight).groupby(pieces.bar).sum()
        covered = weight.groupby(pieces.bar).sum()
        out[f"{name}_tw"] = (area / covered).where(covered > 0).reindex(bars)
    return out


def _underlying(key: str) -> str:
    return key.split(":")[2].split("-")[0]


def ref_options(chain: pa.Table | None, base: str | None, seconds: int) -> Expected:
    """At each bar close t: among the expiries listed by t (a row stamped before t), the
    nearest at least seven days after t; its options' last rows stamped before t."""
    if chain is None or base is None:
        return _null(OPTION_COLUMNS, seconds)
    bars = _bars(seconds)
    df = _frame(chain, list(CHAIN_COLUMNS))
    df = df[(df.instrument_key.map(_underlying) == base) & (df.timestamp < END)]
    df = df.sort_values("timestamp", kind="stable")
    closes = D + np.arange(1, len(bars) + 1, dtype=np.int64) * seconds * US
    first_seen = df.groupby("expiration").timestamp.min()
    expiries, first_seen = first_seen.index.to_numpy(), first_seen.to_numpy()

    # Per expiry: per option (ordered by strike, calls first), its last row before each close.
    state = {}
    for expiry, rows in df.groupby("expiration"):
        options = rows.drop_duplicates("instrument_key").sort_values(["strike_price", "type"])
        matrices = {name: [] for name in ("timestamp", "mark_iv", "delta", "underlying_price")}
        for key in options.instrument_key:
            last = _last_strictly_before(
                closes, rows[rows.instrument_key == key], ["mark_iv", "delta", "underlying_price"]
            )
            for name in matrices:
                matrices[name].append(last[name].to_numpy(dtype=float))
        state[expiry] = (
            options.strike_price.to_numpy(),
            (options.type == "call").to_numpy(),
            {name: np.array(columns) for name, columns in matrices.items()},
        )

    out = {name: np.full(len(bars), np.nan) for name in OPTION_COLUMNS}
    for bar, close in enumerate(closes):
        eligible = expiries[(first_seen < close) & (expiries >= close + 7 * DAY_US)]
        if not eligible.size:
            continue
        expiry = int(eligible.min())
        out["option_expiry"][bar] = expiry
        strikes, calls, matrix = state[expiry]
        stamp, iv = matrix["timestamp"][:, bar], matrix["mark_iv"][:, bar]
        delta, price = matrix["delta"][:, bar], matrix["underlying_price"][:, bar]
        present = ~np.isnan(stamp)
        if not present.any():
            continue
        spot = price[np.nanargmax(stamp)]
        quoted = present & ~np.isnan(iv)
        # Nearest strike to the spot, ties to the lower strike.
        candidates = sorted(zip(np.abs(strikes - spot)[quoted], strikes[quoted], strict=True))
        nearest = candidates[0][1]
        out["atm_iv"][bar] = iv[quoted & (strikes == nearest)].mean()
        call = np.where(quoted & calls, np.abs(delta - 0.25), np.inf).argmin()
        put = np.where(quoted & ~calls, np.abs(delta + 0.25), np.inf).argmin()
        out["risk_reversal_25d"][bar] = iv[call] - iv[put]
        out["put_call_iv_ratio_25d"][bar] = iv[put] / iv[call]
    return {name: pd.Series(values, index=bars) for name, values in out.items()}


def reference(world: World, key: str, seconds: int) -> Expected:
    ticks = {
        name: None if files is None else files.source_order
        for name, files in world.ticks[key].items()
    }
    return {
        **ref_trades(ticks["trades"], seconds),
        **ref_liquidations(ticks["liquidations"], seconds),
        **ref_ticker(ticks["derivative_ticker"], seconds),
        **ref_book(ticks["book"], seconds),
        **ref_options(world.chain.source_order, OPTION_BASE[key], seconds),
    }


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------


def _clock(bar: int, seconds: int) -> str:
    return datetime.fromtimestamp((D + bar * seconds * US) / US, UTC).strftime("%H:%M:%S")


def _show(value: float | None, arrow_type: pa.DataType) -> str:
    if value is None or np.isnan(value):
        return "null"
    if pa.types.is_timestamp(arrow_type):
        return datetime.fromtimestamp(value / US, UTC).isoformat()
    return repr(float(value))


def column_problems(
    name: str, got: pa.ChunkedArray, expected: pd.Series, seconds: int
) -> list[str]:
    """What differs between a candle column and its reference: null positions, NaN
    written instead of null, values (floats to ``FLOAT_RTOL``, integers and times exact)."""
    arrow_type = CANDLE_SCHEMA.field(name).type
    assert got.type == arrow_type, f"{name}: type {got.type}, schema says {arrow_type}"
    want = expected.to_numpy(dtype=float)
    want_null = np.isnan(want)
    got_null = got.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_floating(arrow_type):
        values = got.fill_null(0.0).to_numpy(zero_copy_only=False)
        nan = ~got_null & np.isnan(values)
        atol = TW_ATOL if name.endswith("_tw") else 0.0
        close = np.isclose(values, want, rtol=FLOAT_RTOL, atol=atol)
    else:
        values = got.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        nan = np.zeros(values.size, dtype=bool)
        close = values == np.where(want_null, 0, want).astype(np.int64)
    shown = np.where(got_null, np.nan, values.astype(float))
    problems = []
    for why, wrong in (
        ("null differs", got_null != want_null),
        ("NaN instead of null", nan),
        ("values differ", ~got_null & ~want_null & ~close),
    ):
        bars = np.flatnonzero(wrong)
        if bars.size:
            examples = ", ".join(
                f"bar {_clock(b, seconds)}: expected {_show(want[b], arrow_type)}, "
                f"got {_show(shown[b], arrow_type)}"
                for b in bars[:3]
            )
            problems.append(f"{name}: {why} in {bars.size} bar(s); {examples}")
    return problems


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_synthetic_days_hold_the_awkward_cases(world: World) -> None:
    """Guard on the generator: the cases the reference comparison is meant to cover."""
    trades = world.ticks[BTC]["trades"]
    today = _frame(trades.today, ["timestamp", "local_timestamp"])
    following = _frame(trades.next_day, ["timestamp"])
    assert (today.timestamp < D).sum() > 0, "rows of the day's file stamped the day before"
    assert ((following.timestamp >= D) & (following.timestamp < END)).sum() > 0, "late trades"
    assert (following.timestamp >= END).sum() > 0, "the next day's own trades"
    assert (np.diff(today.timestamp) < 0).sum() > 10, "exchange times out of file order"
    assert (today.timestamp.value_counts() > 1).sum() > 10, "equal exchange timestamps"
    tied = today[today.timestamp == D + 12 * HOUR]
    prices = _frame(trades.today, ["price"]).price[tied.index]
    assert len(tied) == 12 and not prices.is_monotonic_increasing
    hourly = world.candles[BTC]["1h"]["trade_count"].to_pylist()
    assert hourly[3] == 0, "a silent hour"
    book = _frame(world.ticks[ETH]["book"].today, ["timestamp", "asks[4].price", "bids[0].price"])
    assert book.timestamp.min() > D, "time before the first snapshot"
    assert book["asks[4].price"].isna().any() and book["bids[0].price"].isna().any()
    ticker = _frame(world.ticks[BTC]["derivative_ticker"].today, ["timestamp", "open_interest"])
    assert ticker.open_interest.isna().any() and (ticker.timestamp < D).any()
    assert world.ticks[SOL]["book"] is None and world.ticks[SOL]["derivative_ticker"] is None


@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_every_bar_of_the_day_is_present(world: World, timeframe: str) -> None:
    seconds = TIMEFRAMES[timeframe]
    for key in INSTRUMENTS:
        table = world.candles[key][timeframe]
        assert table.schema == CANDLE_SCHEMA
        assert table.num_rows == 86_400 // seconds
        assert set(table["instrument_key"].to_pylist()) == {key}
        starts = table["timestamp"].cast(pa.int64()).to_numpy()
        assert np.array_equal(starts, D + np.arange(86_400 // seconds) * seconds * US)


@pytest.mark.parametrize("key", INSTRUMENTS)
@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_every_column_matches_the_reference(world: World, timeframe: str, key: str) -> None:
    seconds = TIMEFRAMES[timeframe]
    table = world.candles[key][timeframe]
    expected = reference(world, key, seconds)
    assert set(expected) == set(CANDLE_SCHEMA.names[2:])
    problems = [
        problem
        for name in CANDLE_SCHEMA.names[2:]
        for problem in column_problems(name, table[name], expected[name], seconds)
    ]
    assert not problems, f"{key} {timeframe}:\n" + "\n".join(problems)


@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_no_trade_is_lost_or_counted_twice(world: World, timeframe: str) -> None:
    for key in INSTRUMENTS:
        trades = world.ticks[key]["trades"]
        stamped = 0
        volume = 0.0
        for file in (trades.today, trades.next_day):
            df = _frame(file, ["timestamp", "amount"])
            inside = (df.timestamp >= D) & (df.timestamp < END)
            stamped += int(inside.sum())
            volume += float(df.amount[inside].sum())
        table = world.candles[key][timeframe]
        assert pc.sum(table["trade_count"]).as_py() == stamped
        assert pc.sum(table["volume"]).as_py() == pytest.approx(volume, rel=1e-12)
        sides = sum(pc.sum(table[f"{s}_count"]).as_py() for s in ("buy", "sell", "unknown"))
        assert sides == stamped


def test_equal_timestamps_open_and_close_in_source_order(world: World) -> None:
    """The 12:00:00 bar of 15 s starts with twelve trades at the same microsecond: open is
    the first of them in the day's file, close the last trade of the bar in time order."""
    trades = world.ticks[BTC]["trades"].source_order
    df = _frame(trades, ["timestamp", "price"])
    tied = df[df.timestamp == D + 12 * HOUR]
    bar = df[(df.timestamp >= D + 12 * HOUR) & (df.timestamp < D + 12 * HOUR + 15 * US)]
    last = bar.sort_values("timestamp", kind="stable").price.iloc[-1]
    row = world.candles[BTC]["15s"].slice(12 * 240, 1).to_pylist()[0]
    assert row["open"] == tied.price.iloc[0]
    assert row["close"] == last


def test_last_bar_takes_the_late_trades(world: World) -> None:
    """The day's last microsecond traded once in each file: the next day's copy closes."""
    trades = world.ticks[BTC]["trades"]
    late = _frame(trades.next_day, ["timestamp", "price"])
    last = late[late.timestamp == END - 1].price.iloc[-1]
    row = world.candles[BTC]["1d"].to_pylist()[0]
    assert row["close"] == last
    assert row["timestamp_out"] > datetime.fromtimestamp(END / US, UTC)


def test_option_expiry_is_chosen_among_listed_expiries() -> None:
    """An expiry listed at noon cannot be the chosen one before noon: until it is listed
    the nearest expiry at least seven days out is the one listed earlier, with its values
    (the brief's "each option of that expiry's last row stamped before t"; choosing an
    expiry nobody has seen yet would look ahead and leave the features null)."""
    rng = np.random.default_rng(7)
    new, old = D + 10 * DAY_US, D + 20 * DAY_US
    strikes = [float(k) for k in range(58_000, 62_001, 1_000)]
    rows = _chain_rows(
        rng,
        base="BTC",
        spot=60_000,
        expiries={new: strikes, old: strikes},
        updates=20,
        listed_from={new: 12 * HOUR + 500 * MS},
    )
    chain = _files("options_chain", rows, "", "").source_order
    grid = option_grids(chain, D)["BTC"]
    ticks = InstrumentDay(BTC)
    got = instrument_candles(ticks, D, {"1h": 3_600}, grid)["1h"]
    expected = ref_options(chain, "BTC", 3_600)
    expiry = got["option_expiry"].cast(pa.int64()).to_pylist()
    assert expected["option_expiry"].iloc[11] == old and expected["option_expiry"].iloc[12] == new
    problems = [
        problem
        for name in OPTION_COLUMNS
        for problem in column_problems(name, got[name], expected[name], 3_600)
    ]
    assert not problems, f"chosen expiries by hour {expiry}:\n" + "\n".join(problems)


def test_a_day_without_rows_is_data_without_events() -> None:
    """A Tardis file that is an empty gzip ("no data that day") lands in the lake as a
    file without rows, so the instrument has a table, not None: counts and volumes are
    zero (no trade, no liquidation that day), prices null."""
    trades = in_source_order([LAYOUTS["trades"].schema.empty_table()] * 2)
    liquidations = in_source_order([LAYOUTS["liquidations"].schema.empty_table()] * 2)
    ticks = InstrumentDay(SOL, trades=trades, liquidations=liquidations)
    got = instrument_candles(ticks, D, {"1h": 3_600})["1h"]
    expected = {**ref_trades(trades, 3_600), **ref_liquidations(liquidations, 3_600)}
    assert expected["trade_count"].eq(0).all() and expected["open"].isna().all()
    problems = [
        problem
        for name in (*TRADE_COLUMNS, *LIQUIDATION_COLUMNS)
        for problem in column_problems(name, got[name], expected[name], 3_600)
    ]
    assert not problems, "\n".join(problems)

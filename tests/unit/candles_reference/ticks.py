"""Synthetic Tardis files: per data type, the day's file and the next day's, as parsed,
with the awkward cases built in (see the package docstring)."""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import in_source_order
from market_assets.ticks.columns import TICK_DATASETS
from tests.unit.candles_reference.day import DAY_US, END, HOUR, LEVELS, MINUTE, MS, US, D


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
    schema = TICK_DATASETS[layout].schema
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


def tardis_files(layout: str, rows: dict[str, np.ndarray], key: str, symbol: str = "X") -> Files:
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


def trade_rows(
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


def book_rows(
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


def ticker_rows(
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


def option_chain_rows(
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


def concat_rows(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

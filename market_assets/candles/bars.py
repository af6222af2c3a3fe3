"""Candles from ticks: every bar of a day, exact, with microstructure features.

Pure transforms (numpy and pyarrow only). Times are integer microseconds since the
epoch, UTC, unless a column says otherwise.

Semantics (ARCHITECTURE.md): a bar covers ``[timestamp, timestamp + timeframe)`` in
exchange time, aligned to UTC midnight, and every bar of the day is present. Trades are
ordered by exchange timestamp, ties by source order (the day's file, then the next
day's): open is the first, close the last. A day's ticks are the rows of its own file
and of the next day's file whose exchange timestamp falls inside the day; rows of the
day's file stamped the day before belong to the day before's bars.

Feature groups, null where the instrument has no such data, zero only for counts and
volumes of an instrument that has the data but not in that bar:

- trades: OHLC, volumes (Tardis ``amount`` units) and counts, by taker side; vwap;
  mean and max trade size; exchange-to-receive delay in ms; ``timestamp_out``, the
  latest ``local_timestamp`` of the bar's trades.
- liquidations: volume and count per side (``buy``: a short was liquidated).
- derivative ticker: each field's last value inside the bar; ``open_interest_change``
  against the last open interest before the bar; ``basis`` = (mark − index) / index.
- book (``book_snapshot_5``): the book at bar close is the last snapshot stamped before
  the close (it may be older than the bar); spreads in basis points of the mid; depth
  sums the five levels' amounts; imbalance = (bid depth − ask depth) / (bid + ask
  depth). The ``_tw`` columns weight each snapshot by how long it stood inside the bar.
"""

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
TIMESTAMP = pa.timestamp("us", tz="UTC")
SIDES = ("buy", "sell", "unknown")
BOOK_LEVELS = 5
# The finest timeframe: every bar edge of every timeframe lies on its grid.
GRID_SECONDS = 15

TRADE_FIELDS: dict[str, pa.DataType] = {
    "open": pa.float64(),
    "high": pa.float64(),
    "low": pa.float64(),
    "close": pa.float64(),
    "volume": pa.float64(),
    "quote_volume": pa.float64(),
    "vwap": pa.float64(),
    "trade_count": pa.int64(),
    "buy_volume": pa.float64(),
    "sell_volume": pa.float64(),
    "unknown_volume": pa.float64(),
    "buy_count": pa.int64(),
    "sell_count": pa.int64(),
    "unknown_count": pa.int64(),
    "mean_trade_size": pa.float64(),
    "max_trade_size": pa.float64(),
    "delay_min_ms": pa.float64(),
    "delay_median_ms": pa.float64(),
    "delay_mean_ms": pa.float64(),
    "delay_max_ms": pa.float64(),
    "timestamp_out": TIMESTAMP,
}
LIQUIDATION_FIELDS: dict[str, pa.DataType] = {
    "liquidation_buy_volume": pa.float64(),
    "liquidation_buy_count": pa.int64(),
    "liquidation_sell_volume": pa.float64(),
    "liquidation_sell_count": pa.int64(),
}
TICKER_VALUES = ("funding_rate", "predicted_funding_rate", "mark_price", "index_price")
TICKER_FIELDS: dict[str, pa.DataType] = {
    **{name: pa.float64() for name in TICKER_VALUES},
    "open_interest": pa.float64(),
    "open_interest_change": pa.float64(),
    "basis": pa.float64(),
}
BOOK_FIELDS: dict[str, pa.DataType] = {
    name: pa.float64()
    for name in (
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
    )
}
OPTION_FIELDS: dict[str, pa.DataType] = {
    "option_expiry": TIMESTAMP,
    "atm_iv": pa.float64(),
    "risk_reversal_25d": pa.float64(),
    "put_call_iv_ratio_25d": pa.float64(),
}
CANDLE_SCHEMA = pa.schema(
    [
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("timestamp", TIMESTAMP, nullable=False),
        *(
            pa.field(name, arrow_type)
            for group in (
                TRADE_FIELDS,
                LIQUIDATION_FIELDS,
                TICKER_FIELDS,
                BOOK_FIELDS,
                OPTION_FIELDS,
            )
            for name, arrow_type in group.items()
        ),
    ]
)

# The tick columns each feature group reads (the rest of a tick file is left on disk).
TRADE_INPUT = ("timestamp", "local_timestamp", "side", "price", "amount")
TICKER_INPUT = ("timestamp", *TICKER_VALUES, "open_interest")
BOOK_INPUT = (
    "timestamp",
    *(
        f"{side}[{level}].{what}"
        for level in range(BOOK_LEVELS)
        for side in ("asks", "bids")
        for what in ("price", "amount")
    ),
)

# A column as values plus validity; invalid entries are written as nulls.
Column = tuple[np.ndarray, np.ndarray | None]


def midnight_us(day: date) -> int:
    """UTC midnight starting ``day``, in µs since the epoch."""
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp()) * US_PER_SECOND


def bar_edges(day_start_us: int, seconds: int) -> np.ndarray:
    """The ``n + 1`` edges (µs) of the day's ``n`` bars of ``seconds``."""
    if US_PER_DAY % (seconds * US_PER_SECOND):
        raise ValueError(f"a {seconds} s timeframe does not divide a day")
    return day_start_us + np.arange(0, US_PER_DAY + 1, seconds * US_PER_SECOND, dtype=np.int64)


def micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A timestamp column as int64 microseconds (nulls are not expected here)."""
    return column.cast(TIMESTAMP).cast(pa.int64()).to_numpy(zero_copy_only=False)


def floats(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric column as float64 with NaN for nulls."""
    return column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def in_source_order(tables: Iterable[pa.Table | None]) -> pa.Table | None:
    """The day's file then the next day's, as one table in source order (None if none)."""
    present = [t for t in tables if t is not None]
    if not present:
        return None
    return pa.concat_tables(present, promote_options="default")


def _rows_between(ts: np.ndarray, start: int, end: int) -> tuple[np.ndarray | slice, np.ndarray]:
    """Which rows, in which order, are stamped in ``[start, end)`` µs: (rows, their
    exchange timestamps).

    Rows are ordered by exchange time, ties in source order (a stable sort, skipped when
    the file already is in order); the wanted rows are then one run of the sorted rows.
    ``rows`` is a slice when no reordering was needed, so columns are taken as views.
    """
    edges = [start, end]
    if ts.size < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        first, end = np.searchsorted(ts, edges)
        return slice(first, end), ts[first:end]
    order = np.argsort(ts, kind="stable")
    ordered = ts[order]
    first, end = np.searchsorted(ordered, edges)
    return order[first:end], ordered[first:end]


def label_codes(column: pa.ChunkedArray, labels: Sequence[str]) -> np.ndarray:
    """A label column as indexes into ``labels`` (int8; −1 for anything else), read
    through the dictionary when the column has one."""
    parts = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            known = pc.index_in(chunk.dictionary.cast(pa.string()), pa.array(labels))
            chunk = pc.take(known, chunk.indices)
        else:
            chunk = pc.index_in(chunk.cast(pa.string()), pa.array(labels))
        parts.append(chunk.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int8))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)


def side_codes(side: pa.ChunkedArray) -> np.ndarray:
    """Taker sides as indexes into ``SIDES`` (int8)."""
    codes = label_codes(side, SIDES)
    if np.any(codes < 0):
        raise ValueError(f"trade sides outside {SIDES}")
    return codes


@dataclass(frozen=True)
class TradeTape:
    """One instrument's trades (or liquidations) of the day, in bar order."""

    day_start_us: int
    ts: np.ndarray
    local: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    side: np.ndarray  # index into SIDES

    @classmethod
    def of_day(cls, table: pa.Table, day_start_us: int) -> "TradeTape":
        """The rows of ``table`` (source order) stamped inside the day, ordered by
        exchange time with ties in source order."""
        rows, ts = _rows_between(
            micros(table["timestamp"]), day_start_us, day_start_us + US_PER_DAY
        )
        readers = {
            "local": lambda: micros(table["local_timestamp"])[rows],
            "price": lambda: floats(table["price"])[rows],
            "amount": lambda: floats(table["amount"])[rows],
            "side": lambda: side_codes(table["side"])[rows],
        }
        # Copies and gathers of a few million rows release the GIL: side by side.
        with ThreadPoolExecutor(min(len(readers), os.cpu_count() or 1)) as pool:
            taken = dict(zip(readers, pool.map(lambda read: read(), readers.values()), strict=True))
        return cls(day_start_us=day_start_us, ts=ts, **taken)

    def segments(self, seconds: int) -> tuple[np.ndarray, np.ndarray]:
        """Per bar of ``seconds``: (first row, row count)."""
        starts = np.searchsorted(self.ts, bar_edges(self.day_start_us, seconds))
        return starts[:-1], np.diff(starts)


class TradeBars:
    """Trade features of one instrument's day, for any timeframe.

    Work shared by the timeframes (notional, delays, per-side volumes and counts) is done
    once; each timeframe then costs a handful of segment reductions and, for the median
    delay, one partial sort per bar.
    """

    def __init__(self, tape: TradeTape) -> None:
        self.tape = tape
        self.notional = tape.price * tape.amount
        delay = tape.local - tape.ts
        if delay.size and delay.min() > -(2**31) and delay.max() < 2**31:
            delay = delay.astype(np.int32)  # half the bytes to reduce and partition
        self.delay_us = delay
        self.side_mask = [tape.side == code for code in range(3)]
        self.side_amount = [np.where(mask, tape.amount, 0.0) for mask in self.side_mask]

    def columns_by_timeframe(self, timeframes: Iterable[int]) -> dict[int, dict[str, Column]]:
        """``columns`` for several timeframes (seconds), computed side by side: numpy's
        reductions and partitions release the GIL, so threads use every core."""
        timeframes = list(timeframes)
        if not timeframes:
            return {}
        with ThreadPoolExecutor(min(len(timeframes), os.cpu_count() or 1)) as pool:
            return dict(zip(timeframes, pool.map(self.columns, timeframes), strict=True))

    def columns(self, seconds: int) -> dict[str, Column]:
        """The trade columns for every bar of ``seconds`` (see module docstring)."""
        tape = self.tape
        starts, counts = tape.segments(seconds)
        bars = counts.size
        traded = counts > 0
        first = starts[traded]
        last = first + counts[traded] - 1

        def reduced(ufunc: np.ufunc, values: np.ndarray, empty: float = 0.0) -> np.ndarray:
            out = np.full(bars, empty, dtype=np.float64)
            if first.size:
                out[traded] = ufunc.reduceat(values, first)
            return out

        def at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
            out = np.full(bars, np.nan)
            out[traded] = values[rows]
            return out

        volume = reduced(np.add, tape.amount)
        quote_volume = reduced(np.add, self.notional)
        delay_sum = np.zeros(bars, dtype=np.int64)
        if first.size:
            # Summed as integers: exact, whatever the order.
            delay_sum[traded] = np.add.reduceat(self.delay_us, first, dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            vwap = quote_volume / volume
            mean_size = volume / counts
            delay_mean = delay_sum / counts / 1_000
        out_us = np.zeros(bars, dtype=np.int64)
        if first.size:
            out_us[traded] = np.maximum.reduceat(tape.local, first)
        side_counts = []
        for mask in self.side_mask:
            count = np.zeros(bars, dtype=np.int64)
            if first.size:
                count[traded] = np.add.reduceat(mask, first, dtype=np.int64)
            side_counts.append(count)
        columns: dict[str, Column] = {
            "open": (at(tape.price, first), traded),
            "high": (reduced(np.maximum, tape.price), traded),
            "low": (reduced(np.minimum, tape.price), traded),
            "close": (at(tape.price, last), traded),
            "volume": (volume, None),
            "quote_volume": (quote_volume, None),
            "vwap": (vwap, traded),
            "trade_count": (counts.astype(np.int64), None),
        }
        for code, side in enumerate(SIDES):
            columns[f"{side}_volume"] = (reduced(np.add, self.side_amount[code]), None)
        for code, side in enumerate(SIDES):
            columns[f"{side}_count"] = (side_counts[code], None)
        columns |= {
            "mean_trade_size": (mean_size, traded),
            "max_trade_size": (reduced(np.maximum, tape.amount), traded),
            "delay_min_ms": (reduced(np.minimum, self.delay_us) / 1_000, traded),
            "delay_median_ms": (self._median_delay_ms(first, counts[traded], bars, traded), traded),
            "delay_mean_ms": (delay_mean, traded),
            "delay_max_ms": (reduced(np.maximum, self.delay_us) / 1_000, traded),
            "timestamp_out": (out_us, traded),
        }
        return columns

    def _median_delay_ms(
        self, first: np.ndarray, sizes: np.ndarray, bars: int, traded: np.ndarray
    ) -> np.ndarray:
        """Exact median delay of each traded bar: a partial sort of the bar's delays."""
        medians = np.empty(first.size)
        delay = self.delay_us
        for n, (start, size) in enumerate(zip(first.tolist(), sizes.tolist(), strict=True)):
            low, high = (size - 1) // 2, size // 2
            part = np.partition(delay[start : start + size], (low, high))
            medians[n] = (float(part[low]) + float(part[high])) / 2
        out = np.full(bars, np.nan)
        out[traded] = medians / 1_000
        return out


def liquidation_columns(tape: TradeTape, seconds: int) -> dict[str, Column]:
    """Liquidated volume and count per side for every bar of ``seconds``."""
    _, counts = tape.segments(seconds)
    bar = np.repeat(np.arange(counts.size), counts)
    columns: dict[str, Column] = {}
    for code, side in enumerate(SIDES[:2]):
        chosen = tape.side == code
        columns[f"liquidation_{side}_volume"] = (
            np.bincount(bar[chosen], weights=tape.amount[chosen], minlength=counts.size),
            None,
        )
        columns[f"liquidation_{side}_count"] = (
            np.bincount(bar[chosen], minlength=counts.size).astype(np.int64),
            None,
        )
    return columns


@dataclass(frozen=True)
class StateTape:
    """Rows that describe a state (ticker values, book snapshots) in exchange-time order:
    every row up to the end of the day, including the day's file's rows stamped the day
    before, which give the state at the first bar."""

    day_start_us: int
    ts: np.ndarray
    table: pa.Table

    @classmethod
    def of_day(cls, table: pa.Table, day_start_us: int) -> "StateTape":
        everything_before = np.iinfo(np.int64).min
        rows, ts = _rows_between(
            micros(table["timestamp"]), everything_before, day_start_us + US_PER_DAY
        )
        if isinstance(rows, slice):
            return cls(day_start_us, ts, table.slice(rows.start, rows.stop - rows.start))
        return cls(day_start_us, ts, table.take(pa.array(rows)))

    def values(self, name: str) -> np.ndarray:
        return floats(self.table[name])


def _last_before(ts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the last row stamped before each of ``ends`` (−1 when none)."""
    return np.searchsorted(ts, ends, side="left") - 1


def _last_in_bars(ts: np.ndarray, values: np.ndarray, edges: np.ndarray) -> Column:
    """Each bar's last non-null value (ties: the later row); invalid when the bar has none."""
    known = ~np.isnan(values)
    ts, values = ts[known], values[known]
    if not ts.size:
        return np.full(edges.size - 1, np.nan), np.zeros(edges.size - 1, dtype=bool)
    last = _last_before(ts, edges[1:])
    row = np.maximum(last, 0)
    valid = (last >= 0) & (ts[row] >= edges[:-1])
    return np.where(valid, values[row], np.nan), valid


def ticker_columns(tape: StateTape, seconds: int) -> dict[str, Column]:
    """Derivative ticker values for every bar of ``seconds`` (see module docstring)."""
    edges = bar_edges(tape.day_start_us, seconds)
    columns = {name: _last_in_bars(tape.ts, tape.values(name), edges) for name in TICKER_VALUES}
    interest = tape.values("open_interest")
    known = ~np.isnan(interest)
    columns["open_interest"] = _last_in_bars(tape.ts, interest, edges)
    previous = np.full(edges.size - 1, np.nan)
    if known.any():
        before = _last_before(tape.ts[known], edges[:-1])
        previous = np.where(before >= 0, interest[known][np.maximum(before, 0)], np.nan)
    change = columns["open_interest"][0] - previous
    columns["open_interest_change"] = (change, ~np.isnan(change))
    mark, index = columns["mark_price"][0], columns["index_price"][0]
    with np.errstate(invalid="ignore", divide="ignore"):
        basis = (mark - index) / index
    columns["basis"] = (basis, np.isfinite(basis))
    return columns


@dataclass(frozen=True)
class BookMeasures:
    """Per snapshot: the quantities the book columns report (NaN where undefined)."""

    best_bid: np.ndarray
    best_ask: np.ndarray
    mid: np.ndarray
    spread_bps: np.ndarray
    microprice: np.ndarray
    bid_depth: np.ndarray
    ask_depth: np.ndarray
    imbalance: np.ndarray

    @classmethod
    def of(cls, tape: StateTape) -> "BookMeasures":
        bid, ask = tape.values("bids[0].price"), tape.values("asks[0].price")
        bid_amount, ask_amount = tape.values("bids[0].amount"), tape.values("asks[0].amount")
        bid_depth = sum(
            np.nan_to_num(tape.values(f"bids[{level}].amount")) for level in range(BOOK_LEVELS)
        )
        ask_depth = sum(
            np.nan_to_num(tape.values(f"asks[{level}].amount")) for level in range(BOOK_LEVELS)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            mid = (bid + ask) / 2
            return cls(
                best_bid=bid,
                best_ask=ask,
                mid=mid,
                spread_bps=(ask - bid) / mid * 10_000,
                microprice=(bid * ask_amount + ask * bid_amount) / (bid_amount + ask_amount),
                bid_depth=np.asarray(bid_depth, dtype=np.float64),
                ask_depth=np.asarray(ask_depth, dtype=np.float64),
                imbalance=(bid_depth - ask_depth) / (bid_depth + ask_depth),
            )


def _time_weighted(ts: np.ndarray, values: np.ndarray, edges: np.ndarray) -> Column:
    """Each bar's time-weighted mean of a step function that takes ``values[i]`` from
    ``ts[i]`` until the next row; stretches where it is undefined (before the first row,
    NaN values) carry no weight. Invalid when the whole bar is undefined."""
    if not ts.size:
        nothing = np.full(edges.size - 1, np.nan)
        return nothing, np.zeros(edges.size - 1, dtype=bool)
    origin = edges[0]
    # Integrate in seconds from the day's start: small numbers, no precision lost.
    at = (ts - origin) / US_PER_SECOND
    known = ~np.isnan(values)
    level = np.where(known, values, 0.0)
    widths = np.diff(at)
    area = np.concatenate(([0.0], np.cumsum(level[:-1] * widths)))
    cover = np.concatenate(([0.0], np.cumsum(known[:-1] * widths)))

    def integral(cumulative: np.ndarray, step: np.ndarray, points: np.ndarray) -> np.ndarray:
        row = np.searchsorted(at, points, side="right") - 1
        inside = row >= 0
        safe = np.maximum(row, 0)
        return np.where(inside, cumulative[safe] + step[safe] * (points - at[safe]), 0.0)

    points = (edges - origin) / US_PER_SECOND
    weighted = np.diff(integral(area, level, points))
    covered = np.diff(integral(cover, known.astype(np.float64), points))
    valid = covered > 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, weighted / covered, np.nan), valid


def book_columns(tape: StateTape, seconds: int) -> dict[str, Column]:
    """Book state at each bar's close and time-weighted spread and imbalance."""
    edges = bar_edges(tape.day_start_us, seconds)
    measures = BookMeasures.of(tape)
    last = _last_before(tape.ts, edges[1:])
    has_book = last >= 0
    row = np.maximum(last, 0)

    def at_close(values: np.ndarray) -> Column:
        if not values.size:
            return np.full(last.size, np.nan), np.zeros(last.size, dtype=bool)
        picked = np.where(has_book, values[row], np.nan)
        return picked, ~np.isnan(picked)

    return {
        "best_bid": at_close(measures.best_bid),
        "best_ask": at_close(measures.best_ask),
        "mid": at_close(measures.mid),
        "spread_bps": at_close(measures.spread_bps),
        "microprice": at_close(measures.microprice),
        "bid_depth_5": at_close(measures.bid_depth),
        "ask_depth_5": at_close(measures.ask_depth),
        "imbalance_5": at_close(measures.imbalance),
        "spread_bps_tw": _time_weighted(tape.ts, measures.spread_bps, edges),
        "imbalance_5_tw": _time_weighted(tape.ts, measures.imbalance, edges),
    }


def null_columns(fields: dict[str, pa.DataType], bars: int) -> dict[str, Column]:
    """Columns that do not apply to an instrument: all null."""
    return {name: (np.zeros(bars), np.zeros(bars, dtype=bool)) for name in fields}


def to_arrow(column: Column, arrow_type: pa.DataType) -> pa.Array:
    """A (values, validity) column as an Arrow array of ``arrow_type``."""
    values, valid = column
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    if pa.types.is_timestamp(arrow_type):
        return pa.array(values.astype(np.int64), type=pa.int64(), mask=mask).cast(arrow_type)
    if mask is not None:
        values = np.where(mask, 0, values)
    return pa.array(values, type=arrow_type, mask=mask)

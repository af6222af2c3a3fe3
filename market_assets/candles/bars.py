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

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.columns import TIMESTAMP

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
SIDES = ("buy", "sell", "unknown")
BOOK_LEVELS = 5
# The finest timeframe: every bar edge of every timeframe lies on its grid.
GRID_SECONDS = 15

TICKER_VALUES = ("funding_rate", "predicted_funding_rate", "mark_price", "index_price")

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


def bar_edges(day_start_us: int, seconds: int, span_us: int = US_PER_DAY) -> np.ndarray:
    """The ``n + 1`` edges (µs) of the day's ``n`` bars of ``seconds``; ``span_us`` shorter
    than a day lays only the bars of that window (the live service's closing bar)."""
    if US_PER_DAY % (seconds * US_PER_SECOND) or span_us % (seconds * US_PER_SECOND):
        raise ValueError(f"a {seconds} s timeframe does not divide a day (or {span_us} µs)")
    return day_start_us + np.arange(0, span_us + 1, seconds * US_PER_SECOND, dtype=np.int64)


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


def rows_between(ts: np.ndarray, start: int, end: int) -> tuple[np.ndarray | slice, np.ndarray]:
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

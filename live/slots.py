"""One instrument's live ticks held in 15-second slots until every bar that needs them has
closed. Pure (numpy, pyarrow).

A tick goes to the slot of its exchange timestamp, in arrival order. Slot order then
arrival order, stably sorted by exchange time, is the batch code's order (exchange time,
ties in source order): equal timestamps always share a slot. A closed slot becomes one
Arrow table in the candles' input columns, so a bar of any timeframe is the
concatenation of its slots' tables.

State rows (derivative ticker, book) also matter after their slot: the book at a close is
the last snapshot before it, an open-interest change compares with the last value before
the bar. ``carry`` keeps exactly the rows that can still matter: the last row, and for
each column the last row where it is set (not null).
"""

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import BOOK_INPUT, SIDES, TICKER_INPUT, TRADE_INPUT, micros
from market_assets.columns import TIMESTAMP

# Live data type -> (the candles' input name, the columns it is read with).
INPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "trades": ("trades", TRADE_INPUT),
    "liquidations": ("liquidations", TRADE_INPUT),
    "derivative_ticker": ("derivative_ticker", TICKER_INPUT),
    "book_snapshot_5": ("book", BOOK_INPUT),
}
STATE_INPUTS = ("derivative_ticker", "book")
TIME_COLUMNS = frozenset({"timestamp", "local_timestamp"})
SIDE_CODE = {side: code for code, side in enumerate(SIDES)}
CHUNK_ROWS = 1_024


def input_schema(columns: tuple[str, ...]) -> pa.Schema:
    """The Arrow schema of an input's rows: times as µs UTC, the side as text, the rest
    float64."""
    return pa.schema(
        [
            pa.field(
                name,
                TIMESTAMP
                if name in TIME_COLUMNS
                else pa.string()
                if name == "side"
                else pa.float64(),
            )
            for name in columns
        ]
    )


class SlotRows:
    """The ticks of one input in one slot, column by column, in arrival order."""

    __slots__ = ("batches", "columns", "count", "schema", "values")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.schema = input_schema(columns)
        self.values: list[list[object]] = [[] for _ in columns]
        # Every ``CHUNK_ROWS`` ticks become an Arrow batch as they come: closing a busy
        # slot then converts only the last few, not a slot's worth at once.
        self.batches: list[pa.RecordBatch] = []
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def append(self, row: dict[str, object]) -> None:
        for values, name in zip(self.values, self.columns, strict=True):
            values.append(row.get(name))
        self.count += 1
        if len(self.values[0]) >= CHUNK_ROWS:
            self.batches.append(self._batch())

    def table(self) -> pa.Table:
        batches = [*self.batches, self._batch()] if self.values[0] else self.batches
        return pa.Table.from_batches(batches, schema=self.schema)

    def _batch(self) -> pa.RecordBatch:
        arrays = []
        for values, field in zip(self.values, self.schema, strict=True):
            if pa.types.is_timestamp(field.type):
                arrays.append(pa.array(values, pa.int64()).cast(field.type))
            else:
                arrays.append(pa.array(values, field.type))
        self.values = [[] for _ in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def carry(table: pa.Table) -> pa.Table:
    """The rows of a state table that a later bar can still read (module docstring), in
    exchange-time order, ties in their original order."""
    if table.num_rows <= 1:
        return table
    ts = micros(table["timestamp"])
    order = np.arange(ts.size) if bool(np.all(ts[1:] >= ts[:-1])) else np.argsort(ts, kind="stable")
    keep = {ts.size - 1}  # positions in ``order``
    for name in table.column_names:
        column = table[name]
        if name == "timestamp" or not column.null_count:
            continue  # the last row has it
        known = np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False)[order])
        if known.size:
            keep.add(int(known[-1]))
    return table.take(pa.array(order[sorted(keep)]))

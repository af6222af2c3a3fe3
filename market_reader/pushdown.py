"""Which row groups and rows of a file a read needs, from time intervals and instruments.

Pure: numpy and pyarrow. Times are int64 µs since the epoch, UTC. A row group is read
when its ``timestamp`` statistics (min, max) meet an interval and, when instruments are
asked for, its ``instrument_key`` statistics can hold one of them; a row group without
statistics is read. This is the time filter pushed down to row groups; choosing groups
here (rather than handing pyarrow an expression) keeps a read of thousands of windows to
one search per row group.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TIME = "timestamp"
KEY = "instrument_key"


@dataclass(frozen=True)
class Intervals:
    """Disjoint intervals [start, end) of µs since the epoch, sorted."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def union(
        cls, starts: Sequence[int] | np.ndarray, ends: Sequence[int] | np.ndarray
    ) -> "Intervals":
        """The union of the intervals [starts[i], ends[i]), overlapping ones joined."""
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], np.maximum.accumulate(ends[order])
        # A new interval starts where the next start is past every end before it.
        first = np.ones(len(starts), dtype=bool)
        first[1:] = starts[1:] > ends[:-1]
        last = np.roll(first, -1)
        if len(last):
            last[-1] = True
        return cls(starts[first], ends[last])

    def meets(self, low: int, high: int) -> bool:
        """Whether some interval holds a time in [low, high] (a row group's min and max)."""
        index = int(np.searchsorted(self.ends, low, side="right"))
        return index < len(self.starts) and int(self.starts[index]) <= high

    def holds(self, times: np.ndarray) -> np.ndarray:
        """A mask of the ``times`` inside some interval."""
        index = np.searchsorted(self.starts, times, side="right") - 1
        # Index -1 (before every interval) reads ends[0], then fails the first test.
        return (index >= 0) & (times < self.ends[np.maximum(index, 0)])


def row_groups(
    metadata: pq.FileMetaData, intervals: Intervals, keys: Sequence[str] | None = None
) -> list[int]:
    """The row groups of a file that may hold a row stamped inside ``intervals`` and, when
    ``keys`` is given, of one of those instruments."""
    names = [metadata.schema.column(j).path for j in range(metadata.num_columns)]
    time_column, key_column = names.index(TIME), names.index(KEY) if KEY in names else None
    scale = _to_micros(metadata.schema.column(time_column).logical_type.to_json())
    wanted = sorted(keys) if keys else None
    chosen = []
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        bounds = _bounds(row_group.column(time_column), raw=True)
        if bounds is not None and not intervals.meets(*(scale(int(b)) for b in bounds)):
            continue
        if wanted and key_column is not None:
            key_bounds = _bounds(row_group.column(key_column))
            if key_bounds is not None and not _any_between(wanted, *key_bounds):
                continue
        chosen.append(group)
    return chosen


def rows_inside(
    table: pa.Table, intervals: Intervals | None, keys: Sequence[str] | None
) -> pa.Table:
    """The rows of ``table`` stamped inside ``intervals`` (every row when None) and of
    ``keys`` (every instrument when None), in order."""
    mask = (
        np.ones(table.num_rows, dtype=bool) if intervals is None else intervals.holds(stamps(table))
    )
    if keys:
        mask &= pc.is_in(table.column(KEY), value_set=pa.array(list(keys))).to_numpy(
            zero_copy_only=False
        )
    return table if mask.all() else table.filter(pa.array(mask))


def stamps(table: pa.Table) -> np.ndarray:
    """The ``timestamp`` column as int64 µs since the epoch."""
    column = table.column(TIME).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return column.to_numpy()


def assign(
    times: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, window numbers): for window i in order, the positions of the
    ``times`` in [starts[i], ends[i]), in their original order. Windows may overlap: a row
    in two windows is listed in both."""
    # Only the rows inside some window are sorted: a read's row groups hold many more.
    inside = np.flatnonzero(Intervals.union(starts, ends).holds(times))
    order = inside[np.argsort(times[inside], kind="stable")]
    ordered = times[order]
    low = np.searchsorted(ordered, starts, side="left")
    high = np.searchsorted(ordered, ends, side="left")
    counts = np.maximum(high - low, 0)
    if not counts.sum():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    # Each window's rows come sorted by time; sorting positions restores file and source order.
    positions = np.concatenate(
        [np.sort(order[a:b]) for a, b in zip(low, high, strict=True) if b > a]
    )
    return positions.astype(np.int64), np.repeat(np.arange(len(starts)), counts)


def _bounds(chunk: pq.ColumnChunkMetaData, raw: bool = False) -> tuple[Any, Any] | None:
    """A column chunk's (min, max) statistics; ``raw``: as stored (int64 for times, which
    pyarrow would otherwise turn into datetimes through pandas)."""
    statistics = chunk.statistics
    if statistics is None or not statistics.has_min_max:
        return None
    if raw:
        return statistics.min_raw, statistics.max_raw
    return statistics.min, statistics.max


def _to_micros(logical_type: str) -> Callable[[int], int]:
    """Stored timestamps of the Parquet ``logical_type`` (JSON) to µs since the epoch."""
    unit = json.loads(logical_type).get("timeUnit", "microseconds")
    if unit == "milliseconds":
        return lambda value: value * 1_000
    if unit == "nanoseconds":
        return lambda value: value // 1_000
    return lambda value: value


def _any_between(keys: list[str], low: object, high: object) -> bool:
    """Whether one of the sorted ``keys`` lies in [low, high]."""
    low, high = _text(low), _text(high)
    index = int(np.searchsorted(np.array(keys, dtype=object), low, side="left"))
    return index < len(keys) and keys[index] <= high


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

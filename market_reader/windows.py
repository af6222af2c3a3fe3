"""Sparse reads: the rows of one instrument around many times, in one call.

A backtest asks for short windows around thousands of signal times. Their union decides
which files to open (ticks: the day window of each window) and which row groups to read;
each file is opened, and each row group read, once for all the windows; then every row
is given to the windows it falls in by a binary search over the sorted window bounds.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from market_assets.columns import TIMESTAMP
from market_assets.ticks.columns import TICK_DATASETS
from market_reader.layout import candle_asset
from market_reader.pushdown import Intervals, assign, stamps
from market_reader.scan import open_sources
from market_reader.sources import bar_sources, tick_sources
from market_reader.times import EPOCH, duration, many_micros
from resources.lake import ParquetLake

US_PER_DAY = 86_400 * 1_000_000
WINDOW = "window"


def read_windows(
    store: ParquetLake,
    instrument_key: str,
    data_type_or_timeframe: str,
    times: Any,
    before: Any,
    after: Any,
    columns: Sequence[str] | None,
) -> pa.Table:
    """The rows of ``instrument_key`` in [t − before, t + after) for every time t, with t
    as the ``window`` column (UTC), sorted by window, then file and source order."""
    centres = np.unique(many_micros(times))
    if not len(centres):
        raise ValueError("times is empty: pass at least one time")
    starts = centres - duration(before, "before")
    ends = centres + duration(after, "after")
    if not (ends > starts).all():
        raise ValueError("before + after is zero: every window would be empty")
    ranges = _day_spans(starts, ends)
    if data_type_or_timeframe in TICK_DATASETS:
        asset, sources, keys = tick_sources(data_type_or_timeframe, instrument_key, ranges)
    else:
        asset = candle_asset(data_type_or_timeframe)
        sources, keys = bar_sources(asset, [instrument_key], ranges), [instrument_key]
    opened = open_sources(store, sources)
    # Not cut to the windows here: ``assign`` picks each window's rows by time anyway.
    union = Intervals.union(starts, ends)
    table = opened.read(union, keys, opened.columns(columns, asset), exact=False)
    positions, numbers = assign(stamps(table), starts, ends)
    chosen = table.take(pa.array(positions, type=pa.int64()))
    window = pa.array(centres[numbers], type=pa.int64()).cast(TIMESTAMP)
    return chosen.add_column(0, pa.field(WINDOW, TIMESTAMP, nullable=False), window)


def _day_spans(starts: np.ndarray, ends: np.ndarray) -> list[tuple[datetime, datetime]]:
    """One window (as aware datetimes) per distinct (first day, last day) the windows
    span: they touch the same files, so the day window is asked once for each."""
    days = np.stack([starts // US_PER_DAY, (ends - 1) // US_PER_DAY], axis=1)
    _, first = np.unique(days, axis=0, return_index=True)
    return [(_moment(starts[i]), _moment(ends[i])) for i in sorted(first)]


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))

"""One instrument's candle history laid on the full grid of its bars. Pure (numpy, pyarrow).

The grid runs from the first bar of the look-back to the last bar of the day; a bar the
lake has no candle for (a missing day) is unavailable and cuts the history in two: a
run of consecutive available bars is what every window stands on.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.candles.bars import US_PER_SECOND, micros

# Candle columns the features read, as float64 with NaN for nulls.
INPUTS = (
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
    "liquidation_buy_volume",
    "liquidation_sell_volume",
    "funding_rate",
    "open_interest",
    "basis",
    "spread_bps",
    "imbalance_5",
    "microprice",
    "mid",
    "atm_iv",
    "risk_reversal_25d",
)
# Ticker values persist between updates: the last one known at a close is in force.
CARRIED = ("funding_rate", "open_interest", "basis")


@dataclass(frozen=True)
class Grid:
    """Every bar from ``start_us`` on, ``seconds`` long, ``size`` of them."""

    start_us: int
    seconds: int
    size: int

    @property
    def bar_us(self) -> int:
        return self.seconds * US_PER_SECOND

    def opens_us(self) -> np.ndarray:
        return self.start_us + np.arange(self.size, dtype=np.int64) * self.bar_us


@dataclass(frozen=True)
class History:
    """One instrument's bars on a grid; arrays are grid-long, NaN where unavailable.

    ``open``/``high``/``low``/``close`` are carried forward over bars without trades
    within a run (NaN before the run's first trade); ticker values are carried forward
    within a run; volumes and counts are as the candles say (0 on an empty bar).
    """

    grid: Grid
    available: np.ndarray  # bool
    history_bars: np.ndarray  # int64, 0 where unavailable
    price_bars: np.ndarray  # int64, bars since the run's first trade (0 before it)
    run_start: np.ndarray  # int64 grid index of the run each bar belongs to, -1 if none
    bars_since_trade: np.ndarray  # float64, NaN before the run's first trade
    timestamp_out_us: np.ndarray  # int64, -1 where the bar had no trade
    values: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @classmethod
    def of(cls, rows: "InstrumentRows", grid: Grid) -> "History":
        """One instrument's candle ``rows`` (any order, any days, already on ``grid``) laid
        on ``grid``."""
        position = rows.position
        available = np.zeros(grid.size, dtype=bool)
        available[position] = True
        raw = {}
        for name in INPUTS:
            column = np.full(grid.size, np.nan)
            column[position] = rows.values[name]
            raw[name] = column
        out = np.full(grid.size, -1, dtype=np.int64)
        out[position] = rows.timestamp_out_us
        index = np.arange(grid.size, dtype=np.int64)
        starts = available & ~np.concatenate([[False], available[:-1]])
        run_start = np.where(available, np.maximum.accumulate(np.where(starts, index, -1)), -1)
        history_bars = np.where(available, index - run_start + 1, 0)
        traded = available & (np.nan_to_num(raw["trade_count"]) > 0)
        last_trade = carried_index(traded, run_start)
        values = dict(raw)
        close = take_carried(raw["close"], last_trade)
        for name in ("open", "high", "low", "close"):
            values[name] = np.where(traded, raw[name], close)
        for name in CARRIED:
            values[name] = take_carried(raw[name], carried_index(~np.isnan(raw[name]), run_start))
        first_trade = np.where(
            run_start >= 0, _first_at_or_after(traded, np.maximum(run_start, 0)), grid.size
        )
        price_bars = np.where(index >= first_trade, index - first_trade + 1, 0)
        return cls(
            grid=grid,
            available=available,
            history_bars=history_bars,
            price_bars=price_bars,
            run_start=run_start,
            bars_since_trade=np.where(last_trade >= 0, index - last_trade, np.nan),
            timestamp_out_us=out,
            values=values,
        )

    def since(self, start: int) -> "History":
        """The same bars from grid index ``start`` on, as views: for windows that reach no
        further back than ``start`` (``runs`` of the result begin at ``start`` at most)."""
        grid = self.grid
        return History(
            grid=Grid(grid.start_us + start * grid.bar_us, grid.seconds, grid.size - start),
            available=self.available[start:],
            history_bars=self.history_bars[start:],
            price_bars=self.price_bars[start:],
            run_start=self.run_start[start:],
            bars_since_trade=self.bars_since_trade[start:],
            timestamp_out_us=self.timestamp_out_us[start:],
            values={name: values[start:] for name, values in self.values.items()},
        )

    def runs(self) -> list[slice]:
        """The runs of consecutive available bars, as grid slices."""
        starts = np.flatnonzero(self.history_bars == 1)
        ends = np.flatnonzero(self.available & ~np.concatenate([self.available[1:], [False]]))
        return [slice(int(a), int(b) + 1) for a, b in zip(starts, ends, strict=True)]


def carried_index(valid: np.ndarray, run_start: np.ndarray) -> np.ndarray:
    """Per bar, the index of the latest bar at or before it where ``valid`` holds, within
    the same run; -1 where there is none."""
    index = np.arange(valid.size, dtype=np.int64)
    latest = np.maximum.accumulate(np.where(valid, index, -1))
    return np.where((latest >= run_start) & (run_start >= 0), latest, -1)


def _first_at_or_after(valid: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per element, the first index at or after ``start`` where ``valid`` holds (the size
    of the array where there is none)."""
    index = np.arange(valid.size, dtype=np.int64)
    following = np.where(valid, index, valid.size)
    nearest = np.minimum.accumulate(following[::-1])[::-1]
    return nearest[start]


def take_carried(values: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``values`` taken at ``source`` indexes (NaN where the index is -1)."""
    return np.where(source >= 0, values[np.maximum(source, 0)], np.nan)


@dataclass(frozen=True)
class InstrumentRows:
    """One instrument's candle rows on a grid: each row's grid index, its ``INPUTS`` as
    float64 (NaN for null) and its ``timestamp_out`` in µs (-1 for null)."""

    position: np.ndarray
    values: dict[str, np.ndarray]
    timestamp_out_us: np.ndarray


@dataclass(frozen=True)
class LookBack:
    """A look-back's candle table on a grid, as arrays: each column read out of Arrow once
    for every instrument, then taken instrument by instrument (no filtering of the table
    per instrument). Rows outside the grid are left out."""

    grid: Grid
    keys: np.ndarray  # int32 index into ``instruments`` per row, -1 for other instruments
    position: np.ndarray
    columns: dict[str, np.ndarray]
    timestamp_out_us: np.ndarray
    instruments: list[str]

    @classmethod
    def of(cls, candles: pa.Table, grid: Grid, first_bar: int) -> "LookBack":
        """``candles`` (``INPUTS``, ``instrument_key``, ``timestamp``, ``timestamp_out``)
        on ``grid``; its instruments are those with a row at grid index ``first_bar`` or
        later, sorted."""
        position = (micros(candles["timestamp"]) - grid.start_us) // grid.bar_us
        inside = (position >= 0) & (position < grid.size)
        key_column = candles["instrument_key"]
        recent = pc.filter(key_column, pa.array(inside & (position >= first_bar)))
        instruments = sorted(set(pc.unique(recent).to_pylist()))
        keys = pc.index_in(key_column, value_set=pa.array(instruments, key_column.type))
        codes = keys.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        codes[~inside] = -1
        stamps = candles["timestamp_out"]
        out = micros(stamps.fill_null(pa.scalar(-1, pa.int64()).cast(stamps.type)))
        return cls(
            grid=grid,
            keys=codes,
            position=position,
            columns={name: _floats(candles[name]) for name in INPUTS},
            timestamp_out_us=out,
            instruments=instruments,
        )

    def rows(self, number: int) -> InstrumentRows:
        """The rows of ``instruments[number]``, in table order."""
        rows = np.flatnonzero(self.keys == number)
        return InstrumentRows(
            position=self.position[rows],
            values={name: values[rows] for name, values in self.columns.items()},
            timestamp_out_us=self.timestamp_out_us[rows],
        )


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64, NaN for nulls, in one conversion."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)

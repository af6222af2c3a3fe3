"""One instrument's candle history laid on the full grid of its bars. Pure (numpy, pyarrow).

The grid runs from the first bar of the look-back to the last bar of the day; a bar the
lake has no candle for (a missing day) is unavailable and cuts the history in two: a
run of consecutive available bars is what every window stands on.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.candles.bars import US_PER_SECOND, floats, micros

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
    def of(cls, candles: pa.Table, grid: Grid) -> "History":
        """``candles`` of one instrument (any order, any days) on ``grid``; rows outside
        the grid are left out."""
        opens = micros(candles["timestamp"])
        position = (opens - grid.start_us) // grid.bar_us
        inside = (position >= 0) & (position < grid.size)
        position = position[inside]
        available = np.zeros(grid.size, dtype=bool)
        available[position] = True
        raw = {}
        for name in INPUTS:
            column = np.full(grid.size, np.nan)
            column[position] = floats(candles[name])[inside]
            raw[name] = column
        out = np.full(grid.size, -1, dtype=np.int64)
        stamps = candles["timestamp_out"]
        out[position] = micros(stamps.fill_null(pa.scalar(-1, pa.int64()).cast(stamps.type)))[
            inside
        ]
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


def instrument_rows(candles: pa.Table, key: str) -> pa.Table:
    """The rows of one instrument."""
    return candles.filter(pc.equal(candles["instrument_key"], key))

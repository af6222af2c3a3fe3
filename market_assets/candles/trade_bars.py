"""Trade and liquidation features: a day's trades as a tape in bar order, reduced per bar
(semantics: the ``market_assets.candles.bars`` docstring)."""

import math
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import (
    SIDES,
    US_PER_DAY,
    Column,
    bar_edges,
    floats,
    micros,
    rows_between,
    side_codes,
)

# Below this many rows a tape is read in this thread: threads would cost more.
PARALLEL_ROWS = 100_000


@dataclass(frozen=True)
class TradeTape:
    """One instrument's trades (or liquidations) of the day, in bar order."""

    day_start_us: int
    ts: np.ndarray
    local: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    side: np.ndarray  # index into SIDES
    span_us: int = US_PER_DAY  # the window the bars cover from day_start_us

    @classmethod
    def of_day(cls, table: pa.Table, day_start_us: int, span_us: int = US_PER_DAY) -> "TradeTape":
        """The rows of ``table`` (source order) stamped inside the day (or the ``span_us``
        window from ``day_start_us``), ordered by exchange time with ties in source order."""
        rows, ts = rows_between(micros(table["timestamp"]), day_start_us, day_start_us + span_us)
        readers = {
            "local": lambda: micros(table["local_timestamp"])[rows],
            "price": lambda: floats(table["price"])[rows],
            "amount": lambda: floats(table["amount"])[rows],
            "side": lambda: side_codes(table["side"])[rows],
        }
        if ts.size < PARALLEL_ROWS:
            taken = {name: read() for name, read in readers.items()}
        else:
            # Copies and gathers of a few million rows release the GIL: side by side.
            with ThreadPoolExecutor(min(len(readers), os.cpu_count() or 1)) as pool:
                taken = dict(
                    zip(readers, pool.map(lambda read: read(), readers.values()), strict=True)
                )
        return cls(day_start_us=day_start_us, ts=ts, **taken, span_us=span_us)

    def segments(self, seconds: int) -> tuple[np.ndarray, np.ndarray]:
        """Per bar of ``seconds``: (first row, row count)."""
        starts = np.searchsorted(self.ts, bar_edges(self.day_start_us, seconds, self.span_us))
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
        reductions and partitions release the GIL, so threads use every core. What folds
        exactly from finer bars into coarser ones (counts, extremes, integer sums) is
        reduced over the trades once, on the grid every timeframe's bars are made of."""
        timeframes = list(timeframes)
        if len(timeframes) < 2:
            return {seconds: self.columns(seconds) for seconds in timeframes}
        finest = self.extremes(math.gcd(*timeframes))
        with ThreadPoolExecutor(min(len(timeframes), os.cpu_count() or 1)) as pool:
            built = pool.map(lambda seconds: self.columns(seconds, finest), timeframes)
            return dict(zip(timeframes, built, strict=True))

    def extremes(self, seconds: int) -> "Extremes":
        """The exactly foldable features of every bar of ``seconds``."""
        tape = self.tape
        starts, counts = tape.segments(seconds)
        traded = counts > 0
        first = starts[traded]

        def reduced(
            ufunc: np.ufunc, values: np.ndarray, empty: float, dtype: type = np.float64
        ) -> np.ndarray:
            out = np.full(counts.size, empty, dtype=dtype)
            if first.size:
                out[traded] = ufunc.reduceat(values, first, dtype=dtype)
            return out

        delay = self.delay_us
        least, most = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        return Extremes(
            seconds=seconds,
            high=reduced(np.maximum, tape.price, -np.inf),
            low=reduced(np.minimum, tape.price, np.inf),
            max_trade_size=reduced(np.maximum, tape.amount, -np.inf),
            delay_min_us=reduced(np.minimum, delay, most, np.int64),
            delay_max_us=reduced(np.maximum, delay, least, np.int64),
            # Summed as integers: exact, whatever the order.
            delay_sum_us=reduced(np.add, delay, 0, np.int64),
            out_us=reduced(np.maximum, tape.local, least, np.int64),
            side_counts=tuple(reduced(np.add, mask, 0, np.int64) for mask in self.side_mask),
        )

    def columns(self, seconds: int, finer: "Extremes | None" = None) -> dict[str, Column]:
        """The trade columns for every bar of ``seconds`` (see module docstring); ``finer``:
        the extremes of a grid whose bars make up these (else reduced here)."""
        tape = self.tape
        starts, counts = tape.segments(seconds)
        bars = counts.size
        traded = counts > 0
        first = starts[traded]
        last = first + counts[traded] - 1
        extremes = (finer or self.extremes(seconds)).folded(seconds)

        def reduced(ufunc: np.ufunc, values: np.ndarray, empty: float = 0.0) -> np.ndarray:
            out = np.full(bars, empty, dtype=np.float64)
            if first.size:
                out[traded] = ufunc.reduceat(values, first)
            return out

        def at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
            out = np.full(bars, np.nan)
            out[traded] = values[rows]
            return out

        def where_traded(values: np.ndarray) -> np.ndarray:
            return np.where(traded, values, 0).astype(np.float64)

        volume = reduced(np.add, tape.amount)
        quote_volume = reduced(np.add, self.notional)
        delay_sum = np.where(traded, extremes.delay_sum_us, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vwap = quote_volume / volume
            mean_size = volume / counts
            delay_mean = delay_sum / counts / 1_000
        columns: dict[str, Column] = {
            "open": (at(tape.price, first), traded),
            "high": (where_traded(extremes.high), traded),
            "low": (where_traded(extremes.low), traded),
            "close": (at(tape.price, last), traded),
            "volume": (volume, None),
            "quote_volume": (quote_volume, None),
            "vwap": (vwap, traded),
            "trade_count": (counts.astype(np.int64), None),
        }
        for code, side in enumerate(SIDES):
            columns[f"{side}_volume"] = (reduced(np.add, self.side_amount[code]), None)
        for code, side in enumerate(SIDES):
            columns[f"{side}_count"] = (extremes.side_counts[code], None)
        columns |= {
            "mean_trade_size": (mean_size, traded),
            "max_trade_size": (where_traded(extremes.max_trade_size), traded),
            "delay_min_ms": (where_traded(extremes.delay_min_us) / 1_000, traded),
            "delay_median_ms": (self._median_delay_ms(first, counts[traded], bars, traded), traded),
            "delay_mean_ms": (delay_mean, traded),
            "delay_max_ms": (where_traded(extremes.delay_max_us) / 1_000, traded),
            "timestamp_out": (np.where(traded, extremes.out_us, 0), traded),
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


@dataclass(frozen=True)
class Extremes:
    """Per bar of a grid of ``seconds``, the trade features that fold exactly into coarser
    bars: extremes and integer sums (a bar without trades holds the fold's identity)."""

    seconds: int
    high: np.ndarray
    low: np.ndarray
    max_trade_size: np.ndarray
    delay_min_us: np.ndarray
    delay_max_us: np.ndarray
    delay_sum_us: np.ndarray
    out_us: np.ndarray
    side_counts: tuple[np.ndarray, ...]

    def folded(self, seconds: int) -> "Extremes":
        """The same for bars of ``seconds``, a multiple of this grid's that starts on it."""
        if seconds == self.seconds:
            return self
        if seconds % self.seconds:
            raise ValueError(f"{seconds} s bars are not made of {self.seconds} s bars")
        size = seconds // self.seconds

        def fold(values: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
            return ufunc.reduce(values.reshape(-1, size), axis=1)

        return Extremes(
            seconds=seconds,
            high=fold(self.high, np.maximum),
            low=fold(self.low, np.minimum),
            max_trade_size=fold(self.max_trade_size, np.maximum),
            delay_min_us=fold(self.delay_min_us, np.minimum),
            delay_max_us=fold(self.delay_max_us, np.maximum),
            delay_sum_us=fold(self.delay_sum_us, np.add),
            out_us=fold(self.out_us, np.maximum),
            side_counts=tuple(fold(counts, np.add) for counts in self.side_counts),
        )


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

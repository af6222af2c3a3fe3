"""Partial updates of open bars: the batch trade reductions of each micro-batch, folded
into a running bar. Pure (numpy).

A micro-batch's trades of one bar are reduced by ``TradeBars.columns`` (the batch code);
folding keeps what combines exactly: the first trade by exchange time (an earlier batch
wins ties, it arrived first), the last (a later batch wins ties), extremes, sums and
counts, so vwap, mean size and mean delay follow from the sums. The median delay does not
combine and stays None in a partial. A partial is a preview only: the closed bar is
recomputed by the batch function over all the bar's ticks.
"""

from dataclasses import dataclass, field

import numpy as np

from market_assets.candles.bars import SIDES, US_PER_SECOND, rows_between
from market_assets.candles.trade_bars import TradeBars, TradeTape

SUMS = ("volume", "quote_volume", *(f"{s}_volume" for s in SIDES), "trade_count")
COUNTS = tuple(f"{s}_count" for s in SIDES)
MAXIMA = ("high", "max_trade_size", "delay_max_ms", "timestamp_out")
MINIMA = ("low", "delay_min_ms")


@dataclass
class RunningBar:
    """The trade columns of one open bar so far."""

    start_us: int
    values: dict[str, float | int | None] = field(default_factory=dict)
    first_ts: int = 0
    last_ts: int = 0
    delay_sum_us: int = 0

    def fold(
        self,
        ts: np.ndarray,
        local: np.ndarray,
        price: np.ndarray,
        amount: np.ndarray,
        side: np.ndarray,
        bar_us: int,
    ) -> None:
        """Fold in a micro-batch of the bar's trades (arrival order)."""
        order, ts = rows_between(ts, self.start_us, self.start_us + bar_us)
        if not ts.size:
            return
        tape = TradeTape(
            self.start_us, ts, local[order], price[order], amount[order], side[order], bar_us
        )
        batch = {
            name: values[0].item()
            for name, (values, _) in TradeBars(tape).columns(bar_us // US_PER_SECOND).items()
        }
        delay_sum = int(np.sum(tape.local - tape.ts))
        first, last = int(ts[0]), int(ts[-1])
        old = self.values
        if not old:
            self.values = batch
            self.first_ts, self.last_ts, self.delay_sum_us = first, last, delay_sum
        else:
            for name in (*SUMS, *COUNTS):
                old[name] += batch[name]
            for name in MAXIMA:
                old[name] = max(old[name], batch[name])
            for name in MINIMA:
                old[name] = min(old[name], batch[name])
            if first < self.first_ts:
                old["open"], self.first_ts = batch["open"], first
            if last >= self.last_ts:
                old["close"], self.last_ts = batch["close"], last
            self.delay_sum_us += delay_sum
        values = self.values
        count = values["trade_count"]
        values["vwap"] = values["quote_volume"] / values["volume"] if values["volume"] else None
        values["mean_trade_size"] = values["volume"] / count
        values["delay_mean_ms"] = self.delay_sum_us / count / 1_000
        values["delay_median_ms"] = None
        values["timestamp_out"] = int(values["timestamp_out"])

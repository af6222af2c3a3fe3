"""Partial updates of open bars: a running fold of the bar's trades, one trade at a time.
Pure (standard library).

A partial is a preview of an open bar's trade columns, cheap enough to update on every
trade (a few additions and comparisons; no array work, so no per-call overhead of numpy
or Arrow on the event loop). It keeps what combines exactly with the batch semantics
(``market_assets.candles.bars``): the first trade by exchange time (the earlier arrival
wins ties, as the batch's stable sort keeps source order), the last (the later arrival
wins ties), extremes, sums and counts, so vwap, mean size and mean delay follow from the
sums. The median delay does not combine and stays None. The closed bar is never this
fold: it is the batch function over all the bar's ticks (``live.builder``); the fold
agrees with it on every column it carries (sums to rounding, as they add in arrival
order rather than exchange-time order).
"""

from market_assets.candles.bars import SIDES

SIDE_VOLUMES = tuple(f"{s}_volume" for s in SIDES)
SIDE_COUNTS = tuple(f"{s}_count" for s in SIDES)


class RunningBar:
    """The trade columns of one open bar so far."""

    __slots__ = (
        "close",
        "count",
        "delay_max",
        "delay_min",
        "delay_sum",
        "first_ts",
        "high",
        "last_ts",
        "low",
        "max_size",
        "open",
        "out_us",
        "quote_volume",
        "side_count",
        "side_volume",
        "start_us",
        "volume",
    )

    def __init__(self, start_us: int) -> None:
        self.start_us = start_us
        self.count = 0
        self.volume = self.quote_volume = 0.0
        self.side_volume = [0.0] * len(SIDES)
        self.side_count = [0] * len(SIDES)
        self.delay_sum = 0

    def add(self, ts: int, local: int, price: float, amount: float, side: int) -> None:
        """Fold in one trade of the bar (in arrival order)."""
        delay = local - ts
        if not self.count:
            self.first_ts = self.last_ts = ts
            self.open = self.close = self.high = self.low = price
            self.max_size = amount
            self.delay_min = self.delay_max = delay
            self.out_us = local
        else:
            if ts < self.first_ts:
                self.first_ts, self.open = ts, price
            if ts >= self.last_ts:
                self.last_ts, self.close = ts, price
            if price > self.high:
                self.high = price
            if price < self.low:
                self.low = price
            if amount > self.max_size:
                self.max_size = amount
            if delay < self.delay_min:
                self.delay_min = delay
            if delay > self.delay_max:
                self.delay_max = delay
            if local > self.out_us:
                self.out_us = local
        self.count += 1
        self.volume += amount
        self.quote_volume += price * amount
        self.side_volume[side] += amount
        self.side_count[side] += 1
        self.delay_sum += delay

    @property
    def values(self) -> dict[str, float | int | None]:
        """The candle trade columns of the bar so far (the batch code's names and units)."""
        count = self.count
        values: dict[str, float | int | None] = {
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "quote_volume": self.quote_volume,
            "vwap": self.quote_volume / self.volume if self.volume else None,
            "trade_count": count,
        }
        values |= dict(zip(SIDE_VOLUMES, self.side_volume, strict=True))
        values |= dict(zip(SIDE_COUNTS, self.side_count, strict=True))
        values |= {
            "mean_trade_size": self.volume / count,
            "max_trade_size": self.max_size,
            "delay_min_ms": self.delay_min / 1_000,
            "delay_median_ms": None,
            "delay_mean_ms": self.delay_sum / count / 1_000,
            "delay_max_ms": self.delay_max / 1_000,
            "timestamp_out": self.out_us,
        }
        return values

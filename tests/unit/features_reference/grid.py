"""One instrument's candles on the grid of bars the features read, as the specification
(``market_assets/features/columns.py``) lays it out, written without the implementation:

- the grid runs from midnight ``look_back_days(seconds)`` days before the day under test
  to the day's last bar; a bar without a candle row (a missing day) is unavailable;
- ``history_bars`` counts consecutive available bars up to the row, itself included;
  a missing day breaks the run and no window ever spans it; ``price_bars`` counts those
  since the run's first trade (0 before it);
- C, O, H, L are carried forward over bars without trades within the run (an empty
  bar's O = H = L = C = the last close); before the run's first trade there is no price;
- ticker values (funding rate, open interest, basis) are "the last value known at the
  close": carried forward over bars whose candle has none, within the run (the
  feature stands on the bars it carries from, so like a window it stops at a gap);
- book and option values are the candle's own (the candles already give the book at the
  close on every bar), never carried;
- volume and flow inputs are 0 on an empty bar (the candles say so);
- the recursions (Wilder averages, EMAs) run forward from the run's first trade, seeded
  with a simple mean, TA-Lib's conventions as the definitions state them.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

US = 1_000_000
DAY_US = 86_400 * US
LN2 = math.log(2)
HISTORY = "history short of the window"
NO_TRADE = "before the first trade of the run"
ABSENT = "input absent"
UNDEFINED = "zero denominator"
NAN = float("nan")


def look_back_days(seconds: int) -> int:
    """20 days (the same bar on each of 20 previous days), or enough days for 250 bars
    (the seed of an SMA-seeded EMA 26 then weighs (25/27)^224 < 1e-6)."""
    return max(20, math.ceil(250 / (86_400 // seconds)))


class Null(Exception):
    """A feature is null at this bar, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Bars:
    """One instrument on the grid: grid-long arrays, NaN where there is nothing."""

    seconds: int
    day_first: int  # grid index of the day's first bar
    opens_us: np.ndarray
    raw: dict[str, np.ndarray]  # the candle columns as floats (NaN: null or no row)
    history: np.ndarray = field(init=False)  # history_bars
    priced: np.ndarray = field(init=False)  # price_bars: of those, since the first trade
    price: dict[str, np.ndarray] = field(init=False)  # carried O, H, L, C
    state: dict[str, np.ndarray] = field(init=False)  # carried ticker values
    since: np.ndarray = field(init=False)  # bars since the last trade of the run
    r: np.ndarray = field(init=False)  # ln(C_t / C_{t−1}) within the run
    traded: np.ndarray = field(init=False)  # the bar has a trade
    signed: np.ndarray = field(init=False)  # (buy − sell) × vwap, 0 on an empty bar
    rec: dict[str, np.ndarray] = field(init=False)  # the recursive indicators

    @property
    def annual(self) -> float:
        """A = √(bars per 365-day year)."""
        return math.sqrt(365 * 86_400 / self.seconds)

    @property
    def per_day(self) -> int:
        return 86_400 // self.seconds

    def __post_init__(self) -> None:
        size = self.opens_us.size
        available = ~np.isnan(self.raw["trade_count"])
        traded = available & (np.nan_to_num(self.raw["trade_count"]) > 0)
        self.history = np.zeros(size, dtype=np.int64)
        self.priced = np.zeros(size, dtype=np.int64)
        self.price = {k: np.full(size, NAN) for k in ("open", "high", "low", "close")}
        self.state = {k: np.full(size, NAN) for k in ("funding_rate", "open_interest", "basis")}
        self.since = np.full(size, NAN)
        run, first_trade = 0, -1
        last_close, last_trade, last_state = NAN, -1, {}
        for t in range(size):
            if not available[t]:
                run = 0
                continue
            if run == 0:  # a new run: nothing is carried into it
                last_close, last_trade, last_state, first_trade = NAN, -1, {}, -1
            run += 1
            self.history[t] = run
            if traded[t]:
                last_close, last_trade = self.raw["close"][t], t
                first_trade = t if first_trade < 0 else first_trade
                for k in self.price:
                    self.price[k][t] = self.raw[k][t]
            else:
                for k in self.price:
                    self.price[k][t] = last_close
            for k in self.state:
                if not np.isnan(self.raw[k][t]):
                    last_state[k] = self.raw[k][t]
                self.state[k][t] = last_state.get(k, NAN)
            if last_trade >= 0:
                self.since[t] = t - last_trade
                self.priced[t] = t - first_trade + 1
        c = self.price["close"]
        self.r = np.full(size, NAN)
        for t in range(1, size):
            if self.history[t] >= 2:
                self.r[t] = math.log(c[t] / c[t - 1])  # NaN before the first trade
        # Signed dollar volume: 0 on an empty bar (no flow), NaN where no row.
        flow = (self.raw["buy_volume"] - self.raw["sell_volume"]) * self.raw["vwap"]
        self.signed = np.where(traded, flow, np.where(available, 0.0, NAN))
        self.traded = traded
        self.rec = recursions(self)

    def runs(self) -> list[tuple[int, int]]:
        """(first, end) grid indexes of each run of consecutive available bars."""
        out, first = [], -1
        for t, bars in enumerate([*self.history, 0]):
            if bars == 1:
                first = t
            elif bars == 0 and first >= 0:
                out.append((first, t))
                first = -1
        return out


def ema(x: np.ndarray, period: int, seed_at: int) -> np.ndarray:
    """EMA with α = 2 / (period + 1), seeded at ``seed_at`` with the mean of the
    ``period`` values ending there; NaN before."""
    out = np.full(x.size, NAN)
    if x.size <= seed_at:
        return out
    value = float(np.mean(x[seed_at - period + 1 : seed_at + 1]))
    out[seed_at] = value
    alpha = 2 / (period + 1)
    for i in range(seed_at + 1, x.size):
        value = value + alpha * (x[i] - value)
        out[i] = value
    return out


def wilder(x: np.ndarray, period: int, first: int) -> np.ndarray:
    """Wilder smoothing of ``x`` (defined from index ``first``): seeded at
    ``first + period − 1`` with the mean of the first ``period`` values, then
    ``avg = (avg × (period − 1) + x) / period``; NaN before."""
    out = np.full(x.size, NAN)
    seed_at = first + period - 1
    if x.size <= seed_at:
        return out
    value = float(np.mean(x[first : seed_at + 1]))
    out[seed_at] = value
    for i in range(seed_at + 1, x.size):
        value = (value * (period - 1) + x[i]) / period
        out[i] = value
    return out


def recursions(b: Bars) -> dict[str, np.ndarray]:
    """RSI's averages, MACD, ATR and EMAs, each run from the first trade of its run:
    its price history's index 0 is that first trade (TA-Lib's conventions)."""
    names = ("gain", "loss", "macd", "macd_signal", "macd_hist", "atr", "ema_12", "ema_26")
    out = {name: np.full(b.history.size, NAN) for name in names}
    for first, end in b.runs():
        closes = b.price["close"][first:end]
        if np.isnan(closes).all():
            continue
        f = first + int(np.argmax(~np.isnan(closes)))
        c, h, lo = (b.price[k][f:end] for k in ("close", "high", "low"))
        change = np.r_[NAN, np.diff(c)]  # change i is c_i − c_{i−1}, from i = 1
        out["gain"][f:end] = wilder(np.maximum(change, 0.0), 14, 1)
        out["loss"][f:end] = wilder(np.maximum(-change, 0.0), 14, 1)
        slow = ema(c, 26, 25)
        fast = ema(c, 12, 25)  # the fast EMA starts at the slow one's first bar
        macd = fast - slow  # from index 25
        signal = ema(np.nan_to_num(macd), 9, 33)  # seeded with macd[25..33]
        macd[:33] = NAN  # published with its signal, from index 33
        out["macd"][f:end], out["macd_signal"][f:end] = macd, signal
        out["macd_hist"][f:end] = macd - signal
        # True range from index 1 (it needs the previous close).
        prev = np.r_[NAN, c[:-1]]
        true_range = np.maximum(h, prev) - np.minimum(lo, prev)
        out["atr"][f:end] = wilder(true_range, 14, 1)
        out["ema_12"][f:end] = ema(c, 12, 11)
        out["ema_26"][f:end] = ema(c, 26, 25)
    return out


def w(values: np.ndarray, t: int, size: int, why: str) -> np.ndarray:
    """The ``size`` values ending at bar t; ``Null(why)`` if one is NaN."""
    window = values[t - size + 1 : t + 1]
    if np.isnan(window).any():
        raise Null(why)
    return window


def var(x: np.ndarray, ddof: int) -> float:
    """Variance, two-pass around the first value: a constant window is exactly 0."""
    d = x - x[0]
    return float(np.sum((d - d.mean()) ** 2) / (x.size - ddof))


def ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        raise Null(UNDEFINED)
    return numerator / denominator


def bars_of(rows: pd.DataFrame, grid_start: int, day_first: int, seconds: int) -> Bars:
    size = day_first + 86_400 // seconds
    opens = grid_start + np.arange(size, dtype=np.int64) * seconds * US
    frame = rows.set_index("timestamp").reindex(opens)  # no row: every column NaN
    raw = {name: frame[name].to_numpy(dtype=float) for name in frame.columns}
    return Bars(seconds, day_first, opens, raw)

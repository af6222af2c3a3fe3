"""A (day, venue)'s MFT features from its candles and those of the look-back days. Pure."""

import math

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import US_PER_DAY
from market_assets.columns import TIMESTAMP
from market_assets.features.columns import FEATURES, MFT, PRICE_FEATURES, WINDOWS
from market_assets.features.history import Grid, History, LookBack
from market_assets.features.indicators import (
    flow_features,
    funding_z,
    price_features,
    relative_volume,
    state_features,
    technicals,
)

SECONDS_PER_YEAR = 365 * 86_400
# The look-back holds at least this many bars before the day's first bar, so that the
# seed of a recursive indicator weighs less than 1e-6 by then: an EMA 26 seeded with the
# mean of its first 26 bars decays from bar 26 on, (25/27)^(250 − 26) ≈ 3e-8 (200 bars
# would leave 1.4e-6). Wilder's RSI forgets its seed only on bars where the price moves.
WARMUP_BARS = 250
# The longest windows counted in days: the same bar on each of the 20 previous days.
LOOKBACK_FLOOR_DAYS = 20
# Features computed over windows counted in bars (the rest: TA-Lib's recursions over the
# whole look-back, and the windows counted in days).
BAR_WINDOWED = tuple(
    name
    for name in WINDOWS
    if name
    not in (
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
        "atr_14",
        "bollinger_pct_b_20",
        "ema_12_gap",
        "ema_26_gap",
        "relative_volume_20d",
        "funding_rate_z_7d",
        "return_since_midnight",
        "cumulative_delta",
        "bars_since_trade",
    )
)


def lookback_days(seconds: int) -> int:
    """Days of candles before the day that a ``seconds`` timeframe's features read."""
    bars_per_day = 86_400 // seconds
    return max(LOOKBACK_FLOOR_DAYS, math.ceil(WARMUP_BARS / bars_per_day))


def day_features(candles: pa.Table, day_start_us: int, seconds: int) -> pa.Table:
    """The features of every instrument of the day, one row per bar of the day.

    ``candles``: rows of the ``CANDLES`` schema, any order, of the day (midnight
    ``day_start_us``, µs UTC) and any earlier days of the look-back; days without
    candles are missing bars. The day's instruments are those with candles on the day.
    Returns ``MFT`` rows sorted by instrument and bar.
    """
    days = lookback_days(seconds)
    bars_per_day = 86_400 // seconds
    grid = Grid(day_start_us - days * US_PER_DAY, seconds, (days + 1) * bars_per_day)
    look_back = LookBack.of(candles, grid, first_bar=days * bars_per_day)
    tables = [
        _instrument_features(History.of(look_back.rows(number), grid), key, days)
        for number, key in enumerate(look_back.instruments)
    ]
    return pa.concat_tables(tables) if tables else MFT.schema.empty_table()


def window_reach(bars_per_day: int) -> int:
    """Bars before a bar that the features computed over bar windows read (the longest
    declared window that counts bars, less the bar itself): they are computed over the
    day and that many bars before it, not over the whole look-back."""
    return max(WINDOWS[name](bars_per_day, 0) for name in BAR_WINDOWED) - 1


def _instrument_features(history: History, key: str, days: int) -> pa.Table:
    grid = history.grid
    bars_per_day = 86_400 // grid.seconds
    annual = math.sqrt(SECONDS_PER_YEAR / grid.seconds)
    first = days * bars_per_day
    recent = history.since(max(first - window_reach(bars_per_day), 0))
    prices = price_features(recent, annual)
    r = prices.pop("_r")
    reach = WINDOWS["funding_rate_z_7d"](bars_per_day, 0) - 1
    computed = {
        **prices,
        **technicals(history),
        **flow_features(recent, r),
        "relative_volume_20d": relative_volume(history, bars_per_day),
        **state_features(recent, prices["realized_vol_20"]),
        "funding_rate_z_7d": funding_z(history.since(max(first - reach, 0)), bars_per_day),
        "bars_since_trade": history.bars_since_trade,
    }
    day = slice(first, first + bars_per_day)
    index_in_day = np.arange(bars_per_day)
    close = history["close"][day]
    computed["return_since_midnight"] = np.log(close) - np.log(history["close"][day.start - 1])
    # The day's bars are all in the day's candles: its running sum needs nothing earlier.
    computed["cumulative_delta"] = np.cumsum(
        np.nan_to_num(history["buy_volume"][day] - history["sell_volume"][day])
    )
    stands_on = history.history_bars[day]
    priced = history.price_bars[day]
    columns: dict[str, pa.Array] = {}
    for column, _ in FEATURES:
        # Every array ends with the day's last bar, whatever bar it starts at.
        values = np.asarray(computed[column.name], dtype=np.float64)[-bars_per_day:]
        needed = np.broadcast_to(WINDOWS[column.name](bars_per_day, index_in_day), (bars_per_day,))
        enough = np.minimum(stands_on, priced) if column.name in PRICE_FEATURES else stands_on
        keep = (enough >= needed) & np.isfinite(values)
        columns[column.name] = pa.array(values, pa.float64(), mask=~keep)
    opens = grid.opens_us()[day]
    out = history.timestamp_out_us[day]
    known_at = np.maximum(opens + grid.bar_us, out)
    return pa.Table.from_arrays(
        [
            pa.array([key] * bars_per_day, pa.string()),
            pa.array(opens, pa.int64()).cast(TIMESTAMP),
            pa.array(known_at, pa.int64()).cast(TIMESTAMP),
            pa.array(stands_on, pa.int64()),
            pa.array(priced, pa.int64()),
            *columns.values(),
        ],
        schema=MFT.schema,
    )

"""Benchmark: the MFT features of one venue-day, all six timeframes, ours against polars.

A lake of generated candles is written once with the lake writer: 10 perpetuals of
binance-futures on 2024-03-01 with every feature timeframe's look-back (the product's
``lookback_days``: 20 days for 1m to 1h, 42 for 4h, 250 for 1d), each timeframe
aggregated from the same one-minute path: random-walk closes, consistent OHLC and vwap,
bars without trades, buy and sell volumes, liquidations, funding, open interest and basis
with gaps, the book at the close, options for two. One instrument lists 3 days before
the day, one trades in 40% of its minutes, one halts for hours (on the day too). Then each
contender runs in its own fresh process, taking turns, best of ``--repeat`` kept:

- cli: what a user runs, ``dagster asset materialize -m market_assets --select
  'group:features' --partition '2024-03-01|binance-futures'`` (six assets and their 30
  blocking checks, the features landed in the lake), on a SQLite instance of its own;
- cli_fixed_cost: the same command on the same lake and venue for 2022-06-01, whose
  candles hold one instrument and no look-back: Dagster's start-up, the run and every
  step with next to no data. ``cli`` is reported net of it, in total (wall time) and per
  timeframe (the asset's and its five checks' step times, from the run's log);
- in_process: the asset's own work alone, ``DayRange.read()`` of the look-back and
  ``day_features``, per timeframe;
- polars: polars computing the same features by the same definitions (carry-forward
  within runs of bars, the six volatility estimators, Wilder and EMA recursions seeded
  with an SMA per run where TA-Lib seeds them, nulls for short windows, ...) from
  ``scan_parquet`` of the same files (its in-memory engine: its streaming one took 3.7×
  as long here), writing the day's rows to Parquet.

Then polars' output is compared with the features the CLI landed: every row and column of
every timeframe, nulls alike, values within rtol 1e-6 (or 1e-10 of the column's largest
value, near a crossing of zero). Prints seconds, the ratios ours / polars (target ≤ 1.0),
peak RSS (the CLI's: its largest process, and its process tree sampled) and whether polars
agrees. No assertion: the figures are for people.

    .venv/bin/python bench/features.py [--repeat 3] [--lake DIR]
"""

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import measure, peak_rss_mb, report

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
DAY = date(2024, 3, 1)
# Long before the lake's first day (the day's longest look-back): one instrument, one day.
FIXED_COST_DAY = date(2022, 6, 1)
VENUE = "binance-futures"
SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}
# Timeframe -> days before the day its features read (the product's ``lookback_days``).
Lookback = dict[str, int]
US_PER_DAY = 86_400_000_000
MINUTES = 1_440
UNIVERSE = f"venues:\n  {VENUE}:\n    data_types: [trades]\n    symbols: [BTCUSDT]\n"
# (base, first price, base volume per minute, share of minutes without a trade)
INSTRUMENTS = (
    ("BTC", 62_000.0, 40.0, 0.01),
    ("ETH", 3_400.0, 600.0, 0.02),
    ("SOL", 130.0, 9_000.0, 0.03),
    ("BNB", 410.0, 900.0, 0.05),
    ("XRP", 0.62, 2e6, 0.05),
    ("DOGE", 0.13, 1e7, 0.08),
    ("ADA", 0.72, 1.5e6, 0.10),
    ("LINK", 19.5, 3e4, 0.15),
    ("LTC", 85.0, 3e3, 0.40),
    ("AVAX", 40.0, 2e4, 0.05),
)
LISTED_LATE = ("AVAX", 3)  # lists this many days before the day, first 90 minutes empty
HALTS = (("DOGE", -5, 120, 480), ("DOGE", 0, 120, 180))  # (base, day, first, end minute)
TICKER_GAP = ("XRP", -2, 600, 780)  # no derivative ticker in these minutes
WITH_OPTIONS = ("BTC", "ETH")  # an options chain's ATM IV and 25-delta risk reversal
# The candle columns the features read, besides instrument_key, timestamp, timestamp_out.
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
# Agreement: values within RTOL of ours, or within ATOL_SCALE × the column's largest |value|
# (near a crossing of zero, the ~1e-16 of the values a running sum has passed shows).
RTOL, ATOL_SCALE = 1e-6, 1e-10
# "Finished execution of step "features__mft_1m_warmup" in 158ms." -> ("1m", "158", "ms")
STEP_LOG = re.compile(
    r'Finished execution of step "features__mft_([0-9a-z]+?)(?:_[a-z]+)?" in ([0-9.]+)(ms|s)\.'
)


def key_of(base: str) -> str:
    return f"{VENUE.upper()}:PERPETUAL:{base}-USDT"


def look_back(days: int, day: date = DAY) -> list[str]:
    """``YYYY-MM-DD`` of ``day`` and the ``days`` before it, oldest first."""
    return [(day - timedelta(days=days - k)).isoformat() for k in range(days + 1)]


def midnight(day: date) -> int:
    return (day - date(1970, 1, 1)).days * US_PER_DAY


# --- the lake ---------------------------------------------------------------------------


def minute_path(base: str, price: float, volume: float, empty: float, first_day: date, days: int):
    """One instrument's one-minute bars over ``days`` days from ``first_day``: a dict of
    arrays (NaN where a bar has no such value)."""
    size = days * MINUTES
    rng = np.random.default_rng(zlib.crc32(f"{base} {first_day}".encode()))
    minute = np.arange(size)
    day_index = minute // MINUTES
    activity = 1 + 0.5 * np.cos(2 * np.pi * ((minute % MINUTES) / MINUTES - 0.6))
    traded = rng.random(size) >= empty
    for halted, day, first, end in HALTS:
        offset = (DAY - first_day).days + day
        if halted == base and 0 <= offset < days:
            traded[offset * MINUTES + first : offset * MINUTES + end] = False
    listed = np.ones(size, dtype=bool)
    if base == LISTED_LATE[0]:
        listed = day_index >= (DAY - first_day).days - LISTED_LATE[1]
        start = int(np.argmax(listed))
        traded[start : start + 90] = False
    traded &= listed
    count = np.where(traded, 1 + rng.poisson(20 * activity), 0)
    flow = rng.standard_normal(size)
    sigma = 0.0008 * (1 + 0.3 * rng.random())
    step = np.where(traded, sigma * (0.4 * flow + 0.9 * rng.standard_normal(size)), 0.0)
    close = price * np.exp(np.cumsum(step))
    previous = np.concatenate([[price], close[:-1]])
    open_ = previous * np.exp(0.05 * sigma * rng.standard_normal(size))
    high = np.maximum(open_, close) * np.exp(0.4 * sigma * np.abs(rng.standard_normal(size)))
    low = np.minimum(open_, close) * np.exp(-0.4 * sigma * np.abs(rng.standard_normal(size)))
    amount = np.where(traded, volume * activity * rng.lognormal(0, 0.6, size), 0.0)
    buy_share = np.clip(0.5 + 0.12 * flow, 0.02, 0.98)
    buy = amount * buy_share
    vwap = low + (high - low) * rng.uniform(0.25, 0.75, size)
    buy_count = np.minimum(count, np.round(count * buy_share)).astype(np.int64)
    delay_median = rng.uniform(2, 12, size)
    delay_max = delay_median + rng.exponential(30, size)
    liquidated = rng.random(size) < 0.02
    liquidation = np.where(traded & liquidated, amount * rng.uniform(0, 0.3, size), 0.0)
    long_side = rng.random(size) < 0.5
    ticker = listed & (rng.random(size) > 0.03)
    if base == TICKER_GAP[0]:
        offset = (DAY - first_day).days + TICKER_GAP[1]
        ticker[offset * MINUTES + TICKER_GAP[2] : offset * MINUTES + TICKER_GAP[3]] = False
    funding = 1e-4 + 4e-5 * np.cumsum(rng.standard_normal(size)) / np.sqrt(MINUTES)
    basis = 2e-4 + 1e-4 * np.tanh(np.cumsum(rng.standard_normal(size)) / 60)
    interest = volume * 5_000 * np.exp(np.cumsum(1e-3 * rng.standard_normal(size)))
    spread = rng.lognormal(np.log(1.5), 0.3, size)
    imbalance = np.tanh(0.6 * rng.standard_normal(size))
    half = close * spread / 2e4
    depth = volume * 20 * rng.lognormal(0, 0.3, size)
    options = listed & (base in WITH_OPTIONS) & (rng.random(size) > 0.01)
    atm_iv = 55 * np.exp(0.3 * np.tanh(np.cumsum(rng.standard_normal(size)) / 300))
    risk_reversal = 3 * np.tanh(np.cumsum(rng.standard_normal(size)) / 200)

    def when(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    return {
        "listed": listed,
        "traded": traded,
        "open": when(traded, open_),
        "high": when(traded, high),
        "low": when(traded, low),
        "close": when(traded, close),
        "volume": when(listed, amount),
        "quote_volume": when(listed, vwap * amount),
        "trade_count": when(listed, count),
        "buy_volume": when(listed, buy),
        "sell_volume": when(listed, amount - buy),
        "unknown_volume": when(listed, 0.0 * amount),
        "buy_count": when(listed, buy_count),
        "sell_count": when(listed, count - buy_count),
        "unknown_count": when(listed, 0.0 * count),
        "max_trade_size": when(traded, amount / np.maximum(count, 1) * rng.uniform(1, 3, size)),
        "delay_min_ms": when(traded, rng.uniform(0.5, 2, size)),
        "delay_median_ms": when(traded, delay_median),
        "delay_mean_ms": when(traded, delay_median * 1.1),
        "delay_max_ms": when(traded, delay_max),
        "timestamp_out": when(
            traded,
            midnight(first_day) + (minute + 1) * 60e6 - rng.uniform(0, 3e6, size) + delay_max * 1e3,
        ),
        "liquidation_buy_volume": when(listed, np.where(long_side, 0.0, liquidation)),
        "liquidation_buy_count": when(listed, np.where(~long_side & (liquidation > 0), 1, 0)),
        "liquidation_sell_volume": when(listed, np.where(long_side, liquidation, 0.0)),
        "liquidation_sell_count": when(listed, np.where(long_side & (liquidation > 0), 1, 0)),
        "funding_rate": when(ticker, funding),
        "predicted_funding_rate": when(ticker, funding + 1e-6 * rng.standard_normal(size)),
        "mark_price": when(ticker, close),
        "index_price": when(ticker, close / (1 + basis)),
        "open_interest": when(ticker, interest),
        "open_interest_change": when(ticker, np.diff(interest, prepend=interest[0])),
        "basis": when(ticker, basis),
        "best_bid": when(listed, close - half),
        "best_ask": when(listed, close + half),
        "mid": when(listed, close),
        "spread_bps": when(listed, spread),
        "microprice": when(listed, close + half * imbalance),
        "bid_depth_5": when(listed, depth * (1 + imbalance)),
        "ask_depth_5": when(listed, depth * (1 - imbalance)),
        "imbalance_5": when(listed, imbalance),
        "spread_bps_tw": when(listed, spread * rng.uniform(0.9, 1.1, size)),
        "imbalance_5_tw": when(listed, 0.9 * imbalance),
        "option_expiry": when(options, midnight(first_day) + (day_index + 9) * 86_400e6),
        "atm_iv": when(options, atm_iv),
        "risk_reversal_25d": when(options, risk_reversal),
        "put_call_iv_ratio_25d": when(options, 1 - risk_reversal / atm_iv),
    }


SUMMED = (
    "volume",
    "quote_volume",
    "trade_count",
    "buy_volume",
    "sell_volume",
    "unknown_volume",
    "buy_count",
    "sell_count",
    "unknown_count",
    "liquidation_buy_volume",
    "liquidation_buy_count",
    "liquidation_sell_volume",
    "liquidation_sell_count",
)
TICKER = (
    "funding_rate",
    "predicted_funding_rate",
    "mark_price",
    "index_price",
    "open_interest",
    "basis",
)
AT_CLOSE = (
    "best_bid",
    "best_ask",
    "mid",
    "spread_bps",
    "microprice",
    "bid_depth_5",
    "ask_depth_5",
    "imbalance_5",
)


def aggregate(minutes: dict[str, np.ndarray], per_bar: int) -> dict[str, np.ndarray]:
    """Bars of ``per_bar`` minutes from one-minute bars, as the candles define them."""

    def shaped(name: str) -> np.ndarray:
        return minutes[name].reshape(-1, per_bar)

    traded, listed = shaped("traded"), shaped("listed")
    any_trade = traded.any(axis=1)
    rows = np.arange(traded.shape[0])
    first = np.argmax(traded, axis=1)
    last = per_bar - 1 - np.argmax(traded[:, ::-1], axis=1)

    def at(name: str, index: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, shaped(name)[rows, index], np.nan)

    def over_trades(name: str, reduce: Callable[..., np.ndarray]) -> np.ndarray:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a bar without a trade
            return np.where(
                any_trade, reduce(np.where(traded, shaped(name), np.nan), axis=1), np.nan
            )

    bars = {name: shaped(name).sum(axis=1) for name in SUMMED}
    bars.update(
        listed=listed.all(axis=1),
        open=at("open", first, any_trade),
        close=at("close", last, any_trade),
        high=over_trades("high", np.nanmax),
        low=over_trades("low", np.nanmin),
        max_trade_size=over_trades("max_trade_size", np.nanmax),
        delay_min_ms=over_trades("delay_min_ms", np.nanmin),
        delay_median_ms=over_trades("delay_median_ms", np.nanmedian),
        delay_max_ms=over_trades("delay_max_ms", np.nanmax),
        timestamp_out=over_trades("timestamp_out", np.nanmax),
        option_expiry=shaped("option_expiry")[:, -1],
        atm_iv=shaped("atm_iv")[:, -1],
        risk_reversal_25d=shaped("risk_reversal_25d")[:, -1],
        put_call_iv_ratio_25d=shaped("put_call_iv_ratio_25d")[:, -1],
    )
    with np.errstate(all="ignore"):
        bars["vwap"] = np.where(any_trade, bars["quote_volume"] / bars["volume"], np.nan)
        bars["mean_trade_size"] = np.where(any_trade, bars["volume"] / bars["trade_count"], np.nan)
        weighted = np.nansum(shaped("delay_mean_ms") * shaped("trade_count"), axis=1)
        bars["delay_mean_ms"] = np.where(any_trade, weighted / bars["trade_count"], np.nan)
    known = ~np.isnan(shaped("funding_rate"))
    has_ticker = known.any(axis=1)
    last_ticker = per_bar - 1 - np.argmax(known[:, ::-1], axis=1)
    for name in TICKER:
        bars[name] = at(name, last_ticker, has_ticker)
    bars["open_interest_change"] = np.where(
        has_ticker, np.nansum(shaped("open_interest_change"), axis=1), np.nan
    )
    for name in AT_CLOSE:
        bars[name] = shaped(name)[:, -1]
    bars["spread_bps_tw"] = shaped("spread_bps_tw").mean(axis=1)
    bars["imbalance_5_tw"] = shaped("imbalance_5_tw").mean(axis=1)
    return bars


def candle_table(key: str, bars: dict[str, np.ndarray], start_us: int, seconds: int) -> "pa.Table":
    """The ``CANDLES`` rows of one instrument's bars from ``start_us``, listed or not."""
    import pyarrow as pa

    from market_assets.candles.columns import CANDLES

    size = bars["listed"].size
    opens = start_us + np.arange(size, dtype=np.int64) * seconds * 1_000_000
    columns: list[pa.Array] = []
    for field in CANDLES.schema:
        if field.name == "instrument_key":
            columns.append(pa.array([key] * size, field.type))
        elif field.name == "timestamp":
            columns.append(pa.array(opens).cast(field.type))
        else:
            values = bars[field.name]
            missing = np.isnan(values)
            if pa.types.is_timestamp(field.type):
                stamps = np.where(missing, 0, values).astype(np.int64)
                columns.append(pa.array(stamps, pa.int64(), mask=missing).cast(field.type))
            else:
                values = np.where(missing, 0, values).astype(field.type.to_pandas_dtype())
                columns.append(pa.array(values, field.type, mask=missing))
    return pa.Table.from_arrays(columns, schema=CANDLES.schema)


def write_lake(root: Path, lookback: Lookback) -> int:
    """The candles of the day with every timeframe's look-back, and of the fixed-cost day
    (one instrument, no look-back), written by the lake writer. Returns the rows."""
    import pyarrow as pa

    from market_assets.candles.columns import CANDLES
    from resources.lake import LakeFile, ParquetLake

    lake = ParquetLake(str(root))
    longest = max(lookback.values())
    first_day = DAY - timedelta(days=longest)
    paths = {
        base: minute_path(base, price, volume, empty, first_day, longest + 1)
        for base, price, volume, empty in INSTRUMENTS
    }
    fixed = minute_path("BTC", 27_000.0, 40.0, 0.01, FIXED_COST_DAY, 1)
    rows = 0
    for timeframe, seconds in SECONDS.items():
        per_bar, per_day = seconds // 60, 86_400 // seconds
        days = lookback[timeframe]
        cut = (longest - days) * MINUTES
        instruments = []
        for base, minutes in paths.items():
            bars = aggregate({name: values[cut:] for name, values in minutes.items()}, per_bar)
            start = midnight(DAY) - days * US_PER_DAY
            instruments.append((candle_table(key_of(base), bars, start, seconds), bars["listed"]))
        for k, day in enumerate(look_back(days)):
            bars_of_day = slice(k * per_day, (k + 1) * per_day)
            day_table = pa.concat_tables(
                table.slice(k * per_day, per_day).filter(pa.array(listed[bars_of_day]))
                for table, listed in instruments
            )
            rows += day_table.num_rows
            lake.write_partition(
                ("candles", timeframe),
                day,
                VENUE,
                [LakeFile("part-00000", CANDLES.schema, [day_table])],
            )
        one = candle_table(
            key_of("BTC"), aggregate(fixed, per_bar), midnight(FIXED_COST_DAY), seconds
        )
        lake.write_partition(
            ("candles", timeframe),
            FIXED_COST_DAY.isoformat(),
            VENUE,
            [LakeFile("part-00000", CANDLES.schema, [one])],
        )
    return rows


# --- polars -----------------------------------------------------------------------------


def polars_day(paths: Sequence[str], day_start_us: int, seconds: int, days: int) -> "pl.DataFrame":
    """The MFT features of every instrument of the day, in polars alone, one row per bar
    of the day, by the definitions of ``market_assets/features/columns.py``."""
    import polars as pl

    per_day = 86_400 // seconds
    size = (days + 1) * per_day
    bar_us = seconds * 1_000_000
    start_us = day_start_us - days * US_PER_DAY
    first_row = days * per_day
    annual = math.sqrt(365 * 86_400 / seconds)
    c = pl.col

    def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        return pl.when(denominator != 0).then(numerator / denominator)

    def root(variance: pl.Expr) -> pl.Expr:
        return variance.clip(lower_bound=0).sqrt()

    def window_sum(x: pl.Expr, bars: int) -> pl.Expr:
        """Σ x over ``bars`` bars; exactly 0 over a window of zeros (bars without trades),
        where polars' running sum can leave ±1e-20 of earlier values behind."""
        return pl.when(x.abs().rolling_max(bars) == 0).then(0.0).otherwise(x.rolling_sum(bars))

    def recursion(x: pl.Expr, window: int, seed_at: int, alpha: float) -> pl.Expr:
        """y = (1 − alpha) y + alpha x from the run's bar ``seed_at`` (its first priced bar
        being 0), seeded there with the mean of x over ``window`` bars ending there."""
        seeded = pl.when(c.i == seed_at).then(x.rolling_mean(window)).when(c.i > seed_at).then(x)
        return seeded.ewm_mean(alpha=alpha, adjust=False).over("segment")

    def ema(x: pl.Expr, bars: int, seed_at: int | None = None) -> pl.Expr:
        return recursion(x, bars, bars - 1 if seed_at is None else seed_at, 2 / (bars + 1))

    def wilder(x: pl.Expr, bars: int) -> pl.Expr:
        return recursion(x, bars, bars, 1 / bars)

    candles = (
        pl.scan_parquet(list(paths), hive_partitioning=False)
        .select("instrument_key", "timestamp", "timestamp_out", *INPUTS)
        .with_columns(pos=(c.timestamp.dt.epoch("us") - start_us) // bar_us)
        .filter((c.pos >= 0) & (c.pos < size))
        .with_columns(c.trade_count.cast(pl.Float64))
    )
    keys = candles.filter(c.pos >= first_row).select("instrument_key").unique()
    grid = keys.join(pl.LazyFrame({"pos": pl.int_range(size, eager=True)}), how="cross")
    g = c.g
    frame = (
        grid.join(candles, on=["instrument_key", "pos"], how="left")
        .sort("instrument_key", "pos")
        .with_columns(g=pl.int_range(pl.len(), dtype=pl.Int64), available=c.timestamp.is_not_null())
        .with_columns(
            traded=c.available & (c.trade_count.fill_null(0) > 0),
            run_begins=c.available & ~(c.available.shift(1, fill_value=False) & (c.pos > 0)),
        )
        .with_columns(
            run_start=pl.when(c.available).then(pl.when(c.run_begins).then(g).forward_fill())
        )
        .with_columns(
            last_trade=pl.when(c.traded).then(g).forward_fill(),
            carried_close=pl.when(c.traded).then(c.close).forward_fill(),
            **{
                f"_{name}": pl.when(
                    pl.when(pl.col(name).is_not_null()).then(g).forward_fill() >= c.run_start
                ).then(pl.col(name).forward_fill())
                for name in ("funding_rate", "open_interest", "basis")
            },
        )
        .with_columns(last_trade=pl.when(c.last_trade >= c.run_start).then(c.last_trade))
        .with_columns(
            carried_close=pl.when(c.last_trade.is_not_null()).then(c.carried_close),
            history_bars=pl.when(c.available).then(g - c.run_start + 1).otherwise(0),
            has_trade=c.last_trade.is_not_null(),
        )
        .with_columns(
            first_trade=pl.when(
                c.traded & ~(c.has_trade.shift(1, fill_value=False) & ~c.run_begins)
            )
            .then(g)
            .forward_fill(),
            **{
                name: pl.when(c.traded).then(pl.col(name)).otherwise(c.carried_close)
                for name in ("open", "high", "low", "close")
            },
            **{name: pl.col(f"_{name}") for name in ("funding_rate", "open_interest", "basis")},
        )
        .with_columns(
            price_bars=pl.when(c.has_trade).then(g - c.first_trade + 1).otherwise(0),
            segment=pl.when(c.has_trade).then(c.first_trade),
            log_c=c.close.log(),
        )
        .with_columns(i=c.price_bars - 1, r=c.log_c - c.log_c.shift(1))
    )
    o, h, low, close, r = c.open, c.high, c.low, c.close, c.r
    hl, co = (h / low).log(), (close / o).log()
    rs = (h / close).log() * (h / o).log() + (low / close).log() * (low / o).log()
    overnight = (o / close.shift(1)).log()
    yz_k = 0.34 / (1.34 + 21 / 19)
    rs_mean = window_sum(rs, 20) / 20
    change = close - close.shift(1)
    true_range = pl.max_horizontal(
        h - low, (h - close.shift(1)).abs(), (low - close.shift(1)).abs()
    )
    # RSI is 0/0, null, while no price has moved since the run's first trade.
    moved = pl.when(c.i >= 1).then(change.abs()).otherwise(0.0).cum_sum().over("segment") > 0
    gain, loss = wilder(change.clip(lower_bound=0), 14), wilder((-change).clip(lower_bound=0), 14)
    slow = ema(close, 26)
    macd = ema(close, 12, seed_at=25) - slow
    signal = ema(macd, 9, seed_at=33)
    middle = close.rolling_mean(20)
    # TA-Lib takes a variance below its epsilon for 0.
    variance = close.rolling_var(20, ddof=0)
    sigma = pl.when(variance < 1e-14).then(0.0).otherwise(variance.sqrt())
    upper, lower = middle + 2 * sigma, middle - 2 * sigma
    lags = [c.volume.shift(k * per_day) for k in range(1, 21)]
    lag_mean = pl.sum_horizontal(lags, ignore_nulls=False) / 20
    lag_std = (
        pl.sum_horizontal([(x - lag_mean) ** 2 for x in lags], ignore_nulls=False) / 19
    ).sqrt()
    dollar, buy, sell = c.quote_volume, c.buy_volume, c.sell_volume
    signed_dollar = pl.when(c.traded).then((buy - sell) * c.vwap).when(c.available).then(0.0)
    impact = pl.when(dollar > 0).then(r.abs() / dollar).otherwise(0.0)
    before = c.funding_rate.shift(1)
    atm, rr = c.atm_iv, c.risk_reversal_25d
    ema_12, ema_26 = ema(close, 12), slow
    rv20 = annual * r.rolling_std(20)
    features: dict[str, tuple[pl.Expr, pl.Expr | int, bool]] = {
        **{f"log_return_{k}": (c.log_c - c.log_c.shift(k), k + 1, True) for k in (1, 5, 15, 60)},
        "return_since_midnight": (
            c.log_c - c.log_c.gather(g - (c.pos - first_row) - 1),
            c.pos - first_row + 2,
            True,
        ),
        "realized_vol_20": (rv20, 21, True),
        "realized_vol_60": (annual * r.rolling_std(60), 61, True),
        "parkinson_vol_20": (
            annual * root(window_sum(hl**2, 20) / 20 / (4 * math.log(2))),
            20,
            True,
        ),
        "garman_klass_vol_20": (
            annual * root(window_sum(0.5 * hl**2 - (2 * math.log(2) - 1) * co**2, 20) / 20),
            20,
            True,
        ),
        "rogers_satchell_vol_20": (annual * root(rs_mean), 20, True),
        "yang_zhang_vol_20": (
            annual
            * root(overnight.rolling_var(20) + yz_k * co.rolling_var(20) + (1 - yz_k) * rs_mean),
            21,
            True,
        ),
        "rsi_14": (
            pl.when(moved).then(
                pl.when((gain + loss).abs() < 1e-14).then(0.0).otherwise(100 * gain / (gain + loss))
            ),
            15,
            True,
        ),
        "macd": (pl.when(c.i >= 33).then(macd), 34, True),
        "macd_signal": (signal, 34, True),
        "macd_hist": (macd - signal, 34, True),
        "atr_14": (wilder(true_range, 14), 15, True),
        "bollinger_pct_b_20": (ratio(close - lower, upper - lower), 20, True),
        "ema_12_gap": (ratio(close - ema_12, ema_12), 12, True),
        "ema_26_gap": (ratio(close - ema_26, ema_26), 26, True),
        "dollar_volume": (dollar, 1, False),
        "relative_volume_20d": (ratio(c.volume - lag_mean, lag_std), 20 * per_day + 1, False),
        "trade_intensity": (c.trade_count / seconds, 1, False),
        "signed_volume_imbalance_20": (
            ratio(window_sum(buy - sell, 20), window_sum(buy + sell, 20)),
            20,
            False,
        ),
        "cumulative_delta": (
            (buy - sell).fill_null(0).cum_sum().over("instrument_key"),
            c.pos - first_row + 1,
            False,
        ),
        "kyle_lambda_60": (
            ratio(
                pl.rolling_cov(signed_dollar, r, window_size=60),
                signed_dollar.rolling_var(60),
            ),
            61,
            True,
        ),
        "amihud_20": (
            ratio(
                window_sum(impact, 20),
                (dollar > 0).fill_null(False).cast(pl.Float64).rolling_sum(20),
            ),
            21,
            True,
        ),
        "funding_rate": (c.funding_rate, 1, False),
        "funding_rate_z_7d": (
            ratio(
                c.funding_rate - before.rolling_mean(7 * per_day),
                before.rolling_std(7 * per_day),
            ),
            7 * per_day + 1,
            False,
        ),
        "basis": (c.basis, 1, False),
        "basis_change_1": (c.basis - c.basis.shift(1), 2, False),
        "open_interest_change_pct_1": (
            ratio(c.open_interest, c.open_interest.shift(1)) - 1,
            2,
            False,
        ),
        "liquidation_intensity_20": (
            ratio(
                window_sum(c.liquidation_buy_volume + c.liquidation_sell_volume, 20),
                window_sum(c.volume, 20),
            ),
            20,
            False,
        ),
        "spread_bps_mean_20": (c.spread_bps.rolling_mean(20), 20, False),
        "imbalance_5_mean_20": (c.imbalance_5.rolling_mean(20), 20, False),
        "microprice_gap_bps": (ratio(c.microprice - c.mid, c.mid) * 1e4, 1, False),
        "atm_iv": (atm, 1, False),
        "atm_iv_change_1": (atm - atm.shift(1), 2, False),
        "risk_reversal_25d_change_1": (rr - rr.shift(1), 2, False),
        "iv_minus_realized_20": (atm / 100 - rv20, 21, True),
        "bars_since_trade": ((g - c.last_trade).cast(pl.Float64), 1, True),
    }
    enough = {True: pl.min_horizontal(c.history_bars, c.price_bars), False: c.history_bars}
    # Values of the day's rows only; cumulative_delta sums from the day's first bar.
    computed = frame.with_columns(
        **{
            name: expression
            for name, (expression, _, _) in features.items()
            if name != "cumulative_delta"
        }
    ).filter(c.pos >= first_row)
    computed = computed.with_columns(cumulative_delta=features["cumulative_delta"][0])
    timestamp = pl.lit(start_us) + c.pos * bar_us
    out = c.timestamp_out.dt.epoch("us").fill_null(-1)
    return computed.select(
        "instrument_key",
        timestamp=timestamp.cast(pl.Datetime("us", "UTC")),
        known_at=pl.max_horizontal(timestamp + bar_us, out).cast(pl.Datetime("us", "UTC")),
        history_bars=c.history_bars,
        price_bars=c.price_bars,
        **{
            name: pl.when((enough[price] >= needed) & pl.col(name).is_finite()).then(pl.col(name))
            for name, (_, needed, price) in features.items()
        },
    ).collect(engine="in-memory")


# --- the contenders ---------------------------------------------------------------------


def dagster_env(lake: Path, home: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TARDIS_", "MARKET_DATA_", "DAGSTER_"))
    }
    environment.update(
        DAGSTER_HOME=str(home),
        MARKET_DATA_ROOT=str(lake),
        MARKET_DATA_UNIVERSE=str(home / "universe.yaml"),
    )
    return environment


def run_cli(lake: Path, home: Path, day: date) -> dict[str, Any]:
    """The user's command for (day, venue): wall seconds, each timeframe's step seconds
    (the asset's and its checks'), peak RSS of its largest process and of its tree."""
    import psutil

    command = [
        str(Path(sys.executable).with_name("dagster")),
        "asset",
        "materialize",
        "-m",
        "market_assets",
        "--select",
        "group:features",
        "--partition",
        f"{day}|{VENUE}",
    ]
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        running = subprocess.Popen(
            command, cwd=REPO, env=dagster_env(lake, home), stdout=log, stderr=log, text=True
        )
        tree, process = 0, psutil.Process(running.pid)
        while running.poll() is None:
            # Dagster's helpers (tail, an orphan watcher) are small; sampled with it.
            try:
                members = [process, *process.children(recursive=True)]
                tree = max(tree, sum(member.memory_info().rss for member in members))
            except psutil.Error:
                pass
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if running.returncode != 0 or "RUN_SUCCESS" not in output:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-4000:]}")
    timeframes = dict.fromkeys(SECONDS, 0.0)
    for step, took, unit in STEP_LOG.findall(output):
        timeframes[step] += float(took) / (1000 if unit == "ms" else 1)
    [steps] = re.findall(r"Finished steps in process \(pid: \d+\) in ([0-9.]+)s", output)
    return {
        "seconds": seconds,
        "steps_seconds": float(steps),
        "timeframes": timeframes,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "tree_rss_mb": tree / 2**20,
    }


def run_in_process(lake_root: Path, lookback: Lookback) -> dict[str, Any]:
    from market_assets.features.build import day_features
    from resources.lake import ParquetLake
    from resources.lake_handles import DayRange

    lake = ParquetLake(str(lake_root))
    timeframes, rows = {}, 0
    started = time.perf_counter()
    for timeframe, seconds in SECONDS.items():
        begun = time.perf_counter()
        days = look_back(lookback[timeframe])
        history, _ = DayRange.open(lake, ("candles", timeframe), days, VENUE).read()
        rows += day_features(history, midnight(DAY), seconds).num_rows
        timeframes[timeframe] = time.perf_counter() - begun
    return {"seconds": time.perf_counter() - started, "timeframes": timeframes, "rows": rows}


def candle_files(lake_root: Path, timeframe: str, days: int) -> list[str]:
    """The Parquet files of a timeframe's day and ``days`` before, as a polars user lists
    them."""
    return [
        str(path)
        for day in look_back(days)
        for path in sorted(
            (lake_root / "candles" / timeframe / f"date={day}" / f"venue={VENUE}").glob("*.parquet")
        )
    ]


def run_polars(lake_root: Path, lookback: Lookback, out: Path) -> dict[str, Any]:
    timeframes, rows = {}, 0
    started = time.perf_counter()
    for timeframe, seconds in SECONDS.items():
        begun = time.perf_counter()
        days = lookback[timeframe]
        frame = polars_day(candle_files(lake_root, timeframe, days), midnight(DAY), seconds, days)
        frame.write_parquet(out / f"mft_{timeframe}.parquet", compression="zstd")
        rows += frame.height
        timeframes[timeframe] = time.perf_counter() - begun
    return {"seconds": time.perf_counter() - started, "timeframes": timeframes, "rows": rows}


CONTENDERS = ("cli", "cli_fixed_cost", "in_process", "polars")


def child(name: str, lake: Path, home: Path, lookback: Lookback) -> None:
    """Run one contender once in this process and print its figures as JSON.

    Libraries are imported before the clock starts (the CLI's are its own start-up).
    """
    if name in ("cli", "cli_fixed_cost"):
        figures = run_cli(lake, home, DAY if name == "cli" else FIXED_COST_DAY)
        report(figures)
        return
    if name == "in_process":
        import market_assets.features.build  # noqa: F401
        import resources.lake_handles  # noqa: F401

        figures = run_in_process(lake, lookback)
    else:
        import polars  # noqa: F401

        with tempfile.TemporaryDirectory(prefix="bench-features-polars-") as out:
            figures = run_polars(lake, lookback, Path(out))
    report({**figures, "peak_rss_mb": peak_rss_mb()})


# --- agreement --------------------------------------------------------------------------


def agreement(lake_root: Path, lookback: Lookback) -> dict[str, list[str]]:
    """Per timeframe, the columns where polars' features differ from those the CLI
    landed (nulls elsewhere, or a value beyond rtol): empty when they agree."""
    import pyarrow.compute as pc

    from market_assets.features.columns import MFT
    from resources.lake import ParquetLake

    lake = ParquetLake(str(lake_root))
    found: dict[str, list[str]] = {}
    for timeframe, seconds in SECONDS.items():
        ours = lake.read(("features", f"mft_{timeframe}"), DAY.isoformat(), VENUE)
        days = lookback[timeframe]
        files = candle_files(lake_root, timeframe, days)
        theirs = polars_day(files, midnight(DAY), seconds, days).to_arrow()
        problems = []
        if theirs.column_names != MFT.names or ours.num_rows != theirs.num_rows:
            problems.append(f"shape: {theirs.num_rows} rows, columns {theirs.column_names}")
            found[timeframe] = problems
            continue
        for name in MFT.names:
            a, b = ours[name], theirs[name]
            a_null = pc.is_null(a).to_numpy(zero_copy_only=False)
            b_null = pc.is_null(b).to_numpy(zero_copy_only=False)
            if name in ("instrument_key", "timestamp", "known_at"):
                same = a.cast(b.type).equals(b)
                if not same:
                    problems.append(f"{name}: differs")
                continue
            x = a.cast("float64").to_numpy(zero_copy_only=False)
            y = b.cast("float64").to_numpy(zero_copy_only=False)
            both = ~a_null & ~b_null
            scale = float(np.max(np.abs(x[both]), initial=0.0))
            close = np.isclose(y[both], x[both], rtol=RTOL, atol=ATOL_SCALE * scale)
            if (a_null != b_null).any() or not close.all():
                worst = (
                    np.max(np.abs(x[both] - y[both]) / np.maximum(np.abs(x[both]), 1e-300))
                    if both.any()
                    else 0.0
                )
                problems.append(
                    f"{name}: {int((a_null & ~b_null).sum())} null only in ours, "
                    f"{int((~a_null & b_null).sum())} only in polars, {int((~close).sum())} "
                    f"of {int(both.sum())} values beyond rtol (worst {worst:.1e})"
                )
        found[timeframe] = problems
    return found


# --- the run ----------------------------------------------------------------------------


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run's figures, with each timeframe's fastest time over the runs."""
    fastest = min(runs, key=lambda figures: figures["seconds"])
    return {
        **fastest,
        **(
            {"steps_seconds": min(run["steps_seconds"] for run in runs)}
            if "steps_seconds" in fastest
            else {}
        ),
        "timeframes": {tf: min(run["timeframes"][tf] for run in runs) for tf in SECONDS},
    }


def product_lookback() -> Lookback:
    """The product's look-back of each feature timeframe, whose timeframes must be ours."""
    from market_assets.features.build import lookback_days
    from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES

    theirs = {tf: TIMEFRAMES[tf] for tf in FEATURE_TIMEFRAMES}
    if theirs != SECONDS:
        raise SystemExit(f"the feature timeframes are now {theirs}: update SECONDS")
    return {tf: lookback_days(seconds) for tf, seconds in SECONDS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best kept")
    parser.add_argument("--lake", type=Path, help="keep the lake in this folder (reused if there)")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lake, args.home, args.lookback)
        return

    lookback = product_lookback()
    with tempfile.TemporaryDirectory(prefix="bench-features-") as folder:
        lake = args.lake or Path(folder) / "lake"
        # A kept lake is reused while it was generated for the same look-back.
        stamp = lake / "bench-features.json"
        if not stamp.exists() or json.loads(stamp.read_text()) != lookback:
            started = time.perf_counter()
            shutil.rmtree(lake / "candles", ignore_errors=True)
            rows = write_lake(lake, lookback)
            stamp.write_text(json.dumps(lookback))
            print(
                f"wrote {rows:,} candle rows of {len(INSTRUMENTS)} instruments ({DAY} and its "
                f"look-back, six timeframes) in {time.perf_counter() - started:.1f} s"
            )
        home = Path(folder) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        (home / "universe.yaml").write_text(UNIVERSE)
        flags = ("--lake", str(lake), "--home", str(home), "--lookback", json.dumps(lookback))
        load_before = os.getloadavg()[0]
        measure(__file__, "cli_fixed_cost", *flags)  # the instance's first run creates it
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
        for _ in range(args.repeat):
            for name in CONTENDERS:
                runs[name].append(measure(__file__, name, *flags))
        figures = {name: best(found) for name, found in runs.items()}
        load_after = os.getloadavg()[0]
        differences = agreement(lake, lookback)

    report_figures(figures, differences, args.repeat)
    # The CLI's net is a difference of two ~10 s runs: other work on the machine shows in it.
    print(
        f"load average (1 min) before / after the runs: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} CPUs"
    )


def report_figures(
    figures: dict[str, dict[str, Any]], differences: dict[str, list[str]], repeat: int
) -> None:
    """The table, the ratios, peak RSS and the agreement, for people."""
    cli, fixed = figures["cli"], figures["cli_fixed_cost"]
    inner, theirs = figures["in_process"], figures["polars"]
    print(
        f"\nseconds, best of {repeat}. cli: the steps of the asset and its 5 checks in the "
        f"run of {DAY}, and net of the same steps in the run of {FIXED_COST_DAY} (the fixed "
        "cost); in_process: DayRange.read + day_features; polars: scan_parquet → the same "
        "features → Parquet"
    )
    header = ("timeframe", "cli", "fixed", "cli net", "in_process", "polars", "net/pl", "in/pl")
    print(f"{header[0]:<10}" + "".join(f"{name:>11}" for name in header[1:]))
    for tf in SECONDS:
        steps, steps_fixed = cli["timeframes"][tf], fixed["timeframes"][tf]
        row = (steps, steps_fixed, steps - steps_fixed, inner["timeframes"][tf])
        peer = theirs["timeframes"][tf]
        ratios = ((steps - steps_fixed) / peer, inner["timeframes"][tf] / peer)
        print(f"{tf:<10}" + "".join(f"{x:>11.2f}" for x in (*row, peer, *ratios)))
    net = cli["seconds"] - fixed["seconds"]
    total = (cli["seconds"], fixed["seconds"], net, inner["seconds"], theirs["seconds"])
    ratios = (net / theirs["seconds"], inner["seconds"] / theirs["seconds"])
    print(f"{'total':<10}" + "".join(f"{x:>11.2f}" for x in (*total, *ratios)))
    in_run = cli["steps_seconds"] - fixed["steps_seconds"]
    print(
        f"\ncli total: the command's wall time, {cli['seconds']:.2f} s for {DAY}|{VENUE} and "
        f"{fixed['seconds']:.2f} s for {FIXED_COST_DAY} (one instrument, no look-back): "
        f"{net:.2f} s net; its steps alone: {cli['steps_seconds']:.2f} s − "
        f"{fixed['steps_seconds']:.2f} s = {in_run:.2f} s net"
    )
    print(f"ours (cli, net) / polars (time ratio): {ratios[0]:.2f}  (target ≤ 1.0)")
    print(f"ours (cli steps, net) / polars (time ratio): {in_run / theirs['seconds']:.2f}")
    print(f"ours (in process) / polars (time ratio): {ratios[1]:.2f}")
    print(
        f"peak RSS MB: cli {cli['peak_rss_mb']:.0f} (its process tree "
        f"{cli['tree_rss_mb']:.0f}), cli fixed cost {fixed['peak_rss_mb']:.0f}, in_process "
        f"{inner['peak_rss_mb']:.0f}, polars {theirs['peak_rss_mb']:.0f}"
    )
    disagreeing = {tf: found for tf, found in differences.items() if found}
    if not disagreeing:
        print(
            "polars agrees with the features the CLI landed: every row and column of all six "
            f"timeframes, nulls alike, values within rtol {RTOL:g} (or {ATOL_SCALE:g} of the "
            "column's largest value)"
        )
    for tf, found in disagreeing.items():
        print(f"polars differs from ours on {tf}:")
        for line in found:
            print(f"  {line}")


if __name__ == "__main__":
    main()

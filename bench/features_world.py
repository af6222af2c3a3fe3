"""The features benchmark's world: a lake of generated candles, one venue-day and its look-back.

Ten perpetuals of one venue, every feature timeframe aggregated from the same one-minute
path, written by the lake writer; see ``bench/features.py``.
"""

import warnings
import zlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

DAY = date(2024, 3, 1)
# Long before the lake's first day (the day's longest look-back): one instrument, one day.
FIXED_COST_DAY = date(2022, 6, 1)
VENUE = "binance-futures"
SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}
# Timeframe -> days before the day its features read (the product's ``lookback_days``).
Lookback = dict[str, int]
US_PER_DAY = 86_400_000_000
MINUTES = 1_440
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


def key_of(base: str) -> str:
    return f"{VENUE.upper()}:PERPETUAL:{base}-USDT"


def look_back(days: int, day: date = DAY) -> list[str]:
    """``YYYY-MM-DD`` of ``day`` and the ``days`` before it, oldest first."""
    return [(day - timedelta(days=days - k)).isoformat() for k in range(days + 1)]


def midnight(day: date) -> int:
    return (day - date(1970, 1, 1)).days * US_PER_DAY


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

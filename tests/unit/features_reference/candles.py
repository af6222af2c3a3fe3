"""A generated world of candles (the ``CANDLES`` schema) for the MFT feature tests.

Deterministic (a seeded numpy Generator). Per timeframe, one table with the rows of every
instrument over the look-back of the day under test, ``EXTRA_DAYS`` older days (more
history than the features read) and ``LATER_DAYS`` later days, shuffled. Every day an
instrument has is complete (the candles contract: every bar present); a missing day has
no rows at all. Instruments:

- BTC (perpetual): trades, liquidations, ticker, book and options; a few empty bars; no
  book on the bars either side of midnight, no option data on one bar.
- ETH (perpetual): ticker, liquidations and book, no options; one whole day missing in
  the look-back.
- SOL (spot): trades only; its ticker, liquidation, book and option columns are null.
- PEPE (spot, price ~1e-5, book only): many empty bars and a silent stretch around
  midnight long enough that whole windows hold no trade.
- NEW (perpetual): listed a few days before the day under test; its first trade comes
  late in its first day; its open interest is 0 and its funding rate unknown at first.
- OLD (spot): delisted: candles only before the day under test.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.candles.columns import CANDLES
from tests.unit.features_reference.grid import DAY_US, US, look_back_days

EXTRA_DAYS = 3
LATER_DAYS = 2
SEED = 20240301

BTC = "BINANCE-FUTURES:PERPETUAL:BTC-USDT"
ETH = "BINANCE-FUTURES:PERPETUAL:ETH-USDT"
SOL = "BINANCE:SPOT_PAIR:SOL-USDT"
PEPE = "BINANCE:SPOT_PAIR:PEPE-USDT"
NEW = "BINANCE-FUTURES:PERPETUAL:NEW-USDT"
OLD = "BINANCE:SPOT_PAIR:OLD-USDT"


@dataclass(frozen=True)
class Setting:
    """How one timeframe's world is laid out around its day under test."""

    seconds: int
    day: datetime
    missing_day: int  # ETH's missing day, in days before the day under test
    new_days: int  # days of candles NEW has before the day under test
    first_trade: int  # bars from NEW's first candle to its first trade
    quiet: tuple[int, int]  # PEPE's silent bars: first (relative to the day's first), count


# The day under test is the 1st of a month: its look-back spans the month (and, for
# 2024-01-01, the year) before. 2024-03-01's look-back holds the leap day.
SETTINGS = {
    "1m": Setting(60, datetime(2024, 1, 1, tzinfo=UTC), 3, 1, 1_430, (-30, 100)),
    "1h": Setting(3_600, datetime(2024, 3, 1, tzinfo=UTC), 3, 2, 18, (-10, 26)),
    "4h": Setting(14_400, datetime(2024, 3, 1, tzinfo=UTC), 5, 3, 4, (-16, 22)),
    "1d": Setting(86_400, datetime(2024, 1, 1, tzinfo=UTC), 40, 5, 1, (-2, 3)),
}


@dataclass(frozen=True)
class Story:
    """One instrument's life in the world."""

    key: str
    price: float
    vol: float  # per-bar std of log returns at 1h (scaled with √ of the bar's length)
    size: float  # typical traded amount per bar at 1h
    empty: float  # probability that a bar has no trade
    ticker: bool = False
    liquidations: bool = False
    book: bool = False
    options: bool = False
    listed: bool = False  # NEW: candles start ``Setting.new_days`` before the day
    missing: bool = False  # ETH: ``Setting.missing_day`` has no rows
    quiet: bool = False  # PEPE: the ``Setting.quiet`` bars have no trade
    delisted: bool = False  # OLD: no candles from the day under test on


STORIES = (
    Story(BTC, 42_000.0, 0.006, 900.0, 0.03, True, True, True, True),
    Story(ETH, 2_300.0, 0.008, 9_000.0, 0.05, True, True, True, missing=True),
    Story(SOL, 100.0, 0.012, 40_000.0, 0.12),
    Story(PEPE, 1.2e-5, 0.015, 4e11, 0.35, book=True, quiet=True),
    Story(NEW, 0.5, 0.02, 1e6, 0.04, True, True, True, listed=True),
    Story(OLD, 3.0, 0.01, 5e4, 0.1, delisted=True),
)


@dataclass(frozen=True)
class World:
    """One timeframe's candles around its day under test."""

    name: str
    seconds: int
    day_start_us: int
    look_back: int  # days of candles the features read before the day
    candles: pa.Table  # every row, shuffled
    setting: Setting

    @property
    def bars_per_day(self) -> int:
        return 86_400 // self.seconds

    def bar_us(self, index_in_day: int, day: int = 0) -> int:
        """The open of bar ``index_in_day`` of the day ``day`` days after the one tested."""
        return self.day_start_us + day * DAY_US + index_in_day * self.seconds * US


@cache
def world(name: str) -> World:
    """The world of timeframe ``name`` (built once per test session)."""
    setting = SETTINGS[name]
    day_start = int(setting.day.timestamp()) * US
    look_back = look_back_days(setting.seconds)
    rng = np.random.default_rng([SEED, setting.seconds])
    tables = [_candles(story, setting, day_start, look_back, rng) for story in STORIES]
    table = pa.concat_tables(tables)
    table = table.take(pa.array(rng.permutation(table.num_rows)))  # any order
    return World(name, setting.seconds, day_start, look_back, table, setting)


def _candles(
    story: Story, setting: Setting, day_start: int, look_back: int, rng: np.random.Generator
) -> pa.Table:
    n = 86_400 // setting.seconds
    first_day = -(look_back + EXTRA_DAYS)
    days = np.arange(first_day, LATER_DAYS + 1)
    bars = days.size * n
    day_of_bar = np.repeat(days, n)
    index = np.arange(bars)
    bar_of_day = index % n
    present = np.ones(bars, dtype=bool)
    if story.listed:
        present &= day_of_bar >= -setting.new_days
    if story.missing:
        present &= day_of_bar != -setting.missing_day
    if story.delisted:
        present &= day_of_bar < 0
    # The bar's position relative to the day under test's first bar.
    from_day = (day_of_bar * n + bar_of_day).astype(np.int64)
    opens = day_start + from_day * setting.seconds * US

    scale = math.sqrt(setting.seconds / 3_600)
    traded = rng.random(bars) >= story.empty
    if story.listed:
        first_trade = -setting.new_days * n + setting.first_trade
        traded &= from_day >= first_trade
        # Trades every bar at first, so its first RSI seed is not flat (see the xfail
        # test in test_reference.py for the flat case).
        traded |= (from_day >= first_trade) & (from_day < first_trade + 16)
    if story.quiet:
        start, count = setting.quiet
        traded &= (from_day < start) | (from_day >= start + count)
    log_price = math.log(story.price) + np.cumsum(rng.normal(0, story.vol * scale, bars))
    latent = np.exp(log_price)
    c = dict.fromkeys(CANDLES.names)
    c.update(_trades(rng, latent, traded, opens, story.size * scale**2, setting.seconds))
    c.update(_liquidations(rng, c["volume"], traded, story.liquidations))
    c.update(_ticker(rng, latent, traded, story, setting.seconds))
    # BTC's book is unknown on the last bar before the day and the day's first (a day's
    # file whose first snapshot is late, after the previous day's last one was lost).
    book_gap = (story.key == BTC) & (from_day >= -1) & (from_day <= 0)
    c.update(_book(rng, latent, story.book, book_gap))
    # One bar of the day under test without option data (on 1d: the bar before it).
    option_gap = from_day == (1 if n > 1 else -1)
    c.update(_options(rng, opens, story.options, setting.seconds, option_gap))
    c["instrument_key"] = np.full(bars, story.key)
    c["timestamp"] = opens
    columns = [_arrow(c[name], CANDLES.schema.field(name).type) for name in CANDLES.names]
    table = pa.Table.from_arrays(columns, schema=CANDLES.schema)
    return table.filter(pa.array(present))


def _arrow(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """NaN (or a negative time) is null."""
    if pa.types.is_string(arrow_type):
        return pa.array(values, arrow_type)
    if pa.types.is_timestamp(arrow_type):
        values = np.asarray(values, dtype=np.int64)
        return pa.array(values, pa.int64(), mask=values < 0).cast(arrow_type)
    values = np.asarray(values, dtype=np.float64)
    null = np.isnan(values)
    return pa.array(np.where(null, 0, values), pa.float64(), mask=null).cast(arrow_type)


def _trades(
    rng: np.random.Generator,
    latent: np.ndarray,
    traded: np.ndarray,
    opens: np.ndarray,
    size: float,
    seconds: int,
) -> dict[str, np.ndarray]:
    """Consistent trade columns: low ≤ open, close ≤ high; vwap inside; buy + sell ≤
    volume; quote_volume = vwap × volume. Empty bars: prices null, volumes 0."""
    bars = latent.size
    step = np.std(np.diff(np.log(latent)))
    close = latent
    open_ = np.r_[latent[0], latent[:-1]] * np.exp(rng.normal(0, step / 4, bars))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, step / 2, bars)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, step / 2, bars)))
    single = rng.random(bars) < 0.05  # one trade: O = H = L = C
    open_, high, low = (np.where(single, close, x) for x in (open_, high, low))
    count = np.where(single, 1, 1 + rng.poisson(30, bars)).astype(float)
    volume = size * np.exp(rng.normal(0, 0.8, bars))
    buy = volume * rng.random(bars)
    # Mostly every trade has a side; sometimes some amount has none (unknown).
    sell = (volume - buy) * np.where(rng.random(bars) < 0.7, 1.0, rng.uniform(0.5, 1, bars))
    vwap = np.where(single, close, low + (high - low) * rng.random(bars))
    buy_count = np.floor(count * buy / volume)
    sell_count = np.floor(count * sell / volume)
    delay_min = rng.uniform(1, 20, bars)
    delay_median = delay_min + rng.uniform(0, 20, bars)
    delay_mean = delay_median + rng.uniform(0, 10, bars)
    # Received from 20% before to 10% after the close: known_at is either.
    out = opens + (seconds * US * rng.uniform(0.8, 1.1, bars)).astype(np.int64)
    mean_size = volume / count
    columns = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "quote_volume": vwap * volume,
        "vwap": vwap,
        "trade_count": count,
        "buy_volume": buy,
        "sell_volume": sell,
        "unknown_volume": np.maximum(volume - buy - sell, 0),
        "buy_count": buy_count,
        "sell_count": sell_count,
        "unknown_count": count - buy_count - sell_count,
        "mean_trade_size": mean_size,
        "max_trade_size": mean_size + (volume - mean_size) * rng.random(bars),
        "delay_min_ms": delay_min,
        "delay_median_ms": delay_median,
        "delay_mean_ms": delay_mean,
        "delay_max_ms": delay_mean + rng.uniform(0, 50, bars),
    }
    zero_when_empty = {"volume", "quote_volume", "trade_count", "buy_volume", "sell_volume"}
    zero_when_empty |= {"unknown_volume", "buy_count", "sell_count", "unknown_count"}
    for name, values in columns.items():
        columns[name] = np.where(traded, values, 0.0 if name in zero_when_empty else np.nan)
    columns["timestamp_out"] = np.where(traded, out, -1)
    return columns


def _liquidations(
    rng: np.random.Generator, volume: np.ndarray, traded: np.ndarray, has: bool
) -> dict[str, np.ndarray]:
    """Mostly 0; sometimes a few percent of the bar's volume on either side."""
    bars = volume.size
    columns = {}
    for side in ("buy", "sell"):
        hit = traded & (rng.random(bars) < 0.15)
        amount = np.where(hit, volume * rng.uniform(0, 0.05, bars), 0.0)
        columns[f"liquidation_{side}_volume"] = amount
        columns[f"liquidation_{side}_count"] = np.where(hit, 1 + rng.poisson(2, bars), 0.0)
    return {name: v if has else np.full(bars, np.nan) for name, v in columns.items()}


def _ticker(
    rng: np.random.Generator, latent: np.ndarray, traded: np.ndarray, story: Story, seconds: int
) -> dict[str, np.ndarray]:
    """Funding mostly constant, changing about every 8 hours; null on bars without a
    ticker message; open interest a positive walk (0 before NEW's first trade)."""
    bars = latent.size
    changes = rng.random(bars) < min(0.5, seconds / 28_800)
    funding = 1e-4 + np.cumsum(np.where(changes, rng.normal(0, 3e-5, bars), 0.0))
    index = latent * np.exp(rng.normal(0, 1e-4, bars))
    mark = index * (1 + 2e-4 + np.cumsum(rng.normal(0, 2e-5, bars)))
    oi = 5e4 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    message = rng.random(bars) < 0.85
    if story.listed:
        # No open interest until a dozen bars after its first trade (OI_{t−1} = 0), and
        # no funding rate announced for its first bars.
        oi = np.where(np.arange(bars) < np.argmax(traded) + 12, 0.0, oi)
        funding = np.where(np.arange(bars) < np.argmax(traded) + 3, np.nan, funding)
    columns = {
        "funding_rate": funding,
        "predicted_funding_rate": funding + rng.normal(0, 1e-5, bars),
        "mark_price": mark,
        "index_price": index,
        "open_interest": oi,
        "open_interest_change": oi - np.r_[oi[0], oi[:-1]],
        "basis": (mark - index) / index,
    }
    keep = message if story.ticker else np.zeros(bars, dtype=bool)
    return {name: np.where(keep, v, np.nan) for name, v in columns.items()}


def _book(
    rng: np.random.Generator, latent: np.ndarray, has: bool, gap: np.ndarray
) -> dict[str, np.ndarray]:
    """The book at the close, on every bar with or without trades; null on ``gap``."""
    bars = latent.size
    spread = rng.uniform(0.5, 4.0, bars)
    mid = latent * np.exp(rng.normal(0, 1e-5, bars))
    bid, ask = mid * (1 - spread / 2e4), mid * (1 + spread / 2e4)
    mid = (bid + ask) / 2
    bid_depth, ask_depth = (np.exp(rng.normal(3, 1, bars)) for _ in range(2))
    imbalance = (bid_depth - ask_depth) / (bid_depth + ask_depth)
    columns = {
        "best_bid": bid,
        "best_ask": ask,
        "mid": mid,
        "spread_bps": (ask - bid) / mid * 1e4,
        "microprice": bid + (ask - bid) * rng.random(bars),
        "bid_depth_5": bid_depth,
        "ask_depth_5": ask_depth,
        "imbalance_5": imbalance,
        "spread_bps_tw": (ask - bid) / mid * 1e4 * rng.uniform(0.8, 1.2, bars),
        "imbalance_5_tw": np.clip(imbalance + rng.normal(0, 0.05, bars), -1, 1),
    }
    keep = np.full(bars, has) & ~gap
    return {name: np.where(keep, v, np.nan) for name, v in columns.items()}


def _options(
    rng: np.random.Generator, opens: np.ndarray, has: bool, seconds: int, gap: np.ndarray
) -> dict[str, np.ndarray]:
    """ATM IV (percent) and 25-delta risk reversal as walks; null on 3% of the bars and
    on ``gap``."""
    bars = opens.size
    atm = 55 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    rr = np.cumsum(rng.normal(0, 0.3, bars)) * 0.2
    expiry = (opens // DAY_US + 10) * DAY_US + 8 * 3_600 * US + seconds * US
    keep = np.full(bars, has) & (rng.random(bars) >= 0.03) & ~gap
    columns = {
        "atm_iv": atm,
        "risk_reversal_25d": rr,
        "put_call_iv_ratio_25d": (atm - rr / 2) / (atm + rr / 2),
    }
    out: dict[str, np.ndarray] = {name: np.where(keep, v, np.nan) for name, v in columns.items()}
    out["option_expiry"] = np.where(keep, expiry, -1)
    return out


def emptied(table: pa.Table, key: str, start_us: int, end_us: int) -> pa.Table:
    """``table`` with ``key``'s bars opening in [start_us, end_us) turned into bars
    without trades (prices null, volumes and counts 0, timestamp_out null)."""
    opens = pc.cast(table["timestamp"], pa.int64())
    rows = pc.and_(
        pc.equal(table["instrument_key"], key),
        pc.and_(pc.greater_equal(opens, start_us), pc.less(opens, end_us)),
    )
    zero = ("volume", "quote_volume", "trade_count", "buy_volume", "sell_volume")
    zero += ("unknown_volume", "buy_count", "sell_count", "unknown_count")
    zero += ("liquidation_buy_volume", "liquidation_sell_volume")
    zero += ("liquidation_buy_count", "liquidation_sell_count")
    null = ("open", "high", "low", "close", "vwap", "mean_trade_size", "max_trade_size")
    null += ("delay_min_ms", "delay_median_ms", "delay_mean_ms", "delay_max_ms")
    null += ("timestamp_out",)
    for name in (*zero, *null):
        column = table[name]
        kind = column.type
        # A liquidation column that is null (no such data) stays null.
        fill = pa.scalar(None if name in null else 0, kind)
        if name.startswith("liquidation"):
            fill = pc.if_else(pc.is_null(column), pa.scalar(None, kind), fill)
        table = table.set_column(
            table.schema.get_field_index(name),
            table.schema.field(name),
            pc.if_else(rows, fill, column),
        )
    return table

"""The candle columns, declared once: every ``candles/{timeframe}`` table has exactly these.

Prices keep the instrument's quote units and volumes Tardis' ``amount`` units (base asset
on Binance, USD contracts on Deribit perpetuals). Each group is null on an instrument
that has no data of its kind; counts and volumes are 0 on a bar without events.
"""

import pyarrow as pa

from market_assets.columns import TIMESTAMP, Column, Dataset, arrow_types

PRICE = "quote currency"
AMOUNT = "Tardis amount units"
MILLISECONDS = "ms"
BPS = "basis points of the mid"


def _price(name: str, doc: str) -> Column:
    return Column(name, pa.float64(), doc, PRICE, gt=0)


def _amount(name: str, doc: str) -> Column:
    return Column(name, pa.float64(), doc, AMOUNT, ge=0)


def _count(name: str, doc: str) -> Column:
    return Column(name, pa.int64(), doc, "trades", ge=0)


def _delay(name: str, which: str) -> Column:
    return Column(name, pa.float64(), f"{which} of the bar's trades' receive delay", MILLISECONDS)


KEY_COLUMNS = (
    Column("instrument_key", pa.string(), "Canonical instrument key", nullable=False),
    Column(
        "timestamp",
        TIMESTAMP,
        "Bar open; the bar covers [timestamp, timestamp + timeframe)",
        "UTC",
        nullable=False,
    ),
)
TRADE_COLUMNS = (
    _price("open", "First trade of the bar (exchange time, ties in source order)"),
    _price("high", "Highest trade price"),
    _price("low", "Lowest trade price"),
    _price("close", "Last trade of the bar"),
    _amount("volume", "Traded amount"),
    Column("quote_volume", pa.float64(), "Σ price × amount of the bar's trades", PRICE, ge=0),
    _price("vwap", "Volume-weighted average price"),
    _count("trade_count", "Trades in the bar"),
    _amount("buy_volume", "Amount bought by takers"),
    _amount("sell_volume", "Amount sold by takers"),
    _amount("unknown_volume", "Amount of trades without a taker side"),
    _count("buy_count", "Trades with a buying taker"),
    _count("sell_count", "Trades with a selling taker"),
    _count("unknown_count", "Trades without a taker side"),
    _amount("mean_trade_size", "Mean amount per trade"),
    _amount("max_trade_size", "Largest trade's amount"),
    _delay("delay_min_ms", "Minimum"),
    _delay("delay_median_ms", "Median"),
    _delay("delay_mean_ms", "Mean"),
    _delay("delay_max_ms", "Maximum"),
    Column(
        "timestamp_out",
        TIMESTAMP,
        "Latest receive time (local_timestamp) of the bar's trades: when live code knew the bar",
        "UTC",
    ),
)
LIQUIDATION_COLUMNS = (
    _amount("liquidation_buy_volume", "Liquidated amount on the buy side (shorts liquidated)"),
    _count("liquidation_buy_count", "Buy-side liquidations"),
    _amount("liquidation_sell_volume", "Liquidated amount on the sell side (longs liquidated)"),
    _count("liquidation_sell_count", "Sell-side liquidations"),
)
TICKER_COLUMNS = (
    Column(
        "funding_rate", pa.float64(), "Last funding rate inside the bar", "fraction per interval"
    ),
    Column(
        "predicted_funding_rate",
        pa.float64(),
        "Last predicted funding rate inside the bar",
        "fraction per interval",
    ),
    _price("mark_price", "Last mark price inside the bar"),
    _price("index_price", "Last index price inside the bar"),
    Column("open_interest", pa.float64(), "Last open interest inside the bar", AMOUNT, ge=0),
    Column(
        "open_interest_change",
        pa.float64(),
        "Open interest change against the last value before the bar",
        AMOUNT,
    ),
    Column("basis", pa.float64(), "(mark − index) / index at the bar's last ticker", "fraction"),
)
BOOK_COLUMNS = (
    _price("best_bid", "Best bid of the last book snapshot before the close"),
    _price("best_ask", "Best ask of the last book snapshot before the close"),
    _price("mid", "(best bid + best ask) / 2 at the close"),
    Column("spread_bps", pa.float64(), "Best ask − best bid at the close", BPS),
    _price("microprice", "Size-weighted mid at the close"),
    _amount("bid_depth_5", "Σ amount of the five bid levels at the close"),
    _amount("ask_depth_5", "Σ amount of the five ask levels at the close"),
    Column(
        "imbalance_5",
        pa.float64(),
        "(bid depth − ask depth) / (bid + ask depth) at the close",
        "fraction",
        ge=-1,
        le=1,
    ),
    Column("spread_bps_tw", pa.float64(), "Spread weighted by how long each book stood", BPS),
    Column(
        "imbalance_5_tw",
        pa.float64(),
        "Imbalance weighted by how long each book stood",
        "fraction",
        ge=-1,
        le=1,
    ),
)
OPTION_COLUMNS = (
    Column(
        "option_expiry",
        TIMESTAMP,
        "Expiry the option features use: the nearest ≥ 7 days after the close already listed",
        "UTC",
    ),
    Column("atm_iv", pa.float64(), "Mean mark IV of the at-the-money call and put", "percent"),
    Column(
        "risk_reversal_25d", pa.float64(), "25-delta call IV − 25-delta put IV", "percent points"
    ),
    Column("put_call_iv_ratio_25d", pa.float64(), "25-delta put IV / 25-delta call IV", "ratio"),
)

CANDLES = Dataset(
    "candles",
    (
        *KEY_COLUMNS,
        *TRADE_COLUMNS,
        *LIQUIDATION_COLUMNS,
        *TICKER_COLUMNS,
        *BOOK_COLUMNS,
        *OPTION_COLUMNS,
    ),
    "One row per instrument and bar of the day, every bar present",
)

# Name -> Arrow type of each feature group, as the transforms fill them.
TRADE_FIELDS = arrow_types(TRADE_COLUMNS)
LIQUIDATION_FIELDS = arrow_types(LIQUIDATION_COLUMNS)
TICKER_FIELDS = arrow_types(TICKER_COLUMNS)
BOOK_FIELDS = arrow_types(BOOK_COLUMNS)
OPTION_FIELDS = arrow_types(OPTION_COLUMNS)

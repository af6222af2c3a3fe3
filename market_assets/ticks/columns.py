"""The raw tick tables' columns, declared once per Tardis data type.

Every table starts with its identity (``instrument_key``, ``symbol``) followed by Tardis'
own columns in file order after ``exchange,symbol``, with Tardis' names and units.
Empty cells ("not provided") are nulls, so value columns are nullable unless Tardis
always sends them.
"""

import pyarrow as pa

from market_assets.columns import LABEL, TIMESTAMP, Column, Dataset

TRADE_SIDES = ("buy", "sell", "unknown")
OPTION_TYPES = ("call", "put")
PRICE = "quote currency"
AMOUNT = "Tardis amount units"

IDENTITY = (
    Column("instrument_key", LABEL, "Canonical instrument key of the row", nullable=False),
    Column("symbol", LABEL, "Tardis symbol of the row", nullable=False),
)
_TIMES = (
    Column("timestamp", TIMESTAMP, "Exchange time of the event", "UTC, µs", nullable=False),
    Column("local_timestamp", TIMESTAMP, "When Tardis received it", "UTC, µs", nullable=False),
)


def _price(name: str, doc: str) -> Column:
    return Column(name, pa.float64(), doc, PRICE, gt=0)


def _amount(name: str, doc: str) -> Column:
    return Column(name, pa.float64(), doc, AMOUNT, ge=0)


def _tick_data(data_type: str, columns: tuple[Column, ...], doc: str) -> Dataset:
    return Dataset(data_type, (*IDENTITY, *_TIMES, *columns), doc)


def _trade_like(data_type: str, doc: str, side_doc: str) -> Dataset:
    return _tick_data(
        data_type,
        (
            Column("id", pa.string(), "Exchange's id of the event (may be empty or a UUID)"),
            Column("side", LABEL, side_doc, nullable=False, isin=TRADE_SIDES),
            Column("price", pa.float64(), "Price", PRICE, nullable=False, gt=0),
            Column("amount", pa.float64(), "Amount", AMOUNT, nullable=False, gt=0),
        ),
        doc,
    )


def _book(levels: int) -> Dataset:
    # Tardis interleaves sides level by level: asks[0].price, asks[0].amount, bids[0]...
    columns = tuple(
        column
        for level in range(levels)
        for side, word in (("asks", "ask"), ("bids", "bid"))
        for column in (
            _price(f"{side}[{level}].price", f"Price of {word} level {level}"),
            _amount(f"{side}[{level}].amount", f"Amount at {word} level {level}"),
        )
    )
    return _tick_data(
        f"book_snapshot_{levels}",
        columns,
        f"Top {levels} levels of the book per update; empty cells where a side has fewer",
    )


TRADES = _trade_like("trades", "Trades as the exchange reports them", "The taker's side")
LIQUIDATIONS = _trade_like(
    "liquidations", "Liquidations", "buy: a short was liquidated; sell: a long"
)
BOOK_SNAPSHOT_5 = _book(5)
BOOK_SNAPSHOT_25 = _book(25)
QUOTES = _tick_data(
    "quotes",
    (
        _amount("ask_amount", "Amount at the best ask"),
        _price("ask_price", "Best ask"),
        _price("bid_price", "Best bid"),
        _amount("bid_amount", "Amount at the best bid"),
    ),
    "Best bid and ask per update",
)
_FUNDING = "fraction per funding interval"
DERIVATIVE_TICKER = _tick_data(
    "derivative_ticker",
    (
        Column("funding_timestamp", TIMESTAMP, "Next funding time", "UTC, µs"),
        Column("funding_rate", pa.float64(), "Funding rate", _FUNDING, ge=-1, le=1),
        Column(
            "predicted_funding_rate", pa.float64(), "Predicted funding rate", _FUNDING, ge=-1, le=1
        ),
        Column("open_interest", pa.float64(), "Open interest", AMOUNT, ge=0),
        _price("last_price", "Last traded price"),
        _price("index_price", "Index price"),
        _price("mark_price", "Mark price"),
    ),
    "Funding, open interest, last, index and mark prices (often sparse)",
)
_COIN = "coin (Deribit)"
_IV = "percent (Deribit)"
OPTIONS_CHAIN = _tick_data(
    "options_chain",
    (
        Column("type", LABEL, "call or put", nullable=False, isin=OPTION_TYPES),
        Column("strike_price", pa.float64(), "Strike", "underlying's quote", nullable=False, gt=0),
        Column("expiration", TIMESTAMP, "Expiry", "UTC, µs", nullable=False),
        Column("open_interest", pa.float64(), "Open interest", "contracts", ge=0),
        Column("last_price", pa.float64(), "Last traded price", _COIN, ge=0),
        Column("bid_price", pa.float64(), "Best bid", _COIN, ge=0),
        Column("bid_amount", pa.float64(), "Amount at the best bid", "contracts", ge=0),
        Column("bid_iv", pa.float64(), "Implied volatility of the best bid", _IV, ge=0),
        Column("ask_price", pa.float64(), "Best ask", _COIN, ge=0),
        Column("ask_amount", pa.float64(), "Amount at the best ask", "contracts", ge=0),
        Column("ask_iv", pa.float64(), "Implied volatility of the best ask", _IV, ge=0),
        Column("mark_price", pa.float64(), "Mark price", _COIN, ge=0),
        Column("mark_iv", pa.float64(), "Implied volatility of the mark price", _IV, ge=0),
        Column("underlying_index", LABEL, "The underlying index or future"),
        Column("underlying_price", pa.float64(), "Price of the underlying", PRICE, gt=0),
        Column("delta", pa.float64(), "Delta", "per unit of the underlying", ge=-1, le=1),
        Column("gamma", pa.float64(), "Gamma"),
        Column("vega", pa.float64(), "Vega"),
        Column("theta", pa.float64(), "Theta"),
        Column("rho", pa.float64(), "Rho"),
    ),
    "Every option's quotes, IVs and greeks (Deribit publishes it under OPTIONS)",
)

TICK_DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        TRADES,
        LIQUIDATIONS,
        BOOK_SNAPSHOT_5,
        BOOK_SNAPSHOT_25,
        QUOTES,
        DERIVATIVE_TICKER,
        OPTIONS_CHAIN,
    )
}

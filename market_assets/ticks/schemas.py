"""Pandera schemas of the raw tick tables, checked on every chunk before it lands.

Prices and sizes keep Tardis' units; empty cells ("not provided") are nulls, so value
columns are nullable unless Tardis always sends them.
"""

import pandera.pyarrow as pap
import pyarrow as pa

from market_assets.tardis_csv import LABEL, LAYOUTS, TIMESTAMP

TRADE_SIDES = ["buy", "sell", "unknown"]
OPTION_TYPES = ["call", "put"]


def _identity() -> dict[str, pap.Column]:
    return {
        "instrument_key": pap.Column(LABEL, nullable=False),
        "symbol": pap.Column(LABEL, nullable=False),
        "timestamp": pap.Column(TIMESTAMP, nullable=False),
        "local_timestamp": pap.Column(TIMESTAMP, nullable=False),
    }


def _optional(arrow_type: pa.DataType, *checks: pap.Check) -> pap.Column:
    return pap.Column(arrow_type, list(checks), nullable=True)


def _schema(data_type: str, columns: dict[str, pap.Column]) -> pap.DataFrameSchema:
    schema = pap.DataFrameSchema(
        {**_identity(), **columns}, strict=True, ordered=True, name=data_type
    )
    expected = LAYOUTS[data_type].schema.names
    assert list(schema.columns) == expected, f"{data_type} schema out of step with its layout"
    return schema


def _trade_like(data_type: str) -> pap.DataFrameSchema:
    return _schema(
        data_type,
        {
            "id": _optional(pa.string()),
            "side": pap.Column(LABEL, pap.Check.isin(TRADE_SIDES), nullable=False),
            "price": pap.Column(pa.float64(), pap.Check.gt(0), nullable=False),
            "amount": pap.Column(pa.float64(), pap.Check.gt(0), nullable=False),
        },
    )


def _book(data_type: str, levels: int) -> pap.DataFrameSchema:
    columns = {}
    for level in range(levels):
        for side in ("asks", "bids"):
            # A side with fewer levels leaves empty cells; a listed level has a positive price.
            columns[f"{side}[{level}].price"] = _optional(pa.float64(), pap.Check.gt(0))
            columns[f"{side}[{level}].amount"] = _optional(pa.float64(), pap.Check.ge(0))
    return _schema(data_type, columns)


TRADES_SCHEMA = _trade_like("trades")
LIQUIDATIONS_SCHEMA = _trade_like("liquidations")
BOOK_SNAPSHOT_5_SCHEMA = _book("book_snapshot_5", 5)
BOOK_SNAPSHOT_25_SCHEMA = _book("book_snapshot_25", 25)
QUOTES_SCHEMA = _schema(
    "quotes",
    {
        "ask_amount": _optional(pa.float64(), pap.Check.ge(0)),
        "ask_price": _optional(pa.float64(), pap.Check.gt(0)),
        "bid_price": _optional(pa.float64(), pap.Check.gt(0)),
        "bid_amount": _optional(pa.float64(), pap.Check.ge(0)),
    },
)
DERIVATIVE_TICKER_SCHEMA = _schema(
    "derivative_ticker",
    {
        "funding_timestamp": _optional(TIMESTAMP),
        # Funding rates are signed fractions per funding interval.
        "funding_rate": _optional(pa.float64(), pap.Check.in_range(-1, 1)),
        "predicted_funding_rate": _optional(pa.float64(), pap.Check.in_range(-1, 1)),
        "open_interest": _optional(pa.float64(), pap.Check.ge(0)),
        "last_price": _optional(pa.float64(), pap.Check.gt(0)),
        "index_price": _optional(pa.float64(), pap.Check.gt(0)),
        "mark_price": _optional(pa.float64(), pap.Check.gt(0)),
    },
)
OPTIONS_CHAIN_SCHEMA = _schema(
    "options_chain",
    {
        "type": pap.Column(LABEL, pap.Check.isin(OPTION_TYPES), nullable=False),
        "strike_price": pap.Column(pa.float64(), pap.Check.gt(0), nullable=False),
        "expiration": pap.Column(TIMESTAMP, nullable=False),
        "open_interest": _optional(pa.float64(), pap.Check.ge(0)),
        "last_price": _optional(pa.float64(), pap.Check.ge(0)),
        "bid_price": _optional(pa.float64(), pap.Check.ge(0)),
        "bid_amount": _optional(pa.float64(), pap.Check.ge(0)),
        "bid_iv": _optional(pa.float64(), pap.Check.ge(0)),
        "ask_price": _optional(pa.float64(), pap.Check.ge(0)),
        "ask_amount": _optional(pa.float64(), pap.Check.ge(0)),
        "ask_iv": _optional(pa.float64(), pap.Check.ge(0)),
        "mark_price": _optional(pa.float64(), pap.Check.ge(0)),
        "mark_iv": _optional(pa.float64(), pap.Check.ge(0)),
        "underlying_index": _optional(LABEL),
        "underlying_price": _optional(pa.float64(), pap.Check.gt(0)),
        "delta": _optional(pa.float64(), pap.Check.in_range(-1, 1)),
        "gamma": _optional(pa.float64()),
        "vega": _optional(pa.float64()),
        "theta": _optional(pa.float64()),
        "rho": _optional(pa.float64()),
    },
)

TICK_SCHEMAS: dict[str, pap.DataFrameSchema] = {
    schema.name: schema
    for schema in (
        TRADES_SCHEMA,
        LIQUIDATIONS_SCHEMA,
        BOOK_SNAPSHOT_5_SCHEMA,
        BOOK_SNAPSHOT_25_SCHEMA,
        QUOTES_SCHEMA,
        DERIVATIVE_TICKER_SCHEMA,
        OPTIONS_CHAIN_SCHEMA,
    )
}

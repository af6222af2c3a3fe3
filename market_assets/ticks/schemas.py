"""Pandera schemas of the raw tick tables, checked on every record batch before it lands."""

import pandera.pyarrow as pap
import pyarrow as pa

from market_assets.tardis_csv import LABEL, TIMESTAMP

TRADE_SIDES = ["buy", "sell", "unknown"]

TRADES_SCHEMA = pap.DataFrameSchema(
    {
        "instrument_key": pap.Column(LABEL, nullable=False),
        "symbol": pap.Column(LABEL, nullable=False),
        "timestamp": pap.Column(TIMESTAMP, nullable=False),
        "local_timestamp": pap.Column(TIMESTAMP, nullable=False),
        "id": pap.Column(pa.string(), nullable=True),
        "side": pap.Column(LABEL, pap.Check.isin(TRADE_SIDES), nullable=False),
        "price": pap.Column(pa.float64(), pap.Check.gt(0), nullable=False),
        "amount": pap.Column(pa.float64(), pap.Check.gt(0), nullable=False),
    },
    strict=True,
    ordered=True,
    name="trades",
)

TICK_SCHEMAS: dict[str, pap.DataFrameSchema] = {"trades": TRADES_SCHEMA}

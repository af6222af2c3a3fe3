"""Candle rows as the warehouse stores them: the lake's columns plus the bar's date and venue.

Pure (pyarrow only). Column names stay lower case; types map one to one onto BigQuery's.
"""

from datetime import date

import pyarrow as pa

from market_assets.candles.bars import CANDLE_SCHEMA

WAREHOUSE_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        pa.field("venue", pa.string(), nullable=False),
        *CANDLE_SCHEMA,
    ]
)
# BigQuery's name for each Arrow type the warehouse uses.
SQL_TYPES = {
    pa.date32(): "DATE",
    pa.string(): "STRING",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP",
    pa.float64(): "FLOAT64",
    pa.int64(): "INT64",
}


def warehouse_rows(candles: pa.Table, day: date, venue: str) -> pa.Table:
    """``candles`` of one (day, venue) with ``date`` and ``venue`` in front, in
    ``WAREHOUSE_SCHEMA`` order, sorted by instrument and bar."""
    rows = candles.num_rows
    table = candles.select(CANDLE_SCHEMA.names).cast(CANDLE_SCHEMA)
    table = table.add_column(0, "venue", pa.array([venue] * rows, pa.string()))
    table = table.add_column(0, "date", pa.array([day] * rows, pa.date32()))
    return table.cast(WAREHOUSE_SCHEMA).sort_by(
        [("instrument_key", "ascending"), ("timestamp", "ascending")]
    )

"""Candle rows as the warehouse stores them: the candle columns with the bar's date and
venue in front (``WAREHOUSE_CANDLES``), declared once; the SQL types follow from the Arrow
schema in each warehouse dialect (``resources.warehouse``).

Pure (pyarrow only). Column names stay lower case.
"""

from datetime import date

import pyarrow as pa

from market_assets.candles.columns import CANDLES
from market_assets.columns import Column, Dataset

DATE = Column(
    "date", pa.date32(), "The bar's UTC date, the table's partition column", nullable=False
)
VENUE = Column("venue", pa.string(), "Tardis exchange id", nullable=False)
WAREHOUSE_CANDLES: Dataset = CANDLES.with_columns_first(
    "warehouse_candles",
    (DATE, VENUE),
    "One row per instrument and bar of a (date, venue), the candles' columns after the keys",
)


def warehouse_rows(candles: pa.Table, day: date, venue: str) -> pa.Table:
    """``candles`` (a table with ``CANDLES``' columns) of one (day, venue) as a table of
    exactly ``WAREHOUSE_CANDLES.schema``, sorted by instrument and bar."""
    rows = candles.num_rows
    table = candles.select(CANDLES.names).cast(CANDLES.schema)
    table = table.add_column(0, VENUE.field, pa.array([venue] * rows, VENUE.type))
    table = table.add_column(0, DATE.field, pa.array([day] * rows, DATE.type))
    return table.cast(WAREHOUSE_CANDLES.schema).sort_by(
        [("instrument_key", "ascending"), ("timestamp", "ascending")]
    )

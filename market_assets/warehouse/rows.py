"""Lake tables as the warehouse stores them: a dataset's columns with the row's date and
venue in front, declared once here; the SQL types follow from the Arrow schema in each
warehouse dialect (``resources.warehouse``).

Pure (pyarrow only). Column names stay lower case.
"""

from datetime import date

import pyarrow as pa

from market_assets.candles.columns import CANDLES
from market_assets.columns import Column, Dataset
from market_assets.features.columns import MFT

DATE = Column(
    "date", pa.date32(), "The bar's UTC date, the table's partition column", nullable=False
)
VENUE = Column("venue", pa.string(), "Tardis exchange id", nullable=False)


def warehouse_dataset(dataset: Dataset) -> Dataset:
    """``dataset``'s columns after the warehouse keys (date, venue)."""
    return dataset.with_columns_first(
        f"warehouse_{dataset.name}",
        (DATE, VENUE),
        f"{dataset.doc}; one (date, venue) slice per partition",
    )


WAREHOUSE_CANDLES = warehouse_dataset(CANDLES)
WAREHOUSE_MFT = warehouse_dataset(MFT)


def warehouse_rows(rows: pa.Table, day: date, venue: str, dataset: Dataset) -> pa.Table:
    """``rows`` (a table with ``dataset``'s columns) of one (day, venue) as a table of
    exactly ``warehouse_dataset(dataset).schema``, sorted by instrument and bar."""
    count = rows.num_rows
    table = rows.select(dataset.names).cast(dataset.schema)
    table = table.add_column(0, VENUE.field, pa.array([venue] * count, VENUE.type))
    table = table.add_column(0, DATE.field, pa.array([day] * count, DATE.type))
    return table.cast(warehouse_dataset(dataset).schema).sort_by(
        [("instrument_key", "ascending"), ("timestamp", "ascending")]
    )

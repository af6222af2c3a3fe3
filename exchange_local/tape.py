"""The day a local exchange replays: the generated Tardis rows of (venue, day), in arrival order.

The rows are read from the very bytes the local Tardis server serves for the same
(venue, data type, symbol, day) (`tardis_local.generate.dataset_bytes`), so a feed that
replays them can be compared value for value with the lake's tick tables. Each file holds
the events received on the day (`local_timestamp` in [day, day + 1)); the tape merges a
venue's files by `local_timestamp`, keeping each file's order for equal times.
"""

from __future__ import annotations

import gzip
import heapq
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
from pyarrow import csv

from tardis_local import catalog, generate

# The data types a live feed carries, in the order the tape breaks ties between files.
LIVE_DATA_TYPES: tuple[str, ...] = ("trades", "quotes", "book_snapshot_5", "derivative_ticker")
_TEXT_COLUMNS = ("exchange", "symbol", "id", "side")


@dataclass(frozen=True, slots=True)
class TapeRow:
    """One generated row: its Tardis data type and symbol, and its CSV columns as values
    (timestamps as int µs, empty cells as None)."""

    data_type: str
    symbol: str
    row: dict[str, object]

    @property
    def local_us(self) -> int:
        return int(self.row["local_timestamp"])  # type: ignore[arg-type]

    @property
    def timestamp_us(self) -> int:
        return int(self.row["timestamp"])  # type: ignore[arg-type]


def read_rows(csv_gz: bytes) -> list[dict[str, object]]:
    """The rows of a Tardis CSV.gz as dicts, in file order (empty file: no rows)."""
    text = gzip.decompress(csv_gz)
    if not text:
        return []
    header = text.split(b"\n", 1)[0].decode().split(",")
    types = {name: pa.string() for name in _TEXT_COLUMNS if name in header}
    types.update(
        {
            name: pa.int64()
            for name in ("timestamp", "local_timestamp", "funding_timestamp")
            if name in header
        }
    )
    types.update({name: pa.float64() for name in header if name not in types})
    table = csv.read_csv(
        io.BytesIO(text),
        convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    return table.to_pylist()


def published(venue: str, symbol: str, day: date) -> tuple[str, ...]:
    """The live data types Tardis publishes for (venue, symbol) on `day` (none when unlisted)."""
    if not catalog.is_available(venue, symbol, day):
        return ()
    offered = catalog.symbol_data_types(venue, symbol)
    return tuple(data_type for data_type in LIVE_DATA_TYPES if data_type in offered)


def file_rows(
    venue: str, data_type: str, symbol: str, day: date, rows_per_day: int | None = None
) -> list[TapeRow]:
    """The rows of the (venue, data_type, symbol, day) file the local Tardis server serves."""
    body = generate.dataset_bytes(venue, data_type, symbol, day, rows_per_day=rows_per_day)
    return [TapeRow(data_type, symbol, row) for row in read_rows(body)]


def venue_tape(
    venue: str,
    symbols: Sequence[str],
    day: date,
    *,
    data_types: Iterable[str] = LIVE_DATA_TYPES,
    rows_per_day: dict[str, int] | None = None,
) -> list[TapeRow]:
    """Every row of the venue's files of `day` for `symbols`, merged by `local_timestamp`.

    Ties between files go by data type (LIVE_DATA_TYPES order), then symbol order.
    """
    wanted = tuple(data_types)
    files = [
        file_rows(venue, data_type, symbol, day, (rows_per_day or {}).get(data_type))
        for symbol in symbols
        for data_type in published(venue, symbol, day)
        if data_type in wanted
    ]
    order = {data_type: rank for rank, data_type in enumerate(LIVE_DATA_TYPES)}
    keyed = [
        [(row.local_us, order[row.data_type], number, index, row) for index, row in enumerate(rows)]
        for number, rows in enumerate(files)
    ]
    return [item[-1] for item in heapq.merge(*keyed, key=lambda item: item[:4])]

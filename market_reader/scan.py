"""Reading the rows of a few lake files that fall inside time intervals.

Files are opened by name, never listed: on GCS a listing is a request, and the names are
known (one file per instrument for ticks, ``part-00000`` otherwise). A file that is not
there is then told apart (one listing, on that error path only): a partition not in the
lake, or a partition without the instrument. Files are opened and read a few at a time,
since on GCS each one waits on round trips.
"""

import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import pyarrow as pa

from market_assets.ticks.types import instrument_key_of_file
from market_reader.errors import LateRowsWarning, MissingInstrumentError, MissingPartitionError
from market_reader.layout import Asset
from market_reader.pushdown import KEY, TIME, Intervals, row_groups, rows_inside
from market_reader.row_groups import RowGroupReader
from resources.lake import ParquetLake

T = TypeVar("T")
R = TypeVar("R")
CONCURRENT_FILES = 8


@dataclass(frozen=True)
class Source:
    """One file of a partition to read. ``required``: its absence is an error (a day asked
    for); otherwise (the day after a tick range) it is read when it is there.
    ``instrument_key`` names the instrument a per-instrument file is for."""

    asset: Asset
    day: str
    venue: str
    name: str
    instrument_key: str | None = None
    required: bool = True


@dataclass
class Opened:
    """The sources in the lake, opened (footers read), in order."""

    readers: list[RowGroupReader]

    def columns(self, columns: Sequence[str] | None, asset: Asset) -> list[str] | None:
        """What to read: None (every column) or the keys then ``columns``; a
        ``ValueError`` names the file's columns for a column it does not have."""
        if columns is None or not self.readers:
            return None if columns is None else [KEY, TIME, *columns]
        names = self.readers[0].schema.names
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise ValueError(f"{asset.name} has no column {unknown}: its columns are {names}")
        return list(dict.fromkeys([KEY, TIME, *columns]))

    def read(
        self,
        intervals: Intervals,
        keys: Sequence[str] | None,
        columns: list[str] | None,
        *,
        exact: bool = True,
    ) -> pa.Table:
        """The rows inside ``intervals`` (and of ``keys``) of every file, in file then
        source order. ``exact=False`` keeps every row of the row groups read (those of
        ``keys`` still): for a caller that picks rows by time itself."""

        def rows(reader: RowGroupReader) -> pa.Table:
            groups = row_groups(reader.metadata, intervals, keys)
            return rows_inside(reader.read(groups, columns), intervals if exact else None, keys)

        try:
            tables = each(rows, self.readers)
        finally:
            self.close()
        return pa.concat_tables(tables, promote_options="default")

    def batches(
        self, intervals: Intervals, keys: Sequence[str] | None, columns: list[str] | None
    ) -> Iterator[pa.RecordBatch]:
        """The same rows as ``read``, a row group at a time."""
        try:
            for reader in self.readers:
                for group in row_groups(reader.metadata, intervals, keys):
                    yield from rows_inside(
                        reader.read([group], columns), intervals, keys
                    ).to_batches()
        finally:
            self.close()

    def close(self) -> None:
        for reader in self.readers:
            reader.close()


def open_sources(lake: ParquetLake, sources: Sequence[Source]) -> Opened:
    """Open every source in the lake. Raises ``MissingPartitionError`` naming every
    required partition that is not in the lake, ``MissingInstrumentError`` for one without
    the instrument's file; warns (``LateRowsWarning``) when the day after a tick range is
    not in the lake yet."""

    def attempt(source: Source) -> RowGroupReader | None:
        path = lake.partition_path(source.asset.path, source.day, source.venue)
        try:
            return RowGroupReader(path / f"{source.name}.parquet")
        except FileNotFoundError:
            return None

    opened = each(attempt, sources)
    absent = [s for s, reader in zip(sources, opened, strict=True) if reader is None]
    held = {s: lake.files(s.asset.path, s.day, s.venue) for s in absent}
    missing = sorted({(s.day, s.venue) for s in absent if s.required and not held[s]})
    if missing:
        for reader in opened:
            if reader is not None:
                reader.close()
        raise MissingPartitionError(absent[0].asset, missing, str(lake.root))
    for source in absent:
        names = [instrument_key_of_file(p.name.removesuffix(".parquet")) for p in held[source]]
        if source.required:
            raise MissingInstrumentError(
                source.asset, source.day, source.venue, source.instrument_key or source.name, names
            )
        if not held[source]:
            before = date.fromisoformat(source.day) - timedelta(days=1)
            warnings.warn(
                f"{source.asset.name} {source.day}|{source.venue} is not in the lake yet: the "
                f"rows of {before} received after its midnight, which land in that day's "
                "files, are missing from this read until it is materialised",
                LateRowsWarning,
                # The caller of the Lake's call, past open_sources and the call itself.
                stacklevel=4,
            )
    return Opened([reader for reader in opened if reader is not None])


def each(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``work`` applied to every item, a few at a time, results in the items' order."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(CONCURRENT_FILES, len(items))) as pool:
        return list(pool.map(work, items))

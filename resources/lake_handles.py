"""Lazy handles on the lake: one stored partition, and the day window over two of them.

The day window is the one place that owns "day D reads D's files and the part of D+1's
files stamped inside D": Tardis cuts files by receive time, so a day's last events sit
in the next day's file. Candles, option features, the trade-count check and the reader
all go through it. No Dagster here.
"""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from market_assets.columns import TIMESTAMP
from resources.lake import ParquetLake
from resources.storage import is_local

# Files of a look-back read at once: on a remote lake, and on a local disk (two cores).
REMOTE_READS = 16
LOCAL_READS = 2


@dataclass(frozen=True)
class LakePartition:
    """A lazy handle on one stored partition, read file by file (instrument by instrument)."""

    lake: ParquetLake
    asset_path: tuple[str, ...]
    day: str
    venue: str

    def file_names(self) -> list[str]:
        """The partition's file stems, sorted."""
        return [p.name.removesuffix(".parquet") for p in self.paths()]

    def read_file(
        self,
        name: str,
        *,
        columns: Sequence[str] | None = None,
        filters: pc.Expression | None = None,
    ) -> pa.Table:
        """One file of the partition (for tick assets: one instrument), optionally only
        the rows matching ``filters`` (row groups whose statistics exclude them are
        skipped)."""
        return self.lake.read_file(self._path(name), columns=columns, filters=filters)

    def exists(self) -> bool:
        """Whether the partition holds any file."""
        return bool(self.paths())

    def next_day(self) -> "LakePartition | None":
        """The same asset and venue on the following day; None when that is not in the lake."""
        following = str(date.fromisoformat(self.day) + timedelta(days=1))
        handle = LakePartition(self.lake, self.asset_path, following, self.venue)
        return handle if handle.exists() else None

    def row_count(self, name: str) -> int:
        """Rows of one file, from its Parquet footer."""
        return self.lake.row_count(self._path(name))

    def instrument_keys(self, name: str) -> set[str]:
        """The distinct ``instrument_key`` values of one file, read a row group at a time."""
        return self.lake.distinct(self._path(name), "instrument_key")

    def read(self) -> pa.Table:
        """The whole partition in memory; for small assets only."""
        return self.lake.read(self.asset_path, self.day, self.venue)

    def _path(self, name: str) -> Any:
        return self.lake.partition_path(self.asset_path, self.day, self.venue) / f"{name}.parquet"

    def paths(self) -> list[Any]:
        """The partition's Parquet files, sorted by name (one listing)."""
        return self.lake.files(self.asset_path, self.day, self.venue)


def days_between(start: datetime, end: datetime) -> list[str]:
    """The UTC days (``YYYY-MM-DD``) that [start, end) touches, oldest first; none when
    ``end`` is not after ``start``. Both are aware datetimes."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class WindowFile:
    """One file of a day window with the filter that keeps the window's rows of it."""

    partition: LakePartition
    name: str
    keep: pc.Expression | None  # None: every row of the day's own file

    @property
    def path(self) -> Any:
        """The file's path in the lake."""
        return self.partition._path(self.name)

    def read(
        self, columns: Sequence[str] | None = None, filters: pc.Expression | None = None
    ) -> pa.Table:
        """``columns`` of the file's rows in the window, further narrowed by ``filters``."""
        if self.keep is not None:
            filters = self.keep if filters is None else self.keep & filters
        return self.partition.read_file(self.name, columns=columns, filters=filters)


@dataclass(frozen=True)
class DayWindow:
    """Day D of one asset and venue: every row of D's files, then the rows of D+1's files
    stamped (exchange ``timestamp``) before D ends.

    ``next_day`` is None when D+1 is not in the lake or was not asked for; the window then
    says so (``next_day_included``), since D's last events are missing until it lands.
    D's own files may start with rows stamped on D−1: callers that need only D's rows
    filter with ``inside``.
    """

    day: LakePartition
    next_day: LakePartition | None
    _next_day_files: list[set[str]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        lake: ParquetLake,
        asset_path: Sequence[str],
        day: str,
        venue: str,
        *,
        include_next_day: bool = True,
    ) -> "DayWindow":
        """The window of ``day``; D+1 is part of it when asked for and in the lake."""
        handle = LakePartition(lake, tuple(asset_path), day, venue)
        return cls(handle, handle.next_day() if include_next_day else None)

    @staticmethod
    def days_holding(start: datetime, end: datetime) -> tuple[list[str], str]:
        """The days whose files hold the rows stamped in [start, end) (aware datetimes):
        every day the range touches, oldest first, and the day after the last, whose files
        begin with the last day's late rows (that day may not be in the lake yet)."""
        days = days_between(start, end)
        if not days:
            raise ValueError(f"the range [{start}, {end}) is empty")
        return days, str(date.fromisoformat(days[-1]) + timedelta(days=1))

    @property
    def next_day_included(self) -> bool:
        return self.next_day is not None

    @property
    def start(self) -> pa.TimestampScalar:
        """00:00 UTC of D."""
        midnight = datetime.combine(date.fromisoformat(self.day.day), time(), tzinfo=UTC)
        return pa.scalar(midnight, TIMESTAMP)

    @property
    def end(self) -> pa.TimestampScalar:
        """00:00 UTC of D+1, the end (exclusive) of the window's rows."""
        return pa.scalar(self.start.as_py() + timedelta(days=1), TIMESTAMP)

    @property
    def inside(self) -> pc.Expression:
        """Rows stamped inside D: ``start <= timestamp < end``."""
        return (pc.field("timestamp") >= self.start) & (pc.field("timestamp") < self.end)

    def file_names(self) -> list[str]:
        """D's file stems (for tick assets: D's instruments), sorted."""
        return self.day.file_names()

    def files(self) -> list[WindowFile]:
        """Every file of D, then every file of D+1 with its rows stamped after D left out."""
        found = [WindowFile(self.day, name, None) for name in self.day.file_names()]
        if self.next_day is not None:
            before_end = pc.field("timestamp") < self.end
            found += [WindowFile(self.next_day, name, before_end) for name in self._following()]
        return found

    def read(self, name: str, columns: Sequence[str]) -> tuple[pa.Table, int]:
        """``columns`` of D's file ``name`` followed by the rows of D+1's file of the same
        name stamped before D ends, in source order; and how many rows came from D+1."""
        today = self.day.read_file(name, columns=columns)
        if self.next_day is None or name not in self._following():
            return today, 0
        late = self.next_day.read_file(
            name, columns=columns, filters=pc.field("timestamp") < self.end
        )
        return pa.concat_tables([today, late], promote_options="default"), late.num_rows

    def rows_inside(self, column: str) -> dict[Any, int]:
        """Per value of ``column``, the rows of the window's files stamped inside D.

        Counted from the footers: a row group whose statistics say it holds one value of
        ``column`` and lies wholly inside or outside D is counted without reading it; only
        the row groups that straddle midnight (or hold several values, or lack
        statistics) are read, and only ``timestamp`` and ``column`` of them.
        """
        start, end = self.start.as_py(), self.end.as_py()
        counts: dict[Any, int] = {}
        for file in self.files():
            for value, rows in _rows_inside(file.path, column, start, end):
                counts[value] = counts.get(value, 0) + rows
        return counts

    def _following(self) -> set[str]:
        # Listed once per window: on GCS every listing is a request.
        if not self._next_day_files:
            names = self.next_day.file_names() if self.next_day is not None else []
            self._next_day_files.append(set(names))
        return self._next_day_files[0]


@dataclass(frozen=True)
class DayRange:
    """Consecutive days of one asset and venue (a look-back), oldest first; days not in
    the lake are missing, never skipped over."""

    days: tuple[LakePartition, ...]

    @classmethod
    def open(
        cls, lake: ParquetLake, asset_path: Sequence[str], days: Sequence[str], venue: str
    ) -> "DayRange":
        return cls(tuple(LakePartition(lake, tuple(asset_path), day, venue) for day in days))

    def read(self, columns: Sequence[str] | None = None) -> tuple[pa.Table | None, list[str]]:
        """The present days' rows as one table, oldest day first (None when no day is
        present), and the missing days (``YYYY-MM-DD``)."""
        listed = self.listed()
        missing = [day for day, files in listed.items() if not files]
        paths = [path for files in listed.values() for path in files]
        if not paths:
            return None, missing
        wanted = None if columns is None else list(columns)
        # Small files (a day of daily candles is a few rows): a plain read per file costs
        # half the CPU of a dataset scan over them. Read side by side: on GCS each is a
        # round trip; on a disk two cores share the footers' decoding (a 1d look-back of
        # 251 files: 0.21 s one by one, 0.15 s two at a time).
        readers = (LOCAL_READS if is_local(paths[0]) else REMOTE_READS) if len(paths) > 1 else 1
        if readers == 1:
            tables = [_read_whole(path, wanted) for path in paths]
        else:
            with ThreadPoolExecutor(readers) as pool:
                tables = list(pool.map(lambda path: _read_whole(path, wanted), paths))
        return pa.concat_tables(tables, promote_options="default"), missing

    def listed(self) -> dict[str, list[Any]]:
        """Per day, oldest first, its Parquet files sorted by name (none: missing), from one
        listing per calendar month the days touch (on GCS a listing is a request)."""
        if not self.days:
            return {}
        first = self.days[0]
        lake, asset_path, venue = first.lake, first.asset_path, first.venue
        folder = lake.root.joinpath(*asset_path)
        found: dict[str, list[Any]] = {day.day: [] for day in self.days}
        partition_of = {lake.partition_path(asset_path, day, venue).path: day for day in found}
        for month in sorted({day[:7] for day in found}):
            pattern = lake.partition_path(asset_path, f"{month}-*", venue)
            relative = pattern.path.removeprefix(folder.path).lstrip("/")
            for path in folder.glob(f"{relative}/*.parquet"):
                day = partition_of.get(path.parent.path)
                if day is not None:
                    found[day].append(path)
        return {day: sorted(paths, key=lambda path: path.name) for day, paths in found.items()}


def _read_whole(path: Any, columns: list[str] | None) -> pa.Table:
    """``columns`` of one Parquet file, every row; an error naming the file when it lacks
    one of them."""
    if is_local(path):
        return _read_columns(pq.ParquetFile(path.path), path, columns)
    with path.fs.open(path.path, "rb") as handle:
        return _read_columns(pq.ParquetFile(handle), path, columns)


def _read_columns(parquet: pq.ParquetFile, path: Any, columns: list[str] | None) -> pa.Table:
    table = parquet.read(columns=columns, use_threads=False)
    absent = sorted(set(columns or ()) - set(table.column_names))  # read skips them quietly
    if absent:
        raise ValueError(
            f"{path} holds no column {', '.join(absent)}: it was not written with the asset's "
            "columns; rematerialise its partition"
        )
    return table


def _rows_inside(
    path: Any, column: str, start: datetime, end: datetime
) -> Iterator[tuple[Any, int]]:
    """(value of ``column``, rows stamped in [start, end)) of one Parquet file, row group by
    row group: from the statistics where they decide, else from the two columns read."""
    with path.fs.open(path.path, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        names = parquet.schema_arrow.names
        stamp_at, value_at = names.index("timestamp"), names.index(column)
        for number in range(parquet.metadata.num_row_groups):
            group = parquet.metadata.row_group(number)
            stamps = group.column(stamp_at).statistics
            values = group.column(value_at).statistics
            decided = (
                stamps is not None
                and stamps.has_min_max
                and stamps.null_count == 0
                and values is not None
                and values.has_min_max
                and values.null_count == 0
                and values.min == values.max
            )
            if decided and (stamps.max < start or stamps.min >= end):
                continue
            if decided and start <= stamps.min and stamps.max < end:
                yield values.min, group.num_rows
                continue
            table = parquet.read_row_group(number, columns=["timestamp", column])
            inside = pc.and_(
                pc.greater_equal(table["timestamp"], pa.scalar(start, TIMESTAMP)),
                pc.less(table["timestamp"], pa.scalar(end, TIMESTAMP)),
            )
            kept = table[column].filter(inside)
            if pa.types.is_dictionary(kept.type):
                kept = kept.cast(kept.type.value_type)
            for entry in pc.value_counts(kept).to_pylist():
                yield entry["values"], entry["counts"]

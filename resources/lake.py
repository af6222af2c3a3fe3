"""The Parquet lake: Hive-partitioned files on a local folder or ``gs://``.

Layout: ``{root}/{asset key path}/date=YYYY-MM-DD/venue={venue}/{file}.parquet``, zstd,
row groups of up to 32,768 rows or 64 MiB, timestamps as UTC ``TIMESTAMP``. A partition is
replaced whole: files are written to a staging area first and published only once
every one of them is complete, so a failed write changes nothing and a rerun leaves
exactly the new files.
"""

import contextlib
import errno
import json
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from upath import UPath

from resources.storage import is_local, upath

# Row groups close at 32,768 rows or 64 MiB of Arrow data, whichever comes first: a busy
# day's trades (5 million) make 155 groups of ~9 minutes, so a window of a few minutes
# reads one or two (0.7 to 1.3% of the file) where groups of a million rows made it read
# a fifth; full scans measured no slower (two cores decode more groups side by side), the
# file no larger; the footer grows to 130 kB for such a day. (README, "Reading it back".)
ROW_GROUP_ROWS = 1 << 15
ROW_GROUP_BYTES = 64 << 20
# Rows gathered, checked and encoded at once, cut into row groups as they are written:
# a check has a fixed cost per call (~20 ms of pandera) that a million rows amortise.
CHECKED_ROWS = 1 << 20
T = TypeVar("T")
COMPRESSION = "zstd"
# A file of fewer bytes of Arrow data is stored uncompressed: a day of daily candles
# (a row per instrument) is about as large either way, and every column chunk zstd
# decompresses costs ~10 µs more to read, a third of the read of such a file (a 1d
# feature day reads 251 of them).
UNCOMPRESSED_BELOW_BYTES = 64 << 10
# A staging folder this old belongs to a run that died; the next write removes it.
STALE_STAGING_SECONDS = 86_400
_PUBLISH_ATTEMPTS = 5
# Footer key of the NaN count of each float column, {"price": 0, ...}, as JSON.
NAN_COUNTS = "lake.nan_counts"


@dataclass(frozen=True)
class LakeFile:
    """One Parquet file of a partition, written from a stream of record batches.

    ``name`` is the file stem, unique within the partition; ``source`` is provenance
    (URL, sha256, ...) that ends up in the materialisation metadata, or a function giving
    it once every batch has been read (a hash found by the same read); ``check`` is called
    on every row group before it is written, and raises to refuse the whole partition.
    ``batches`` that may raise ``ReadAgain`` must start over each time they are iterated.
    """

    name: str
    schema: pa.Schema
    batches: Iterable[pa.RecordBatch | pa.Table]
    source: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict)
    check: Callable[[pa.Table], None] | None = None


@dataclass(frozen=True)
class TickStream:
    """A partition too big for memory: files produced one after another as they are read."""

    files: Iterator[LakeFile]


@dataclass(frozen=True)
class WrittenFile:
    """What landed for one ``LakeFile``."""

    name: str
    rows: int
    bytes: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    source: Mapping[str, Any]


@dataclass(frozen=True)
class WrittenPartition:
    """What landed for one partition, for metadata and logs."""

    path: str
    files: tuple[WrittenFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def first_timestamp(self) -> datetime | None:
        return min((f.first_timestamp for f in self.files if f.first_timestamp), default=None)

    @property
    def last_timestamp(self) -> datetime | None:
        return max((f.last_timestamp for f in self.files if f.last_timestamp), default=None)


class LakeNotWritable(OSError):
    """The lake's root cannot be written at all: a setting to fix, not a fault to retry."""


class ParquetLake:
    """Read and write whole partitions of the lake at ``root`` (folder or ``gs://``)."""

    def __init__(self, root: str, *, anonymous: bool = False) -> None:
        self.root = upath(root, anonymous=anonymous)

    def partition_path(self, asset_path: Sequence[str], day: str, venue: str) -> UPath:
        """``{root}/{asset path}/date={day}/venue={venue}``."""
        return self.root.joinpath(*asset_path, f"date={day}", f"venue={venue}")

    def files(self, asset_path: Sequence[str], day: str, venue: str) -> list[UPath]:
        """The Parquet files of one partition, sorted by name; empty when it is absent."""
        folder = self.partition_path(asset_path, day, venue)
        if not folder.exists():
            return []
        return sorted(p for p in folder.iterdir() if p.name.endswith(".parquet"))

    def read(
        self,
        asset_path: Sequence[str],
        day: str,
        venue: str,
        *,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """One whole partition as a table. Raises ``FileNotFoundError`` when absent."""
        files = self.files(asset_path, day, venue)
        if not files:
            raise FileNotFoundError(
                f"{self.partition_path(asset_path, day, venue)} holds no Parquet files: "
                f"materialise {'/'.join(asset_path)} for {day}|{venue} first"
            )
        return pa.concat_tables(
            [self.read_file(path, columns=columns) for path in files], promote_options="default"
        )

    def read_file(
        self,
        path: UPath,
        *,
        columns: Sequence[str] | None = None,
        filters: pc.Expression | None = None,
    ) -> pa.Table:
        """One Parquet file of the lake, optionally only the rows matching ``filters``."""
        wanted = None if columns is None else list(columns)
        if is_local(path):
            return pq.read_table(path.path, columns=wanted, filters=filters)
        # Opened and closed here: fsspec's read-ahead ends with the read, not at exit.
        with path.fs.open(path.path, "rb") as handle:
            return pq.read_table(handle, columns=wanted, filters=filters)

    def read_files(
        self, paths: Sequence[UPath], *, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """Many Parquet files of the lake as one table, in the order given, read side by
        side (a look-back of hundreds of small files pays one call, not one each)."""
        wanted = None if columns is None else list(columns)
        local = is_local(paths[0])
        return pq.read_table(
            [path.path for path in paths],
            columns=wanted,
            filesystem=None if local else paths[0].fs,
        )

    def row_count(self, path: UPath) -> int:
        """Rows of one Parquet file, from its footer."""
        with path.fs.open(path.path, "rb") as handle:
            return pq.ParquetFile(handle).metadata.num_rows

    def distinct(self, path: UPath, column: str) -> set[Any]:
        """The distinct values of one column of a Parquet file, in bounded memory."""
        values: set[Any] = set()
        with path.fs.open(path.path, "rb") as handle:
            for batch in pq.ParquetFile(handle).iter_batches(columns=[column]):
                values.update(pc.unique(batch.column(0)).to_pylist())
        return values

    def write_partition(
        self,
        asset_path: Sequence[str],
        day: str,
        venue: str,
        files: Iterable[LakeFile],
        *,
        on_file: Callable[[WrittenFile], None] | None = None,
    ) -> WrittenPartition:
        """Write ``files`` as the whole partition, replacing what was there.

        Nothing is visible until every file is complete; on any error the staging area
        is removed and the previous partition stays as it was.
        """
        final = self.partition_path(asset_path, day, venue)
        staging = self._staging_dir()
        written: list[WrittenFile] = []
        try:
            for lake_file in files:
                if any(w.name == lake_file.name for w in written):
                    raise ValueError(f"{final}: two files named {lake_file.name}.parquet")
                done = _write_file(staging / f"{lake_file.name}.parquet", lake_file)
                written.append(done)
                if on_file:
                    on_file(done)
            self._publish(staging, final)
        except OSError as error:
            if error.errno != errno.ENOSPC and "No space left" not in str(error):
                raise
            raise OSError(
                errno.ENOSPC,
                f"the disk holding the lake is full while writing {final} (staged in "
                f"{staging}); nothing of {day}|{venue} was published. Free space there, or "
                "point MARKET_DATA_ROOT at a larger disk, then rerun the partition",
            ) from error
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return WrittenPartition(path=str(final), files=tuple(written))

    def _staging_dir(self) -> Path:
        # Staging beside the lake on the same filesystem makes the local publish a rename;
        # it sits outside every asset folder so no reader's glob ever sees it.
        if is_local(self.root):
            parent = Path(self.root.path) / "_staging"
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LakeNotWritable(
                    error.errno,
                    f"the lake at {self.root.path} cannot be written ({error.strerror}: "
                    f"{error.filename}): point MARKET_DATA_ROOT at a folder this process may "
                    "write, or fix the folder's permissions or mount",
                ) from error
            _sweep_stale(parent)
            return Path(tempfile.mkdtemp(prefix=f"{uuid.uuid4().hex}-", dir=parent))
        return Path(tempfile.mkdtemp(prefix="lake-staging-"))

    def _publish(self, staging: Path, final: UPath) -> None:
        if is_local(final):
            target = Path(final.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            retired = staging.with_name(staging.name + "-retired")
            # Another run of the same partition may publish between the two renames: its
            # copy is retired in turn and this one goes in (the last to publish wins).
            for _ in range(_PUBLISH_ATTEMPTS):
                with contextlib.suppress(FileNotFoundError):
                    target.rename(retired)
                try:
                    staging.rename(target)
                    break
                except OSError as error:
                    if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    shutil.rmtree(retired, ignore_errors=True)
            else:
                raise OSError(errno.EEXIST, f"{target}: other runs kept publishing it; rerun")
            shutil.rmtree(retired, ignore_errors=True)
            return
        # Object stores have no folder rename. The slow part, the upload, goes to a staging
        # prefix outside every asset folder, so a run that dies uploading leaves nothing a
        # reader sees; then the store copies each object into place itself (no data through
        # this process) and the stale ones go. Each object write is atomic and names are
        # stable: readers see whole files, never two copies of an instrument.
        fs = final.fs
        remote = f"{self.root.path}/_staging/{uuid.uuid4().hex}"
        new_names = sorted(p.name for p in staging.iterdir())
        _sweep_stale_objects(fs, f"{self.root.path}/_staging")
        try:
            for name in new_names:
                fs.put_file(str(staging / name), f"{remote}/{name}")
            for name in new_names:
                fs.copy(f"{remote}/{name}", f"{final.path}/{name}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                fs.rm(remote, recursive=True)
        if final.exists():
            for stale in final.iterdir():
                if stale.name not in new_names:
                    stale.fs.rm_file(stale.path)


def _sweep_stale(parent: Path) -> None:
    """Remove staging folders older than ``STALE_STAGING_SECONDS``: a crashed run's (a
    SIGKILL skips every ``finally``). No run stages one partition for that long."""
    cutoff = time.time() - STALE_STAGING_SECONDS
    for entry in parent.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


def _sweep_stale_objects(fs: Any, prefix: str) -> None:
    """The object-store twin of ``_sweep_stale``: staged objects older than
    ``STALE_STAGING_SECONDS`` (a killed run's upload) are removed."""
    cutoff = datetime.now(UTC).timestamp() - STALE_STAGING_SECONDS
    with contextlib.suppress(FileNotFoundError):
        for path, info in fs.find(prefix, detail=True).items():
            updated = info.get("updated") or info.get("timeCreated")
            if (
                updated
                and datetime.fromisoformat(updated.replace("Z", "+00:00")).timestamp() < cutoff
            ):
                fs.rm_file(path)


class ReadAgain(Exception):
    """Raised by a ``LakeFile``'s batches when the rows given so far came from a bad copy
    of their source and a good one now stands in its place: the file is written again
    from the start, from a fresh iteration of the same ``batches``."""


def _write_file(path: Path, lake_file: LakeFile) -> WrittenFile:
    while True:
        try:
            return _write_file_once(path, lake_file)
        except ReadAgain:
            path.unlink(missing_ok=True)


def _write_file_once(path: Path, lake_file: LakeFile) -> WrittenFile:
    rows = 0
    first: datetime | None = None
    last: datetime | None = None
    floats = [f.name for f in lake_file.schema if pa.types.is_floating(f.type)]
    nans = dict.fromkeys(floats, 0)
    writer: pq.ParquetWriter | None = None
    try:
        # Reading (decompress, parse, group, check) runs ahead in a thread while this one
        # encodes and compresses: both release the GIL, so two cores work at once.
        for group in prefetched(row_groups(lake_file.batches, lake_file.check)):
            if writer is None:
                writer = _writer(path, lake_file.schema, group)
            rows += group.num_rows
            first, last = _widen(first, last, group)
            for name in floats:
                nans[name] += pc.sum(pc.is_nan(group.column(name))).as_py() or 0
            writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
        if writer is None:
            writer = _writer(path, lake_file.schema, None)
        writer.add_key_value_metadata({NAN_COUNTS: json.dumps(nans)})
    finally:
        if writer is not None:
            writer.close()
    source = lake_file.source() if callable(lake_file.source) else lake_file.source
    return WrittenFile(
        name=lake_file.name,
        rows=rows,
        bytes=path.stat().st_size,
        first_timestamp=first,
        last_timestamp=last,
        source=dict(source),
    )


def _writer(path: Path, schema: pa.Schema, first: pa.Table | None) -> pq.ParquetWriter:
    """The Parquet writer of a file whose first group of rows is ``first`` (None: no rows).

    A group under ``UNCOMPRESSED_BELOW_BYTES`` is under ``row_groups``' thresholds, so it
    is the whole file, and the file is written uncompressed."""
    options = writer_options(schema)
    if first is not None and first.nbytes < UNCOMPRESSED_BELOW_BYTES:
        options["compression"] = "none"
    return pq.ParquetWriter(path, schema, **options)


def nan_counts(metadata: pq.FileMetaData) -> dict[str, int] | None:
    """The NaN count of each float column the lake wrote into a file's footer (Parquet's
    own min/max leave NaNs out); None for a file written without them."""
    found = (metadata.metadata or {}).get(NAN_COUNTS.encode())
    return None if found is None else json.loads(found)


def row_groups(
    batches: Iterable[pa.RecordBatch | pa.Table], check: Callable[[pa.Table], None] | None = None
) -> Iterator[pa.Table]:
    """``batches`` gathered into tables of ``CHECKED_ROWS`` rows or ``ROW_GROUP_BYTES`` of
    Arrow data, whichever comes first, each passed to ``check``; the writer cuts each into
    row groups of ``ROW_GROUP_ROWS``.

    The one batching stage between a producer (the Tardis parser, a transform) and the
    file: validating a million rows at a time keeps its fixed cost per call negligible.
    """
    pending: list[pa.Table] = []
    pending_rows = pending_bytes = 0
    for chunk in batches:
        if chunk.num_rows == 0:
            continue
        pending.append(
            pa.Table.from_batches([chunk]) if isinstance(chunk, pa.RecordBatch) else chunk
        )
        pending_rows += chunk.num_rows
        pending_bytes += chunk.nbytes
        if pending_rows >= CHECKED_ROWS or pending_bytes >= ROW_GROUP_BYTES:
            yield _checked(pa.concat_tables(pending), check)
            pending, pending_rows, pending_bytes = [], 0, 0
    if pending:
        yield _checked(pa.concat_tables(pending), check)


def _checked(group: pa.Table, check: Callable[[pa.Table], None] | None) -> pa.Table:
    if check is not None:
        check(group)
    return group


def writer_options(schema: pa.Schema) -> dict[str, Any]:
    """Parquet encodings chosen from the column types, for speed and size.

    Labels (dictionary columns) keep their dictionaries; timestamps, near-sorted, take
    delta encoding; free strings (trade ids) share prefixes. Trying dictionaries on
    mostly-unique columns only to give up costs a quarter of the write time.
    """
    labels = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    encodings = {}
    for column in schema:
        if pa.types.is_timestamp(column.type) or pa.types.is_integer(column.type):
            encodings[column.name] = "DELTA_BINARY_PACKED"
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            encodings[column.name] = "DELTA_BYTE_ARRAY"
    return {
        "compression": COMPRESSION,
        "use_dictionary": labels,
        "column_encoding": encodings,
    }


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a background thread up to ``depth`` ahead of the consumer.

    An exception in the producer is raised in the consumer; a consumer that stops early
    stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce, args=(items, buffer, stop), name="lake-prefetch", daemon=True
    )
    producer.start()
    try:
        yield from _drained(buffer)
    finally:
        stop.set()
        producer.join()


class ReadAhead(Iterable[T]):
    """What ``read()`` gives, produced by a background thread from the moment this is
    made, up to ``depth`` ahead, before anyone iterates: a venue-day's next file parses
    while the lake writes the current one.

    The first iteration takes the items from that thread (its exceptions raised there);
    a later one (the writer's after a ``ReadAgain``) calls ``read()`` afresh. ``close()``
    stops the thread, for items that will never be wanted.
    """

    def __init__(self, read: Callable[[], Iterable[T]], depth: int = 1) -> None:
        self._read = read
        self._buffer: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._taken = False
        self._producer = threading.Thread(
            target=_produce,
            args=(read(), self._buffer, self._stop),
            name="lake-read-ahead",
            daemon=True,
        )
        self._producer.start()

    def __iter__(self) -> Iterator[T]:
        if self._taken:
            return iter(self._read())
        self._taken = True
        return self._drain()

    def _drain(self) -> Iterator[T]:
        try:
            yield from _drained(self._buffer)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the thread (at once when it waits to hand over; after its current item)."""
        self._stop.set()
        self._producer.join()


def _produce(items: Iterable[object], buffer: queue.Queue, stop: threading.Event) -> None:
    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for item in items:
            if not offer(item):
                return
        offer(_END)
    except BaseException as error:  # handed to the consumer, which re-raises it
        offer(_Raised(error))


def _drained(buffer: queue.Queue) -> Iterator[T]:
    while True:
        item = buffer.get()
        if item is _END:
            return
        if isinstance(item, _Raised):
            raise item.error
        yield item


_END = object()


@dataclass(frozen=True)
class _Raised:
    error: BaseException


def _widen(
    first: datetime | None, last: datetime | None, batch: pa.RecordBatch | pa.Table
) -> tuple[datetime | None, datetime | None]:
    if "timestamp" not in batch.schema.names:
        return first, last
    bounds = pc.min_max(batch.column("timestamp"))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None:
        return first, last
    return (low if first is None else min(first, low)), (high if last is None else max(last, high))


def describe_lake(lake: ParquetLake) -> list[dict[str, Any]]:
    """One row per stored partition: asset, date, venue, files, rows, bytes."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in lake.root.rglob("*.parquet"):
        parts = path.relative_to(lake.root).parts
        if parts[0] == "_staging" or len(parts) < 4:
            continue
        asset, day, venue = "/".join(parts[:-3]), parts[-3], parts[-2]
        row = found.setdefault(
            (asset, day, venue),
            {
                "asset": asset,
                "date": day.removeprefix("date="),
                "venue": venue.removeprefix("venue="),
            },
        )
        row["files"] = row.get("files", 0) + 1
        row["rows"] = row.get("rows", 0) + lake.row_count(path)
        row["bytes"] = row.get("bytes", 0) + path.stat().st_size
    return [found[key] for key in sorted(found)]

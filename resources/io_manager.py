"""The lake as a Dagster IO manager: assets return data, the lake stores whole partitions."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import (
    ConfigurableIOManager,
    InputContext,
    MetadataValue,
    OutputContext,
    TableColumn,
    TableRecord,
    TableSchema,
)

from resources.lake import LakeFile, ParquetLake, TickStream, WrittenFile, WrittenPartition


@dataclass(frozen=True)
class LakePartition:
    """A lazy handle on one stored partition, read file by file (instrument by instrument)."""

    lake: ParquetLake
    asset_path: tuple[str, ...]
    day: str
    venue: str

    def file_names(self) -> list[str]:
        """The partition's file stems, sorted."""
        return [p.name.removesuffix(".parquet") for p in self._files()]

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
        path = self.lake.partition_path(self.asset_path, self.day, self.venue) / f"{name}.parquet"
        return self.lake.read_file(path, columns=columns, filters=filters)

    def exists(self) -> bool:
        """Whether the partition holds any file."""
        return bool(self._files())

    def next_day(self) -> "LakePartition | None":
        """The same asset and venue on the following day; None when that is not in the lake."""
        following = str(date.fromisoformat(self.day) + timedelta(days=1))
        handle = LakePartition(self.lake, self.asset_path, following, self.venue)
        return handle if handle.exists() else None

    def row_count(self, name: str) -> int:
        """Rows of one file, from its Parquet footer."""
        path = self.lake.partition_path(self.asset_path, self.day, self.venue) / f"{name}.parquet"
        return self.lake.row_count(path)

    def instrument_keys(self, name: str) -> set[str]:
        """The distinct ``instrument_key`` values of one file, read a row group at a time."""
        path = self.lake.partition_path(self.asset_path, self.day, self.venue) / f"{name}.parquet"
        return self.lake.distinct(path, "instrument_key")

    def read(self) -> pa.Table:
        """The whole partition in memory; for small assets only."""
        return self.lake.read(self.asset_path, self.day, self.venue)

    def _files(self) -> list[Any]:
        return self.lake.files(self.asset_path, self.day, self.venue)


@dataclass(frozen=True)
class LakeDays:
    """A day's partition of an upstream asset and, when it has landed, the next day's
    (Tardis cuts files by receive time, so a day's last ticks sit in the next day's file).
    """

    day: LakePartition
    next_day: LakePartition | None


def partition_of(context: OutputContext | InputContext) -> tuple[str, str]:
    """(``YYYY-MM-DD``, venue) of the single partition an IO call is about."""
    if not context.has_asset_partitions:
        raise ValueError(f"{context.asset_key.to_user_string()} is not partitioned by date × venue")
    key = context.asset_partition_key
    dimensions = getattr(key, "keys_by_dimension", None)
    if not dimensions:
        raise ValueError(f"partition key {key!r} is not a date|venue multi-partition key")
    return dimensions["date"], dimensions["venue"]


def partition_of_run(context: InputContext) -> tuple[str, str]:
    """(``YYYY-MM-DD``, venue) of the partition the consuming step runs for."""
    dimensions = getattr(context.partition_key, "keys_by_dimension", None)
    if not dimensions:
        raise ValueError(f"partition key {context.partition_key!r} is not a date|venue key")
    return dimensions["date"], dimensions["venue"]


class LakeIOManager(ConfigurableIOManager):
    """Stores each partition of an asset as Parquet under ``root`` (folder or ``gs://``).

    An asset returns either a ``pa.Table`` (one file, ``part-00000.parquet``) or a
    ``TickStream`` of ``LakeFile``s written as they come. Downstream inputs annotated
    ``LakePartition`` get a lazy handle; anything else gets the whole table.
    """

    root: str = "./data"

    @property
    def lake(self) -> ParquetLake:
        return ParquetLake(self.root)

    def handle_output(self, context: OutputContext, obj: pa.Table | TickStream) -> None:
        day, venue = partition_of(context)
        if isinstance(obj, pa.Table):
            files = iter([LakeFile("part-00000", obj.schema, obj.to_batches())])
        elif isinstance(obj, TickStream):
            files = obj.files
        else:
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; "
                "the lake stores pyarrow Tables and TickStreams"
            )
        asset_path = tuple(context.asset_key.path)

        def progress(done: WrittenFile) -> None:
            context.log.info(f"{day}|{venue} {done.name}: {done.rows:,} rows, {done.bytes:,} bytes")

        written = self.lake.write_partition(asset_path, day, venue, files, on_file=progress)
        context.add_output_metadata(written_metadata(written))

    def load_input(self, context: InputContext) -> pa.Table | LakePartition | LakeDays:
        if context.dagster_type.typing_type is LakeDays:
            return self._days(context)
        day, venue = partition_of(context)
        handle = LakePartition(self.lake, tuple(context.asset_key.path), day, venue)
        if context.dagster_type.typing_type is LakePartition:
            return handle
        return handle.read()

    def _days(self, context: InputContext) -> LakeDays:
        """The downstream partition's day and the next one, from a next-day mapping."""
        day, venue = partition_of_run(context)
        asset_path = tuple(context.asset_key.path)
        upstream = {key.keys_by_dimension["date"] for key in context.asset_partition_keys}
        if day not in upstream:
            raise ValueError(
                f"{'/'.join(asset_path)} is mapped to {sorted(upstream)} for {day}|{venue}; "
                "a LakeDays input needs the day itself and at most the next day"
            )
        handle = LakePartition(self.lake, asset_path, day, venue)
        following = str(date.fromisoformat(day) + timedelta(days=1))
        return LakeDays(day=handle, next_day=handle.next_day() if following in upstream else None)


def written_metadata(written: WrittenPartition) -> dict[str, Any]:
    """Materialisation metadata of one written partition."""
    metadata: dict[str, Any] = {
        "path": MetadataValue.path(written.path),
        "rows": MetadataValue.int(written.rows),
        "bytes": MetadataValue.int(written.bytes),
        "files": MetadataValue.int(len(written.files)),
    }
    if written.first_timestamp is not None:
        metadata["first_timestamp"] = MetadataValue.text(written.first_timestamp.isoformat())
        metadata["last_timestamp"] = MetadataValue.text(written.last_timestamp.isoformat())
    sources = [f for f in written.files if f.source]
    if sources:
        metadata["sources"] = MetadataValue.table(
            records=[
                TableRecord(
                    {
                        "file": f.name,
                        "rows": f.rows,
                        "url": str(f.source.get("url", "")),
                        "sha256": str(f.source.get("sha256", "")),
                        "empty_source": bool(f.source.get("empty", False)),
                    }
                )
                for f in sources
            ],
            schema=TableSchema(
                columns=[
                    TableColumn("file", "string"),
                    TableColumn("rows", "int"),
                    TableColumn("url", "string"),
                    TableColumn("sha256", "string"),
                    TableColumn("empty_source", "bool"),
                ]
            ),
        )
    return metadata

"""The lake as a Dagster IO manager: assets return data, the lake stores whole partitions."""

from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from dagster import (
    ConfigurableIOManager,
    Failure,
    InputContext,
    MetadataValue,
    OutputContext,
    TableColumn,
    TableRecord,
    TableSchema,
)
from pydantic import Field

from resources.environment import DEFAULT_LAKE_ROOT
from resources.lake import (
    LakeFile,
    LakeNotWritable,
    ParquetLake,
    TickStream,
    WrittenFile,
    WrittenPartition,
)
from resources.lake_handles import DayRange, DayWindow, LakePartition


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
    ``LakePartition`` get a lazy handle, ``DayWindow`` the day window of a next-day
    mapping, ``DayRange`` the days of a look-back mapping; anything else gets the whole
    table.
    """

    root: str = Field(default=DEFAULT_LAKE_ROOT, description="Folder or gs://bucket/prefix.")
    anonymous_gcs: bool = Field(
        default=False, description="Unsigned requests to a gs:// lake (the GCS emulator)."
    )

    @property
    def lake(self) -> ParquetLake:
        return ParquetLake(self.root, anonymous=self.anonymous_gcs)

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

        try:
            written = self.lake.write_partition(asset_path, day, venue, files, on_file=progress)
        except LakeNotWritable as error:
            raise Failure(
                description=f"{day}|{venue}: {error.strerror}", allow_retries=False
            ) from error
        context.add_output_metadata(written_metadata(written))

    def load_input(self, context: InputContext) -> pa.Table | LakePartition | DayWindow | DayRange:
        if context.dagster_type.typing_type is DayWindow:
            return self._window(context)
        if context.dagster_type.typing_type is DayRange:
            _, venue = partition_of_run(context)
            days = sorted({key.keys_by_dimension["date"] for key in context.asset_partition_keys})
            return DayRange.open(self.lake, tuple(context.asset_key.path), days, venue)
        day, venue = partition_of(context)
        handle = LakePartition(self.lake, tuple(context.asset_key.path), day, venue)
        if context.dagster_type.typing_type is LakePartition:
            return handle
        try:
            return handle.read()
        except FileNotFoundError as error:
            raise missing_upstream(context, day, venue) from error

    def _window(self, context: InputContext) -> DayWindow:
        """The downstream partition's day window, from a next-day mapping: D+1 is in it
        when the mapping reaches it (it exists as a partition) and it is in the lake."""
        day, venue = partition_of_run(context)
        asset_path = tuple(context.asset_key.path)
        upstream = {key.keys_by_dimension["date"] for key in context.asset_partition_keys}
        if day not in upstream:
            raise ValueError(
                f"{'/'.join(asset_path)} is mapped to {sorted(upstream)} for {day}|{venue}; "
                "a DayWindow input needs the day itself and at most the next day"
            )
        following = str(date.fromisoformat(day) + timedelta(days=1))
        return DayWindow.open(
            self.lake, asset_path, day, venue, include_next_day=following in upstream
        )


def missing_upstream(context: InputContext, day: str, venue: str) -> Failure:
    """The failure of a step whose upstream partition is not in the lake: final (a retry
    reads the same empty folder), naming the partition and the command that fills it."""
    asset = context.asset_key.to_user_string()
    return Failure(
        description=(
            f"{asset} of {day}|{venue} is not in the lake, and the step reading it needs "
            f"it. Materialise it first: dagster asset materialize -m market_assets "
            f"--select '{asset}' --partition '{day}|{venue}' (or backfill both together)"
        ),
        allow_retries=False,
    )


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

"""Raw tick assets: Tardis files parsed, validated and streamed into the lake as they are read."""

from collections.abc import Callable, Iterator
from functools import partial

import pandera.errors
import pandera.pyarrow as pap
import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset,
)

from market_assets.runs import ONE_PARTITION_PER_RUN, TARDIS_RETRY, day_and_venue
from market_assets.schemas import column_schema_metadata, pandera_schema
from market_assets.ticks.tardis_csv import TardisFormatError, TardisGzipError, read_tardis_csv
from market_assets.ticks.types import TICK_TYPES, TickType, file_name
from market_assets.universe import VenueUniverse
from resources.lake import LakeFile, ReadAgain, ReadAhead, TickStream, row_groups
from resources.tardis import SourceFile, TardisSource, as_failure
from resources.tardis_downloads import fetched_files
from resources.universe import UniverseResource

# Tardis downloads share one concurrency pool so backfills respect its rate limits.
TARDIS_POOL = "tardis"


def schema_check(schema: pap.DataFrameSchema, source: SourceFile) -> Callable[[pa.Table], None]:
    """A lake file check that validates each row group of ``source`` against ``schema``.

    A violation is final (a retry would read the same bytes): the failure names the file
    and the checks that failed, and nothing of the partition is written.
    """

    def check(rows: pa.Table) -> None:
        try:
            schema.validate(rows, lazy=True)
        except pandera.errors.SchemaErrors as error:
            raise Failure(
                description=(
                    f"{source.describe()}: rows of {source.url} fail the {schema.name} schema; "
                    f"nothing was written for this partition. Failed checks: "
                    f"{_failed_checks(error)}"
                ),
                allow_retries=False,
            ) from error

    return check


def _failed_checks(error: pandera.errors.SchemaErrors) -> str:
    found = []
    for problems in error.message.values():
        for entries in problems.values():
            found += [f"{entry['column']}: {entry['check']}" for entry in entries]
    return "; ".join(found) or str(error)


def build_tick_asset(tick_type: TickType, partitions: PartitionsDefinition) -> AssetsDefinition:
    """The ``ticks/{data_type}`` asset for one Tardis data type."""
    data_type = tick_type.data_type
    dataset = tick_type.dataset
    schema = pandera_schema(dataset)
    layout_note = (
        f"one Parquet file of Tardis' grouped {tick_type.grouped_symbol} file, its rows "
        "filtered to the universe's instruments"
        if tick_type.grouped_symbol
        else "one Parquet file per instrument"
    )

    @asset(
        key=["ticks", data_type],
        partitions_def=partitions,
        group_name="ticks",
        pool=TARDIS_POOL,
        kinds={"parquet"},
        retry_policy=TARDIS_RETRY,
        backfill_policy=ONE_PARTITION_PER_RUN,
        metadata=column_schema_metadata(dataset),
        description=(
            f"Tardis {data_type} of the universe's instruments: {layout_note}; Tardis' "
            "columns and units plus instrument_key, in source order."
        ),
    )
    def tick_asset(
        context: AssetExecutionContext,
        tardis: TardisSource,
        universe: UniverseResource,
        instrument_definitions: pa.Table,
    ) -> Output[TickStream]:
        day, venue = day_and_venue(context)
        chosen = universe.load()
        venue_universe = chosen.for_venue(venue)
        instruments = tick_type.expected(instrument_definitions, venue_universe, day)
        not_listed = _not_listed(venue_universe, instrument_definitions, data_type)
        if not_listed:
            context.log.warning(
                f"{day}|{venue}: {', '.join(not_listed)} not listed by Tardis that day"
            )
        context.log.info(f"{day}|{venue}: {len(instruments)} instruments of {data_type} to ingest")
        if tick_type.grouped_symbol and instruments:
            downloads = [(tick_type.grouped_symbol, tick_type.grouped_symbol, dict(instruments))]
        else:
            downloads = [(symbol, file_name(key), {symbol: key}) for symbol, key in instruments]

        def files() -> Iterator[LakeFile]:
            # Each file's rows are parsed and checked ahead, from the moment it has
            # downloaded, while the lake writes the file before it: two files in flight.
            symbols = [symbol for symbol, _, _ in downloads]
            started: list[ReadAhead] = []
            waiting: LakeFile | None = None
            fetched = fetched_files(tardis, venue, data_type, day, symbols, held=2)
            try:
                for number, (symbol, name, keys) in enumerate(downloads, 1):
                    with as_failure():
                        source = next(fetched)
                    context.log.info(
                        f"{day}|{venue} [{number}/{len(downloads)}] {data_type} {symbol}: "
                        f"{source.size_bytes:,} bytes from {source.url}"
                    )
                    rows = SourceRows(tardis, source, tick_type, keys)
                    check = schema_check(schema, source)
                    started.append(ReadAhead(partial(row_groups, rows, check)))
                    following = LakeFile(
                        name=name,
                        schema=dataset.schema,
                        batches=started[-1],
                        source=rows.provenance,
                    )
                    if waiting is not None:
                        yield waiting
                    waiting = following
                if waiting is not None:
                    yield waiting
            finally:
                for ahead in started:
                    ahead.close()
                fetched.close()

        return Output(
            TickStream(files()),
            metadata={
                "instruments": MetadataValue.json([key for _, key in instruments]),
                "instrument_count": MetadataValue.int(len(instruments)),
                "not_listed": MetadataValue.json(not_listed),
                "universe": MetadataValue.path(chosen.source),
            },
        )

    return tick_asset


def _not_listed(universe: VenueUniverse, definitions: pa.Table, data_type: str) -> list[str]:
    """The universe's explicit symbols that Tardis does not list on the day."""
    if data_type not in universe.data_types:
        return []
    listed = {s.upper() for s in definitions["symbol"].to_pylist()}
    listed |= {s.upper() for s in definitions["dataset_id"].to_pylist()}
    return sorted(s for s in universe.symbols if s.upper() not in listed)


class SourceRows:
    """The rows of one Tardis file, parsed in the one read of it that also hashes it.

    A gzip stream found cut short or corrupt (by then the rows so far are in the lake's
    staging only, and nothing of the partition is visible) has the file downloaded again
    and written over from the start (``ReadAgain``), up to the source's
    ``verify_attempts``; bad content is final, as a retry would read the same bytes.
    """

    def __init__(
        self, tardis: TardisSource, source: SourceFile, tick_type: TickType, keys: dict[str, str]
    ) -> None:
        self.tardis, self.source, self.tick_type, self.keys = tardis, source, tick_type, keys
        self.attempt = 1
        self.rows = 0

    def __iter__(self) -> Iterator[pa.Table]:
        self.rows = 0
        try:
            with self.source.open() as stream:
                for table in read_tardis_csv(stream, self.tick_type.dataset, self.keys):
                    self.rows += table.num_rows
                    yield table
            if not self.source.found.size_bytes:
                raise TardisGzipError(f"{self.source.url}: an empty body, not even a gzip")
        except TardisGzipError as error:
            self.attempt += 1
            with as_failure():
                self.tardis.fetch_again(self.source, self.attempt)
            raise ReadAgain(str(error)) from error
        except TardisFormatError as error:
            raise Failure(
                description=f"{self.source.describe()}: {error}", allow_retries=False
            ) from error

    def provenance(self) -> dict[str, object]:
        """Where the rows came from, once read: URL, sha256, whether the file held none."""
        return {"url": self.source.url, "sha256": self.source.sha256, "empty": not self.rows}


def build_tick_assets(partitions: PartitionsDefinition) -> dict[str, AssetsDefinition]:
    """Every ``ticks/{data_type}`` asset, by data type."""
    return {
        tick_type.data_type: build_tick_asset(tick_type, partitions) for tick_type in TICK_TYPES
    }

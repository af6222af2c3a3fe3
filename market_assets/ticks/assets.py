"""Raw tick assets: Tardis files parsed, validated and streamed into the lake as they are read."""

from collections.abc import Callable, Iterator

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
from market_assets.ticks.tardis_csv import TardisFormatError, read_tardis_csv
from market_assets.ticks.types import TICK_TYPES, TickType, file_name
from market_assets.universe import VenueUniverse
from resources.lake import LakeFile, TickStream
from resources.tardis import SourceFile, TardisSource, as_failure
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
            for number, (symbol, name, keys) in enumerate(downloads, 1):
                with as_failure(), tardis.fetch(venue, data_type, symbol, day) as source:
                    context.log.info(
                        f"{day}|{venue} [{number}/{len(downloads)}] {data_type} {symbol}: "
                        f"{source.size_bytes:,} bytes from {source.url}"
                        + (" (empty: no data that day)" if source.empty else "")
                    )
                    yield LakeFile(
                        name=name,
                        schema=dataset.schema,
                        batches=_parsed(source, tick_type, keys),
                        source={"url": source.url, "sha256": source.sha256, "empty": source.empty},
                        check=schema_check(schema, source),
                    )

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


def _parsed(source: SourceFile, tick_type: TickType, keys: dict[str, str]) -> Iterator[pa.Table]:
    # Bad content is final: a retry would read the same bytes.
    try:
        yield from read_tardis_csv(source.path, tick_type.dataset, keys)
    except TardisFormatError as error:
        raise Failure(description=f"{source.describe()}: {error}", allow_retries=False) from error


def build_tick_assets(partitions: PartitionsDefinition) -> dict[str, AssetsDefinition]:
    """Every ``ticks/{data_type}`` asset, by data type."""
    return {
        tick_type.data_type: build_tick_asset(tick_type, partitions) for tick_type in TICK_TYPES
    }

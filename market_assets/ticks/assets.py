"""Raw tick assets: Tardis files parsed, validated and streamed into the lake as they are read."""

from collections.abc import Iterator

import pandera.errors
import pandera.pyarrow as pap
import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from market_assets.partition import ONE_PARTITION_PER_RUN, TARDIS_RETRY, day_and_venue
from market_assets.tardis_csv import CsvLayout, TardisFormatError, read_tardis_csv
from market_assets.ticks.schemas import TICK_SCHEMAS
from market_assets.ticks.types import TICK_TYPES, TickType, file_name
from market_assets.universe import VenueUniverse, load_universe
from partitions import market_partitions
from resources import LakeFile, SourceFile, TardisSource, TickStream
from resources.tardis import as_failure

# Tardis downloads share one concurrency pool so backfills respect its rate limits.
TARDIS_POOL = "tardis"
# Tables handed to pandera: validation costs ~10 ms a call whatever the size, so calls
# are made on ~64 MiB of Arrow data (a million trades, a quarter million chain rows).
VALIDATION_BYTES = 64 << 20


class SchemaViolation(ValueError):
    """Rows of a source file that break the data type's pandera schema."""


def regrouped(tables: Iterator[pa.Table], max_bytes: int) -> Iterator[pa.Table]:
    """``tables`` gathered into tables of about ``max_bytes`` of Arrow data each."""
    pending: list[pa.Table] = []
    pending_bytes = 0
    for table in tables:
        pending.append(table)
        pending_bytes += table.nbytes
        if pending_bytes >= max_bytes:
            yield pa.concat_tables(pending)
            pending, pending_bytes = [], 0
    if pending:
        yield pa.concat_tables(pending)


def validated(
    tables: Iterator[pa.Table], schema: pap.DataFrameSchema, source: SourceFile
) -> Iterator[pa.Table]:
    """``tables`` regrouped by ``VALIDATION_BYTES``, each checked against ``schema``.

    A failure names the file and the checks that failed.
    """
    for table in regrouped(tables, VALIDATION_BYTES):
        try:
            schema.validate(table, lazy=True)
        except pandera.errors.SchemaErrors as error:
            raise SchemaViolation(
                f"rows of {source.url} fail the {schema.name} schema; "
                f"nothing was written for this partition. Failed checks: "
                f"{_failed_checks(error)}"
            ) from error
        yield table


def _failed_checks(error: pandera.errors.SchemaErrors) -> str:
    found = []
    for problems in error.message.values():
        for entries in problems.values():
            found += [f"{entry['column']}: {entry['check']}" for entry in entries]
    return "; ".join(found) or str(error)


def build_tick_asset(tick_type: TickType) -> AssetsDefinition:
    """The ``ticks/{data_type}`` asset for one Tardis data type."""
    data_type = tick_type.data_type
    layout = tick_type.layout
    schema = TICK_SCHEMAS[data_type]
    layout_note = (
        f"one Parquet file of Tardis' grouped {tick_type.grouped_symbol} file, its rows "
        "filtered to the universe's instruments"
        if tick_type.grouped_symbol
        else "one Parquet file per instrument"
    )

    @asset(
        key=["ticks", data_type],
        partitions_def=market_partitions,
        group_name="ticks",
        pool=TARDIS_POOL,
        kinds={"parquet"},
        retry_policy=TARDIS_RETRY,
        backfill_policy=ONE_PARTITION_PER_RUN,
        description=(
            f"Tardis {data_type} of the universe's instruments: {layout_note}; Tardis' "
            "columns and units plus instrument_key, in source order."
        ),
    )
    def tick_asset(
        context: AssetExecutionContext, tardis: TardisSource, instrument_definitions: pa.Table
    ) -> Output[TickStream]:
        day, venue = day_and_venue(context)
        universe = load_universe()
        venue_universe = universe.for_venue(venue)
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
                        schema=layout.schema,
                        batches=_parsed(source, layout, keys, schema),
                        source={"url": source.url, "sha256": source.sha256, "empty": source.empty},
                    )

        return Output(
            TickStream(files()),
            metadata={
                "instruments": MetadataValue.json([key for _, key in instruments]),
                "instrument_count": MetadataValue.int(len(instruments)),
                "not_listed": MetadataValue.json(not_listed),
                "universe": MetadataValue.path(universe.source),
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


def _parsed(
    source: SourceFile,
    layout: CsvLayout,
    keys: dict[str, str],
    schema: pap.DataFrameSchema,
) -> Iterator[pa.Table]:
    # Bad content is final: a retry would read the same bytes.
    try:
        yield from validated(read_tardis_csv(source.path, layout, keys), schema, source)
    except (TardisFormatError, SchemaViolation) as error:
        raise Failure(description=f"{source.describe()}: {error}", allow_retries=False) from error


TICK_ASSETS: dict[str, AssetsDefinition] = {
    tick_type.data_type: build_tick_asset(tick_type) for tick_type in TICK_TYPES
}

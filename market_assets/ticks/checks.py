"""Asset checks on every partition of the tick assets: schema and instrument coverage."""

import warnings

import pandera.errors
import pyarrow as pa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from market_assets.partition import day_and_venue
from market_assets.ticks.schemas import TICK_SCHEMAS
from market_assets.ticks.types import TickType, file_name
from market_assets.universe import load_universe
from partitions import market_partitions
from resources import LakePartition

# Checks run per (day, venue) partition; Dagster still labels partitioned checks "preview".
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
)

SCHEMA_CHECK = "schema"
COVERAGE_CHECK = "coverage"


def build_tick_checks(
    tick_asset: AssetsDefinition, tick_type: TickType
) -> list[AssetChecksDefinition]:
    """Schema and coverage checks for one ``ticks/{data_type}`` asset."""
    data_type = tick_type.data_type
    schema = TICK_SCHEMAS[data_type]

    @asset_check(
        asset=tick_asset,
        name=SCHEMA_CHECK,
        partitions_def=market_partitions,
        blocking=True,
        description=f"Every stored {data_type} file matches the pandera schema.",
    )
    def schema_check(context: AssetCheckExecutionContext, ticks: LakePartition) -> AssetCheckResult:
        failures = {}
        rows = 0
        for name in ticks.file_names():
            table = ticks.read_file(name)
            rows += table.num_rows
            try:
                schema.validate(table, lazy=True)
            except pandera.errors.SchemaErrors as error:
                failures[name] = str(error)[:2000]
        return AssetCheckResult(
            passed=not failures,
            metadata={"rows": rows, "failures": MetadataValue.json(failures)},
        )

    @asset_check(
        asset=tick_asset,
        name=COVERAGE_CHECK,
        partitions_def=market_partitions,
        additional_ins={"instrument_definitions": AssetIn("instrument_definitions")},
        description=(
            f"Every universe instrument for which Tardis publishes {data_type} has rows; "
            "instruments whose Tardis file was an empty gzip (no data that day) are "
            "reported as no_data, apart from missing ones."
        ),
    )
    def coverage_check(
        context: AssetCheckExecutionContext,
        ticks: LakePartition,
        instrument_definitions: pa.Table,
    ) -> AssetCheckResult:
        day, venue = day_and_venue(context)
        expected = [
            key
            for _, key in tick_type.expected(
                instrument_definitions, load_universe().for_venue(venue), day
            )
        ]
        files = ticks.file_names()
        present: set[str] = set()
        empty: set[str] = set()
        for name in files:
            if ticks.row_count(name):
                present |= ticks.instrument_keys(name)
            else:
                empty.add(name)
        no_data = [
            k
            for k in expected
            if k not in present and (tick_type.grouped_symbol or file_name(k)) in empty
        ]
        missing = [k for k in expected if k not in present and k not in no_data]
        return AssetCheckResult(
            passed=not missing,
            metadata={
                "expected": len(expected),
                "present": len(present & set(expected)),
                "missing": MetadataValue.json(missing),
                "no_data": MetadataValue.json(no_data),
            },
        )

    return [schema_check, coverage_check]

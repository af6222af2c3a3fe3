"""Asset checks on every partition of the tick assets: schema and instrument coverage."""

import warnings

import pandera.errors
import pyarrow as pa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from market_assets.partition import day_and_venue
from market_assets.ticks.assets import expected_instruments, file_name
from market_assets.ticks.schemas import TICK_SCHEMAS
from market_assets.universe import load_universe
from partitions import market_partitions
from resources import LakePartition

# Checks run per (day, venue) partition; Dagster still labels partitioned checks "preview".
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
)

SCHEMA_CHECK = "schema"
COVERAGE_CHECK = "coverage"


def build_tick_checks(tick_asset: AssetsDefinition) -> list[AssetChecksDefinition]:
    """Schema and coverage checks for one ``ticks/{data_type}`` asset."""
    data_type = tick_asset.key.path[-1]
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
            f"Every universe instrument that publishes {data_type} has a file; files from "
            "empty Tardis gzips (no data that day) are reported apart from missing ones."
        ),
    )
    def coverage_check(
        context: AssetCheckExecutionContext,
        ticks: LakePartition,
        instrument_definitions: pa.Table,
    ) -> AssetCheckResult:
        _, venue = day_and_venue(context)
        expected = expected_instruments(
            instrument_definitions, load_universe().for_venue(venue), data_type
        )
        present = set(ticks.file_names())
        missing = [key for _, key in expected if file_name(key) not in present]
        no_data = [
            key
            for _, key in expected
            if file_name(key) in present and ticks.row_count(file_name(key)) == 0
        ]
        return AssetCheckResult(
            passed=not missing,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "expected": len(expected),
                "missing": MetadataValue.json(missing),
                "no_data": MetadataValue.json(no_data),
            },
        )

    return [schema_check, coverage_check]

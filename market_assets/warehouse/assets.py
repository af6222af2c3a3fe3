"""``warehouse/candles_{timeframe}``: each candle timeframe as a partitioned SQL table."""

import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset,
)

from market_assets.candles.assets import CANDLE_AUTOMATION, candle_key
from market_assets.partition import ONE_PARTITION_PER_RUN, day_and_venue
from market_assets.schemas import column_schema_metadata
from market_assets.warehouse.rows import WAREHOUSE_CANDLES, warehouse_rows
from partitions import TIMEFRAMES

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"


def build_warehouse_asset(timeframe: str, partitions: PartitionsDefinition) -> AssetsDefinition:
    """``warehouse/candles_{timeframe}`` from ``candles/{timeframe}``, partitioned like the
    candles by ``partitions`` (date × venue)."""

    @asset(
        key=["warehouse", f"candles_{timeframe}"],
        ins={"candles": AssetIn(key=candle_key(timeframe))},
        partitions_def=partitions,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        group_name="warehouse",
        kinds={"sql"},
        backfill_policy=ONE_PARTITION_PER_RUN,
        automation_condition=CANDLE_AUTOMATION,
        metadata={
            # The slice a partition replaces: its bar date and its venue.
            "partition_expr": {"date": "date", "venue": "venue"},
            **column_schema_metadata(WAREHOUSE_CANDLES),
            "warehouse/partition_column": "date",
            "warehouse/cluster_by": ["venue", "instrument_key"],
        },
        description=(
            f"{timeframe} candles as a SQL table, one row per instrument and bar; "
            "materialising a (date, venue) replaces exactly that slice."
        ),
    )
    def warehouse_candles(context: AssetExecutionContext, candles: pa.Table) -> Output[pa.Table]:
        day, venue = day_and_venue(context)
        rows = warehouse_rows(candles, day, venue)
        context.log.info(f"{day}|{venue}: {rows.num_rows:,} {timeframe} bars to the warehouse")
        return Output(
            rows,
            metadata={"instruments": MetadataValue.int(len(rows["instrument_key"].unique()))},
        )

    return warehouse_candles


def build_warehouse_assets(partitions: PartitionsDefinition) -> dict[str, AssetsDefinition]:
    """Timeframe -> its warehouse table asset, every one partitioned by ``partitions``."""
    return {timeframe: build_warehouse_asset(timeframe, partitions) for timeframe in TIMEFRAMES}

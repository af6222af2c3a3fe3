"""``warehouse/candles_{timeframe}``: each candle timeframe as a partitioned SQL table."""

import pandas as pd
import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    Output,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    asset,
)

from market_assets.candles.assets import CANDLE_AUTOMATION, candle_key
from market_assets.partition import ONE_PARTITION_PER_RUN, day_and_venue
from market_assets.warehouse.rows import SQL_TYPES, WAREHOUSE_SCHEMA, warehouse_rows
from partitions import TIMEFRAMES, market_partitions

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"
TABLE_SCHEMA = TableSchema(
    columns=[
        TableColumn(
            field.name,
            SQL_TYPES[field.type],
            constraints=TableColumnConstraints(nullable=field.nullable),
        )
        for field in WAREHOUSE_SCHEMA
    ]
)


def build_warehouse_asset(timeframe: str) -> AssetsDefinition:
    """``warehouse/candles_{timeframe}`` from ``candles/{timeframe}``."""

    @asset(
        key=["warehouse", f"candles_{timeframe}"],
        ins={"candles": AssetIn(key=candle_key(timeframe))},
        partitions_def=market_partitions,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        group_name="warehouse",
        kinds={"sql"},
        backfill_policy=ONE_PARTITION_PER_RUN,
        automation_condition=CANDLE_AUTOMATION,
        metadata={
            # The slice a partition replaces: its bar date and its venue.
            "partition_expr": {"date": "date", "venue": "venue"},
            "dagster/column_schema": TABLE_SCHEMA,
            "warehouse/partition_column": "date",
            "warehouse/cluster_by": ["venue", "instrument_key"],
        },
        description=(
            f"{timeframe} candles as a SQL table, one row per instrument and bar; "
            "materialising a (date, venue) replaces exactly that slice."
        ),
    )
    def warehouse_candles(
        context: AssetExecutionContext, candles: pa.Table
    ) -> Output[pd.DataFrame]:
        day, venue = day_and_venue(context)
        rows = warehouse_rows(candles, day, venue)
        context.log.info(f"{day}|{venue}: {rows.num_rows:,} {timeframe} bars to the warehouse")
        return Output(
            rows.to_pandas(types_mapper=pd.ArrowDtype),
            metadata={
                "instruments": MetadataValue.int(len(set(rows["instrument_key"].to_pylist())))
            },
        )

    return warehouse_candles


WAREHOUSE_ASSETS: dict[str, AssetsDefinition] = {
    timeframe: build_warehouse_asset(timeframe) for timeframe in TIMEFRAMES
}

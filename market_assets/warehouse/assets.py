"""``warehouse/candles_{timeframe}`` and ``warehouse/mft_{timeframe}``: each candle and
feature timeframe as a partitioned SQL table, one (date, venue) slice per partition."""

import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    AutomationCondition,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset,
)

from market_assets.candles.assets import CANDLE_AUTOMATION, candle_key
from market_assets.candles.columns import CANDLES
from market_assets.columns import Dataset
from market_assets.features.assets import FEATURE_AUTOMATION, feature_key
from market_assets.features.columns import MFT
from market_assets.runs import ONE_PARTITION_PER_RUN, day_and_venue
from market_assets.schemas import column_schema_metadata
from market_assets.warehouse.rows import warehouse_dataset, warehouse_rows
from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"


def build_warehouse_asset(
    source: AssetKey,
    table: str,
    dataset: Dataset,
    partitions: PartitionsDefinition,
    automation: AutomationCondition,
) -> AssetsDefinition:
    """``warehouse/{table}`` from the lake asset ``source`` (rows of ``dataset``),
    partitioned like it by ``partitions`` (date × venue)."""

    @asset(
        key=["warehouse", table],
        ins={"rows": AssetIn(key=source)},
        partitions_def=partitions,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        group_name="warehouse",
        kinds={"sql"},
        backfill_policy=ONE_PARTITION_PER_RUN,
        automation_condition=automation,
        metadata={
            # The slice a partition replaces: its bar date and its venue.
            "partition_expr": {"date": "date", "venue": "venue"},
            **column_schema_metadata(warehouse_dataset(dataset)),
            "warehouse/partition_column": "date",
            "warehouse/cluster_by": ["venue", "instrument_key"],
        },
        description=(
            f"{source.to_user_string()} as a SQL table, one row per instrument and bar; "
            "materialising a (date, venue) replaces exactly that slice."
        ),
    )
    def warehouse_table(context: AssetExecutionContext, rows: pa.Table) -> Output[pa.Table]:
        day, venue = day_and_venue(context)
        loaded = warehouse_rows(rows, day, venue, dataset)
        context.log.info(f"{day}|{venue}: {loaded.num_rows:,} rows to warehouse.{table}")
        return Output(
            loaded,
            metadata={"instruments": MetadataValue.int(len(loaded["instrument_key"].unique()))},
        )

    return warehouse_table


def build_warehouse_assets(partitions: PartitionsDefinition) -> dict[str, AssetsDefinition]:
    """Table name -> its asset: ``candles_{tf}`` for every candle timeframe and
    ``mft_{tf}`` for every feature timeframe."""
    tables = {
        f"candles_{tf}": build_warehouse_asset(
            candle_key(tf), f"candles_{tf}", CANDLES, partitions, CANDLE_AUTOMATION
        )
        for tf in TIMEFRAMES
    }
    tables |= {
        f"mft_{tf}": build_warehouse_asset(
            feature_key(tf), f"mft_{tf}", MFT, partitions, FEATURE_AUTOMATION
        )
        for tf in FEATURE_TIMEFRAMES
    }
    return tables

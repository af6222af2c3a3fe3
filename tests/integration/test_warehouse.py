"""Warehouse tables from real candle partitions: DuckDB, and BigQuery on an emulator.

Two venues × two days of candles are built once from the local Tardis server; each test
copies that lake, loads every slice, then changes one slice's candles and loads it again:
the table must hold exactly the new slice, the other slices untouched, and no
(instrument, timestamp) twice.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster import AssetIn, AssetKey, AssetSelection, DagsterInstance, asset, materialize

from market_assets.definitions import defs
from partitions import TIMEFRAMES
from resources.io_manager import LakeIOManager
from resources.lake import LakeFile, ParquetLake
from resources.tardis import TardisSource
from resources.universe import UniverseResource
from resources.warehouse import (
    BigQueryWarehouseIOManager,
    DuckDBWarehouseIOManager,
    bigquery_client,
)
from tardis_local.server import TardisServer
from tests.conftest import BIGQUERY_PROJECT, EXPORTED_UNTIL, bind_resources

DAYS = ("2024-01-01", "2024-01-02")
VENUES = ("binance", "deribit")
TIMEFRAME = "1h"
CHANGED = ("2024-01-01", "binance")
DROPPED = "BINANCE:SPOT_PAIR:ETH-USDT"
WAREHOUSE = AssetSelection.assets(*(AssetKey(["warehouse", f"candles_{tf}"]) for tf in TIMEFRAMES))
TABLE_KEY = AssetKey(["warehouse", f"candles_{TIMEFRAME}"])
TABLE = AssetSelection.assets(TABLE_KEY)
# A real BigQuery dataset, ``project.dataset``, for the live smoke test.
LIVE_DATASET = os.environ.get("LIVE_BIGQUERY_DATASET", "")
ALL = [a for a in defs.assets if a.is_executable and AssetKey("coverage_heatmap") not in a.keys]
# The warehouse table's partitions (date × the universe's venues), for a reader of its slices.
PARTITIONS = next(a for a in ALL if TABLE_KEY in a.keys).partitions_def


@pytest.fixture(scope="module")
def candle_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A lake holding ticks and candles of ``DAYS`` × ``VENUES``."""
    root = tmp_path_factory.mktemp("candle-lake")
    with (
        TardisServer(exported_until=EXPORTED_UNTIL) as server,
        DagsterInstance.ephemeral() as instance,
    ):
        resources = bind_resources(server, root)
        for day in DAYS:
            for venue in VENUES:
                result = materialize(
                    ALL,
                    selection=AssetSelection.assets(*ALL) - WAREHOUSE,
                    resources=resources,
                    instance=instance,
                    partition_key=f"{day}|{venue}",
                )
                assert result.success
    yield root


def bound(lake: Path, warehouse) -> dict:
    return {
        # Nothing upstream runs: the source is bound only because the graph names it.
        "tardis": TardisSource(),
        "universe": UniverseResource(),
        "io_manager": LakeIOManager(root=str(lake)),
        "warehouse_io_manager": warehouse,
    }


def load(lake: Path, warehouse, day: str, venue: str) -> None:
    result = materialize(
        ALL, selection=TABLE, resources=bound(lake, warehouse), partition_key=f"{day}|{venue}"
    )
    assert result.success


def change_candles(lake: Path) -> pa.Table:
    """Rewrite one partition's 1h candles: one instrument fewer, volumes doubled."""
    day, venue = CHANGED
    store = ParquetLake(str(lake))
    table = store.read(("candles", TIMEFRAME), day, venue)
    table = table.filter(pc.not_equal(table["instrument_key"], DROPPED))
    table = table.set_column(
        table.schema.get_field_index("volume"), "volume", pc.multiply(table["volume"], 2.0)
    )
    store.write_partition(
        ("candles", TIMEFRAME), day, venue, [LakeFile("part-00000", table.schema, [table])]
    )
    return table


def check_exact_replacement(lake: Path, warehouse, query: Callable[[str], pd.DataFrame]) -> None:
    for day in DAYS:
        for venue in VENUES:
            load(lake, warehouse, day, venue)
    before = query("SELECT * FROM {table}")
    assert not before.empty
    per_slice = before.groupby(["date", "venue"]).size()
    assert len(per_slice) == len(DAYS) * len(VENUES)
    assert (per_slice % 24 == 0).all()  # every instrument has all 24 hourly bars

    new = change_candles(lake)
    load(lake, warehouse, *CHANGED)
    after = query("SELECT * FROM {table}")

    in_slice = (after["date"].astype(str) == CHANGED[0]) & (after["venue"] == CHANGED[1])
    changed = after[in_slice].sort_values(["instrument_key", "timestamp"])
    assert DROPPED not in set(changed["instrument_key"])
    assert len(changed) == new.num_rows
    assert changed["volume"].tolist() == pytest.approx(new["volume"].to_pylist(), nan_ok=True)

    was_in_slice = (before["date"].astype(str) == CHANGED[0]) & (before["venue"] == CHANGED[1])
    untouched = ["date", "venue", "instrument_key", "timestamp", "volume", "close"]
    pd.testing.assert_frame_equal(
        after[~in_slice][untouched].sort_values(untouched[:4]).reset_index(drop=True),
        before[~was_in_slice][untouched].sort_values(untouched[:4]).reset_index(drop=True),
        check_dtype=False,
    )
    assert not after.duplicated(["instrument_key", "timestamp"]).any()

    # Downstream assets read a partition's slice back through the same IO manager.
    [read_back] = read_slice(lake, warehouse, *CHANGED)
    assert isinstance(read_back, pa.Table)
    assert len(read_back) == new.num_rows
    assert set(read_back["instrument_key"].to_pylist()) == set(new["instrument_key"].to_pylist())
    # What is loaded is what the asset returned: the warehouse rows' Arrow types.
    assert read_back.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert read_back.schema.field("date").type == pa.date32()


def read_slice(lake: Path, warehouse, day: str, venue: str) -> list[pa.Table]:
    seen: list[pa.Table] = []

    @asset(partitions_def=PARTITIONS, ins={"rows": AssetIn(key=TABLE_KEY)})
    def slice_reader(rows: pa.Table) -> None:
        seen.append(rows)

    result = materialize(
        [*ALL, slice_reader],
        selection=[slice_reader],
        resources=bound(lake, warehouse),
        partition_key=f"{day}|{venue}",
    )
    assert result.success
    return seen


def test_duckdb_replaces_exactly_the_rebuilt_slice(candle_lake: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(candle_lake, lake)
    # Named like its schema on purpose: the warehouse qualifies tables by catalog.
    database = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouseIOManager(database=str(database))

    def query(sql: str) -> pd.DataFrame:
        with duckdb.connect(str(database), read_only=True) as connection:
            table = f"warehouse.warehouse.candles_{TIMEFRAME}"
            return connection.execute(sql.format(table=table)).df()

    check_exact_replacement(lake, warehouse, query)
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.execute(f"DESCRIBE warehouse.warehouse.candles_{TIMEFRAME}").fetchall()
    types = {name: kind for name, kind, *_ in columns}
    assert types["date"] == "DATE" and types["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["trade_count"] == "BIGINT" and types["vwap"] == "DOUBLE"
    assert all(name == name.lower() for name in types)


def test_bigquery_replaces_exactly_the_rebuilt_slice(
    candle_lake: Path, tmp_path: Path, bigquery_emulator: str
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(candle_lake, lake)
    warehouse = BigQueryWarehouseIOManager(
        project=BIGQUERY_PROJECT, dataset="market", emulator_host=bigquery_emulator
    )
    client = bigquery_client(BIGQUERY_PROJECT, None, bigquery_emulator)
    table_id = f"{BIGQUERY_PROJECT}.market.candles_{TIMEFRAME}"

    def query(sql: str) -> pd.DataFrame:
        rows = client.query(sql.format(table=f"`{table_id}`")).result()
        return rows.to_arrow(create_bqstorage_client=False).to_pandas()

    check_exact_replacement(lake, warehouse, query)
    table = client.get_table(table_id)
    fields = {f.name: (f.field_type, f.mode) for f in table.schema}
    assert fields["date"] == ("DATE", "REQUIRED")
    assert fields["instrument_key"] == ("STRING", "REQUIRED")
    assert fields["timestamp"] == ("TIMESTAMP", "REQUIRED")
    assert fields["trade_count"][0] in ("INTEGER", "INT64")
    assert all(name == name.lower() for name in fields)
    assert table.time_partitioning.field == "date"
    # No staging table is left behind.
    tables = [t.table_id for t in client.list_tables(f"{BIGQUERY_PROJECT}.market")]
    assert tables == [f"candles_{TIMEFRAME}"]


@pytest.mark.bigquery_live
@pytest.mark.skipif(
    not LIVE_DATASET,
    reason="set LIVE_BIGQUERY_DATASET=project.dataset (and Google credentials) to run",
)
def test_live_bigquery_round_trip(candle_lake: Path, tmp_path: Path) -> None:
    project, dataset = LIVE_DATASET.split(".", 1)
    lake = tmp_path / "lake"
    shutil.copytree(candle_lake, lake)
    warehouse = BigQueryWarehouseIOManager(project=project, dataset=dataset)
    client = bigquery_client(project, None)
    table_id = f"{project}.{dataset}.candles_{TIMEFRAME}"
    client.delete_table(table_id, not_found_ok=True)
    try:

        def query(sql: str) -> pd.DataFrame:
            rows = client.query(sql.format(table=f"`{table_id}`")).result()
            return rows.to_arrow(create_bqstorage_client=False).to_pandas()

        check_exact_replacement(lake, warehouse, query)
        table = client.get_table(table_id)
        assert table.time_partitioning.field == "date"
        assert table.clustering_fields == ["venue", "instrument_key"]
    finally:
        client.delete_table(table_id, not_found_ok=True)

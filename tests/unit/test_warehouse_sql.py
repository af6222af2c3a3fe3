"""The warehouse's SQL and configuration, without a database."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest
from dagster import TableColumn, TableColumnConstraints, TableSchema
from dagster._core.definitions.partitions.utils import TimeWindow
from dagster._core.storage.db_io_manager import TablePartitionDimension

from market_assets.candles.bars import CANDLE_SCHEMA
from market_assets.warehouse.assets import TABLE_SCHEMA
from market_assets.warehouse.rows import WAREHOUSE_SCHEMA, warehouse_rows
from resources.warehouse import (
    BigQueryWarehouseIOManager,
    DuckDBWarehouseIOManager,
    TableLayout,
    slice_where,
    swap_statement,
    warehouse_from_url,
)

DAY = TimeWindow(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
SLICE = [
    TablePartitionDimension(partition_expr="date", partitions=DAY),
    TablePartitionDimension(partition_expr="venue", partitions=["binance"]),
]
LAYOUT = TableLayout(
    columns=tuple((c.name, c.type, not c.constraints.nullable) for c in TABLE_SCHEMA.columns),
    partition_column="date",
    cluster_by=("venue", "instrument_key"),
)


def test_a_slice_is_one_day_and_one_venue_with_typed_literals() -> None:
    assert slice_where(SLICE) == (
        "date >= DATE '2024-01-01' AND date < DATE '2024-01-02' AND venue IN ('binance')"
    )


def test_bigquery_tables_are_day_partitioned_and_clustered_with_explicit_types() -> None:
    ddl = LAYOUT.create_statement("`p.market.candles_1h`", "bigquery")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `p.market.candles_1h` (")
    assert "  date DATE NOT NULL," in ddl
    assert "  instrument_key STRING NOT NULL," in ddl
    assert "  timestamp TIMESTAMP NOT NULL," in ddl
    assert "  trade_count INT64," in ddl
    assert ddl.endswith("PARTITION BY date\nCLUSTER BY venue, instrument_key")
    names = [line.split()[0] for line in ddl.splitlines()[1:] if line.startswith("  ")]
    assert names == WAREHOUSE_SCHEMA.names
    assert all(name == name.lower() for name in names)


def test_duckdb_tables_use_duckdb_types() -> None:
    ddl = LAYOUT.create_statement("warehouse.candles_1h", "duckdb")
    assert "  timestamp TIMESTAMPTZ NOT NULL," in ddl and "  vwap DOUBLE," in ddl
    assert "PARTITION" not in ddl


def test_the_swap_is_one_transaction() -> None:
    statement = swap_statement("`p.d.t`", "`p.d.s`", ["date", "venue"], slice_where(SLICE))
    assert statement.splitlines() == [
        "BEGIN TRANSACTION;",
        "DELETE FROM `p.d.t` WHERE date >= DATE '2024-01-01' AND date < DATE '2024-01-02' "
        "AND venue IN ('binance');",
        "INSERT INTO `p.d.t` (date, venue) SELECT date, venue FROM `p.d.s`;",
        "COMMIT TRANSACTION;",
    ]


def test_frames_must_match_the_declared_columns() -> None:
    rows = warehouse_rows(CANDLE_SCHEMA.empty_table(), date(2024, 1, 1), "binance")
    assert rows.schema == WAREHOUSE_SCHEMA
    frame = rows.to_pandas(types_mapper=pd.ArrowDtype)
    assert LAYOUT.to_arrow(frame, "t").schema.names == WAREHOUSE_SCHEMA.names
    with pytest.raises(ValueError, match=r"missing \['vwap'\]"):
        LAYOUT.to_arrow(frame.drop(columns=["vwap"]), "t")


def test_column_names_must_be_lower_case() -> None:
    schema = TableSchema(
        columns=[TableColumn("Open", "FLOAT64", constraints=TableColumnConstraints())]
    )
    context = SimpleNamespace(asset_key=None, definition_metadata={"dagster/column_schema": schema})
    with pytest.raises(ValueError, match="lower case"):
        TableLayout.of(context)  # type: ignore[arg-type]


def test_warehouse_chosen_by_url(tmp_path) -> None:
    embedded = warehouse_from_url("", str(tmp_path))
    assert isinstance(embedded, DuckDBWarehouseIOManager)
    assert embedded.database == str(tmp_path / "market.duckdb")
    assert warehouse_from_url("duckdb:///srv/w.duckdb", "x").database == "/srv/w.duckdb"
    bigquery = warehouse_from_url("bigquery://acme-prod/market?location=EU", "gs://b/lake")
    assert isinstance(bigquery, BigQueryWarehouseIOManager)
    assert (bigquery.project, bigquery.dataset, bigquery.location) == ("acme-prod", "market", "EU")


@pytest.mark.parametrize(
    ("url", "lake", "message"),
    [
        ("", "gs://bucket/lake", "set MARKET_DATA_WAREHOUSE"),
        ("bigquery://acme-prod", "data", "expected bigquery://project/dataset"),
        ("postgres://x/y", "data", "use duckdb:///path/file.duckdb or bigquery"),
    ],
)
def test_bad_warehouse_urls_say_what_to_write(url: str, lake: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        warehouse_from_url(url, lake)


def test_arrow_types_cover_the_schema() -> None:
    assert {f.type for f in WAREHOUSE_SCHEMA} <= {
        pa.date32(),
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.float64(),
        pa.int64(),
    }

"""The warehouse's SQL and configuration, without a database."""

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    TimeWindow,
)

from market_assets.candles.columns import CANDLES
from market_assets.warehouse.rows import WAREHOUSE_CANDLES, warehouse_rows
from resources.warehouse import (
    BigQueryDialect,
    BigQueryWarehouseIOManager,
    Bound,
    DuckDBDialect,
    DuckDBWarehouseIOManager,
    Layout,
    check_columns,
    slice_bounds,
    slice_where,
    swap_statement,
    warehouse_from_url,
)

DAY = TimeWindow(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
SLICE = [Bound("date", DAY), Bound("venue", ("binance",))]
LAYOUT = Layout(partition_column="date", cluster_by=("venue", "instrument_key"))
BIGQUERY = BigQueryDialect(project="p", dataset="market")
DUCKDB = DuckDBDialect(database=":memory:")
PARTITIONS = MultiPartitionsDefinition(
    {
        "date": DailyPartitionsDefinition(start_date="2023-12-01", timezone="UTC"),
        "venue": StaticPartitionsDefinition(["binance", "deribit"]),
    }
)
PARTITION_EXPR = {"date": "date", "venue": "venue"}


def test_a_slice_is_one_day_and_one_venue_with_typed_literals() -> None:
    assert slice_where(SLICE) == (
        "date >= DATE '2024-01-01' AND date < DATE '2024-01-02' AND venue IN ('binance')"
    )


def test_the_slice_comes_from_partition_expr_and_the_partition_key() -> None:
    key = MultiPartitionKey({"date": "2024-01-01", "venue": "binance"})
    assert slice_bounds(PARTITIONS, PARTITION_EXPR, [key]) == SLICE
    # Keys as strings (date|venue) name the same slice.
    assert slice_bounds(PARTITIONS, PARTITION_EXPR, ["2024-01-01|binance"]) == SLICE
    # Several partitions: the days they span and their venues.
    spanned = slice_bounds(PARTITIONS, PARTITION_EXPR, ["2024-01-02|deribit", "2024-01-01|binance"])
    assert slice_where(spanned) == (
        "date >= DATE '2024-01-01' AND date < DATE '2024-01-03' AND venue IN ('binance', 'deribit')"
    )
    assert slice_bounds(None, None, []) == []
    with pytest.raises(ValueError, match="partition_expr"):
        slice_bounds(PARTITIONS, None, [key])


def test_values_are_quoted() -> None:
    assert slice_where([Bound("venue", ("o'k",))]) == "venue IN ('o''k')"


def test_bigquery_tables_are_day_partitioned_and_clustered_with_explicit_types() -> None:
    ddl = BIGQUERY.create_statement("`p.market.candles_1h`", WAREHOUSE_CANDLES.schema, LAYOUT)
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `p.market.candles_1h` (")
    assert "  date DATE NOT NULL," in ddl
    assert "  instrument_key STRING NOT NULL," in ddl
    assert "  timestamp TIMESTAMP NOT NULL," in ddl
    assert "  trade_count INT64," in ddl
    assert ddl.endswith("PARTITION BY date\nCLUSTER BY venue, instrument_key")
    names = [line.split()[0] for line in ddl.splitlines()[1:] if line.startswith("  ")]
    assert names == WAREHOUSE_CANDLES.names
    assert all(name == name.lower() for name in names)


def test_duckdb_tables_use_duckdb_types() -> None:
    ddl = DUCKDB.create_statement("warehouse.candles_1h", WAREHOUSE_CANDLES.schema, LAYOUT)
    assert "  timestamp TIMESTAMPTZ NOT NULL," in ddl and "  vwap DOUBLE," in ddl
    assert "PARTITION" not in ddl


@pytest.mark.parametrize(
    ("arrow_type", "duckdb_type", "bigquery_type"),
    [
        (pa.string(), "VARCHAR", "STRING"),
        (pa.dictionary(pa.int32(), pa.string()), "VARCHAR", "STRING"),
        (pa.timestamp("us", tz="UTC"), "TIMESTAMPTZ", "TIMESTAMP"),
        (pa.date32(), "DATE", "DATE"),
        (pa.float64(), "DOUBLE", "FLOAT64"),
        (pa.int64(), "BIGINT", "INT64"),
        (pa.bool_(), "BOOLEAN", "BOOL"),
    ],
)
def test_each_dialect_maps_the_arrow_types(
    arrow_type: pa.DataType, duckdb_type: str, bigquery_type: str
) -> None:
    assert DUCKDB.sql_type(arrow_type) == duckdb_type
    assert BIGQUERY.sql_type(arrow_type) == bigquery_type


def test_an_unsupported_type_says_what_to_cast_to() -> None:
    with pytest.raises(ValueError, match="cast it to one of"):
        DUCKDB.sql_type(pa.timestamp("ns"))


def test_the_bigquery_load_schema_follows_the_arrow_schema() -> None:
    fields = {
        f.name: (f.field_type, f.mode) for f in BIGQUERY.load_schema(WAREHOUSE_CANDLES.schema)
    }
    assert fields["date"] == ("DATE", "REQUIRED")
    assert fields["vwap"] == ("FLOAT64", "NULLABLE")
    assert list(fields) == WAREHOUSE_CANDLES.names


def test_the_swap_is_one_transaction() -> None:
    statement = swap_statement("`p.d.t`", "`p.d.s`", ["date", "venue"], slice_where(SLICE))
    assert statement.splitlines() == [
        "BEGIN TRANSACTION;",
        "DELETE FROM `p.d.t` WHERE date >= DATE '2024-01-01' AND date < DATE '2024-01-02' "
        "AND venue IN ('binance');",
        "INSERT INTO `p.d.t` (date, venue) SELECT date, venue FROM `p.d.s`;",
        "COMMIT TRANSACTION;",
    ]


def test_rows_must_match_the_existing_columns() -> None:
    rows = warehouse_rows(CANDLES.schema.empty_table(), date(2024, 1, 1), "binance", CANDLES)
    assert rows.schema == WAREHOUSE_CANDLES.schema
    check_columns("t", WAREHOUSE_CANDLES.names, rows.schema.names)
    with pytest.raises(ValueError, match=r"missing \['vwap'\]\).*DROP TABLE t"):
        check_columns("t", WAREHOUSE_CANDLES.names, rows.drop_columns(["vwap"]).schema.names)


def test_column_names_must_be_lower_case() -> None:
    schema = pa.schema([pa.field("Open", pa.float64())])
    with pytest.raises(ValueError, match="lower case"):
        DUCKDB.create_statement("t", schema, Layout())


def test_warehouse_chosen_by_url(tmp_path) -> None:
    embedded = warehouse_from_url("", str(tmp_path))
    assert isinstance(embedded, DuckDBWarehouseIOManager)
    assert embedded.database == str(tmp_path / "market.duckdb")
    assert warehouse_from_url("duckdb:///srv/w.duckdb", "x").database == "/srv/w.duckdb"
    bigquery = warehouse_from_url("bigquery://acme-prod/market?location=EU", "gs://b/lake")
    assert isinstance(bigquery, BigQueryWarehouseIOManager)
    assert (bigquery.project, bigquery.dataset, bigquery.location) == ("acme-prod", "market", "EU")
    assert bigquery.dialect() == BigQueryDialect("acme-prod", "market", "EU")


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
    assert {f.type for f in WAREHOUSE_CANDLES.schema} <= {
        pa.date32(),
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.float64(),
        pa.int64(),
    }

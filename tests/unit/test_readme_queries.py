"""The README's warehouse queries: valid BigQuery SQL, and runnable on DuckDB."""

import re
from pathlib import Path

import duckdb
import sqlglot

from market_assets.warehouse.rows import WAREHOUSE_CANDLES
from resources.warehouse import DuckDBDialect, Layout

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", README, re.S)


def worked_example() -> str:
    [example] = [block for block in sql_blocks() if "my-project.market.candles_1h" in block]
    return example


def test_the_bigquery_example_parses_as_bigquery() -> None:
    parsed = sqlglot.parse_one(worked_example(), read="bigquery")
    tables = {table.sql(dialect="bigquery") for table in parsed.find_all(sqlglot.exp.Table)}
    assert tables == {"`my-project.market.candles_1h`"}


def test_the_example_runs_on_duckdb_as_the_readme_says() -> None:
    ddl = DuckDBDialect(database=":memory:").create_statement(
        "warehouse.candles_1h", WAREHOUSE_CANDLES.schema, Layout(partition_column="date")
    )
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA warehouse")
        connection.execute(ddl)
        # "The same query runs on DuckDB with warehouse.candles_1h for the table and ln for LOG."
        query = worked_example().replace("`my-project.market.candles_1h`", "warehouse.candles_1h")
        assert connection.execute(query.replace("LOG(", "ln(")).fetchall() == []

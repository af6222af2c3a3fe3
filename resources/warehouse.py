"""The SQL warehouse behind the ``warehouse_io_manager`` key: DuckDB embedded, BigQuery in
production (``MARKET_DATA_WAREHOUSE``). Assets return DataFrames and never know which.

Both implementations build on Dagster's own IO managers (``dagster-duckdb-pandas``,
``dagster-gcp-pandas``) and share what those leave open:

- Tables are created by the project before the first load, from the asset's declared
  ``dagster/column_schema`` (explicit types, lower-case names). On BigQuery they are
  DAY-partitioned on ``partition_column`` and clustered on ``cluster_by`` (asset metadata).
- Materialising a (date, venue) partition replaces exactly that slice, atomically: on
  DuckDB the delete and insert share one transaction; on BigQuery the rows are loaded into
  a staging table and swapped in by one multi-statement transaction.
- The slice is selected with typed DATE literals (``date >= DATE '2024-01-01' AND date <
  DATE '2024-01-02' AND venue IN ('binance')``), which BigQuery prunes to one partition.
"""

import io
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import InputContext, MetadataValue, OutputContext, TableSchema
from dagster._core.definitions.partitions.utils import TimeWindow
from dagster._core.storage.db_io_manager import (
    DbClient,
    DbIOManager,
    DbTypeHandler,
    TablePartitionDimension,
    TableSlice,
)
from dagster_duckdb.io_manager import DuckDBIOManager
from dagster_gcp.bigquery.io_manager import BigQueryClient, BigQueryIOManager
from google.cloud import bigquery

from resources.storage import is_local, upath

# The embedded warehouse's file inside a local lake root; its tables are warehouse.<name>.
DEFAULT_DUCKDB_FILE = "market.duckdb"
# One process at a time holds a DuckDB file for writing; concurrent runs wait their turn.
DUCKDB_LOCK_ATTEMPTS = 12
COLUMN_SCHEMA = "dagster/column_schema"
PARTITION_COLUMN = "warehouse/partition_column"
CLUSTER_BY = "warehouse/cluster_by"

# Column types are written in BigQuery's names; DuckDB and Arrow follow from them.
ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
    "FLOAT64": pa.float64(),
    "INT64": pa.int64(),
    "BOOL": pa.bool_(),
}
DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
    "FLOAT64": "DOUBLE",
    "INT64": "BIGINT",
    "BOOL": "BOOLEAN",
}


@dataclass(frozen=True)
class TableLayout:
    """What a warehouse table looks like, from its asset's definition metadata."""

    columns: tuple[tuple[str, str, bool], ...]  # (name, BigQuery type, required)
    partition_column: str | None
    cluster_by: tuple[str, ...]

    @classmethod
    def of(cls, context: OutputContext | InputContext) -> "TableLayout":
        metadata = context.definition_metadata or {}
        schema = metadata.get(COLUMN_SCHEMA)
        schema = getattr(schema, "schema", schema)
        if not isinstance(schema, TableSchema):
            raise ValueError(
                f"{context.asset_key.to_user_string()} declares no {COLUMN_SCHEMA}: the "
                "warehouse creates tables with explicit column types, so declare them"
            )
        columns = []
        for column in schema.columns:
            if column.type not in ARROW_TYPES:
                raise ValueError(
                    f"{column.name}: type {column.type!r} is not one of {', '.join(ARROW_TYPES)}"
                )
            if column.name != column.name.lower():
                raise ValueError(f"{column.name}: warehouse column names are lower case")
            columns.append((column.name, column.type, not column.constraints.nullable))
        return cls(
            columns=tuple(columns),
            partition_column=_text(metadata.get(PARTITION_COLUMN)),
            cluster_by=tuple(_value(metadata.get(CLUSTER_BY)) or ()),
        )

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.columns]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field(name, ARROW_TYPES[kind], nullable=not required)
                for name, kind, required in self.columns
            ]
        )

    def to_arrow(self, frame: pd.DataFrame, what: str) -> pa.Table:
        """``frame`` as Arrow in the declared column order and types (NaN is null)."""
        missing = [name for name in self.names if name not in frame.columns]
        extra = [name for name in frame.columns if name not in self.names]
        if missing or extra:
            raise ValueError(
                f"{what}: the rows have columns missing {missing} and undeclared {extra}; "
                f"return exactly the columns of the asset's {COLUMN_SCHEMA}"
            )
        return pa.Table.from_pandas(
            frame[self.names], schema=self.arrow_schema, preserve_index=False
        )

    def create_statement(self, table: str, dialect: str) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for ``table`` in ``duckdb`` or ``bigquery`` SQL."""
        types = DUCKDB_TYPES if dialect == "duckdb" else {k: k for k in ARROW_TYPES}
        columns = ",\n  ".join(
            f"{name} {types[kind]}{' NOT NULL' if required else ''}"
            for name, kind, required in self.columns
        )
        statement = f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n)"
        if dialect == "bigquery":
            if self.partition_column:
                statement += f"\nPARTITION BY {self.partition_column}"
            if self.cluster_by:
                statement += f"\nCLUSTER BY {', '.join(self.cluster_by)}"
        return statement


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def _text(entry: Any) -> str | None:
    value = _value(entry)
    return str(value) if value else None


def slice_where(dimensions: Sequence[TablePartitionDimension]) -> str:
    """The WHERE clause of one partition's slice, with typed DATE literals for days."""
    clauses = []
    for dimension in dimensions:
        if isinstance(dimension.partitions, TimeWindow):
            start, end = dimension.partitions
            clauses.append(
                f"{dimension.partition_expr} >= DATE '{start:%Y-%m-%d}' AND "
                f"{dimension.partition_expr} < DATE '{end:%Y-%m-%d}'"
            )
        else:
            values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in dimension.partitions)
            clauses.append(f"{dimension.partition_expr} IN ({values})")
    return " AND ".join(clauses)


def select_statement(table: str, table_slice: TableSlice) -> str:
    """The SELECT of ``table_slice``'s columns and partition from ``table`` (a name as the
    dialect writes it)."""
    columns = ", ".join(table_slice.columns) if table_slice.columns else "*"
    query = f"SELECT {columns} FROM {table}"
    if table_slice.partition_dimensions:
        query += f" WHERE {slice_where(table_slice.partition_dimensions)}"
    return query


def _written(rows: int, table: str, kind: str, slice_sql: str) -> dict[str, Any]:
    return {
        "dagster/partition_row_count": MetadataValue.int(rows),
        "table": MetadataValue.text(table),
        "storage": MetadataValue.text(kind),
        "replaced_slice": MetadataValue.text(slice_sql or "whole table"),
    }


# DuckDB --------------------------------------------------------------------------------


def _duckdb_table(
    table_slice: TableSlice, connection: duckdb.DuckDBPyConnection | None = None
) -> str:
    """``schema.table``; with a connection, qualified by its catalog too, since a database
    file named like the schema (``warehouse.duckdb``) makes ``warehouse.x`` ambiguous."""
    name = f"{table_slice.schema}.{table_slice.table}"
    return name if connection is None else f"{_duckdb_catalog(connection)}.{name}"


def _duckdb_catalog(connection: duckdb.DuckDBPyConnection) -> str:
    """The connected database file's catalog name, quoted."""
    [catalog] = connection.execute("SELECT current_database()").fetchone()
    return f'"{catalog}"'


def _open_duckdb(database: str) -> duckdb.DuckDBPyConnection:
    """A read-write connection; another run holding the file's lock is waited for."""
    for attempt in range(DUCKDB_LOCK_ATTEMPTS):
        try:
            return duckdb.connect(database)
        except duckdb.IOException as error:
            if attempt == DUCKDB_LOCK_ATTEMPTS - 1:
                raise duckdb.IOException(
                    f"{database} stayed locked by another process (a DuckDB file has one "
                    "writer at a time, and readers hold it too): close other connections "
                    f"to it and rerun the partition. DuckDB said: {error}"
                ) from error
            time.sleep(min(0.5 * 2**attempt, 10))
    raise AssertionError("unreachable")


class DuckDbWarehouseClient(DbClient):
    """One transaction per write: the slice's delete and insert land together or not at all."""

    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        # The type handler replaces the slice inside the write's transaction.
        pass

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection) -> None:
        connection.execute(
            f"CREATE SCHEMA IF NOT EXISTS {_duckdb_catalog(connection)}.{table_slice.schema}"
        )

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        return select_statement(_duckdb_table(table_slice), table_slice)

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = _open_duckdb(context.resource_config["database"])
        connection.execute("SET TimeZone = 'UTC'")
        try:
            connection.begin()
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()


class DuckDbWarehouseTypeHandler(DbTypeHandler[pd.DataFrame]):
    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection
    ) -> dict[str, Any]:
        layout = TableLayout.of(context)
        table = _duckdb_table(table_slice, connection)
        rows = layout.to_arrow(obj, table)
        connection.execute(layout.create_statement(table, "duckdb"))
        where = slice_where(table_slice.partition_dimensions)
        connection.execute(f"DELETE FROM {table}" + (f" WHERE {where}" if where else ""))
        connection.register("incoming_rows", rows)
        connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
        connection.unregister("incoming_rows")
        return _written(rows.num_rows, _duckdb_table(table_slice), "duckdb", where)

    def load_input(
        self, context: InputContext, table_slice: TableSlice, connection
    ) -> pd.DataFrame:
        table = _duckdb_table(table_slice, connection)
        return connection.execute(select_statement(table, table_slice)).df()

    @property
    def supported_types(self) -> Sequence[type]:
        return [pd.DataFrame]


class DuckDBWarehouseIOManager(DuckDBIOManager):
    """DuckDB file at ``database``; each asset key's prefix is its schema."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [DuckDbWarehouseTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(
            db_client=DuckDbWarehouseClient(),
            database=self.database,
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="DuckDBWarehouseIOManager",
        )


# BigQuery ------------------------------------------------------------------------------


def _bigquery_table(table_slice: TableSlice) -> str:
    return f"`{table_slice.database}.{table_slice.schema}.{table_slice.table}`"


def bigquery_client(project: str, location: str | None) -> bigquery.Client:
    """A client for ``project``; against ``BIGQUERY_EMULATOR_HOST`` when that is set (the
    emulator takes anonymous credentials), else with the ambient Google credentials."""
    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=project,
            location=location,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=emulator),
        )
    return bigquery.Client(project=project, location=location)


def swap_statement(table: str, staging: str, columns: Sequence[str], where: str) -> str:
    """One BigQuery transaction that replaces the slice ``where`` of ``table`` with the
    rows of ``staging``."""
    names = ", ".join(columns)
    return (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM {table}" + (f" WHERE {where}" if where else " WHERE TRUE") + ";\n"
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging};\n"
        "COMMIT TRANSACTION;"
    )


class BigQueryWarehouseClient(BigQueryClient):
    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        # The type handler swaps the slice in one transaction after loading the rows.
        pass

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection) -> None:
        connection.create_dataset(f"{table_slice.database}.{table_slice.schema}", exists_ok=True)

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        return select_statement(_bigquery_table(table_slice), table_slice)

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator[bigquery.Client]:
        config = context.resource_config or {}
        client = bigquery_client(str(config["project"]), config.get("location"))
        try:
            yield client
        finally:
            client.close()


class BigQueryWarehouseTypeHandler(DbTypeHandler[pd.DataFrame]):
    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection
    ) -> dict[str, Any]:
        layout = TableLayout.of(context)
        table = _bigquery_table(table_slice)
        rows = layout.to_arrow(obj, table)
        connection.query(layout.create_statement(table, "bigquery")).result()
        staging_id = (
            f"{table_slice.database}.{table_slice.schema}."
            f"_staging_{table_slice.table}_{uuid.uuid4().hex[:12]}"
        )
        parquet = io.BytesIO()
        pq.write_table(rows, parquet)
        parquet.seek(0)
        job = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=[
                bigquery.SchemaField(name, kind, mode="REQUIRED" if required else "NULLABLE")
                for name, kind, required in layout.columns
            ],
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        where = slice_where(table_slice.partition_dimensions)
        try:
            # No size given: a resumable upload, whatever the size of the slice.
            connection.load_table_from_file(parquet, staging_id, job_config=job).result()
            statement = swap_statement(table, f"`{staging_id}`", layout.names, where)
            connection.query(statement).result()
        finally:
            connection.delete_table(staging_id, not_found_ok=True)
        return _written(rows.num_rows, table, "bigquery", where)

    def load_input(
        self, context: InputContext, table_slice: TableSlice, connection
    ) -> pd.DataFrame:
        query = select_statement(_bigquery_table(table_slice), table_slice)
        return connection.query(query).result().to_arrow(create_bqstorage_client=False).to_pandas()

    @property
    def supported_types(self) -> Sequence[type]:
        return [pd.DataFrame]


class BigQueryWarehouseIOManager(BigQueryIOManager):
    """BigQuery tables in ``project``.``dataset``; names and types as declared."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [BigQueryWarehouseTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(
            db_client=BigQueryWarehouseClient(gcp_credentials=self.gcp_credentials),
            io_manager_name="BigQueryWarehouseIOManager",
            database=self.project,
            schema=self.dataset,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
        )


# From the environment ------------------------------------------------------------------


def warehouse_from_url(
    url: str, lake_root: str
) -> DuckDBWarehouseIOManager | BigQueryWarehouseIOManager:
    """The warehouse IO manager named by ``MARKET_DATA_WAREHOUSE``.

    ``duckdb:///path/file.duckdb`` or ``bigquery://project/dataset[?location=EU]``; empty:
    ``market.duckdb`` inside the lake root, which must then be a local folder.
    """
    if not url:
        if not is_local(upath(lake_root)):
            raise ValueError(
                f"MARKET_DATA_ROOT is {lake_root}, not a local folder, so the warehouse has no "
                "default: set MARKET_DATA_WAREHOUSE=bigquery://project/dataset (or "
                "duckdb:///path/file.duckdb)"
            )
        return DuckDBWarehouseIOManager(database=os.path.join(lake_root, DEFAULT_DUCKDB_FILE))
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        path = parsed.path if not parsed.netloc else parsed.netloc + parsed.path
        if not path:
            raise ValueError(
                f"MARKET_DATA_WAREHOUSE={url}: name a file, duckdb:///path/file.duckdb"
            )
        return DuckDBWarehouseIOManager(database=path)
    if parsed.scheme == "bigquery":
        dataset = parsed.path.strip("/")
        if not parsed.netloc or not dataset or "/" in dataset:
            raise ValueError(f"MARKET_DATA_WAREHOUSE={url}: expected bigquery://project/dataset")
        location = parse_qs(parsed.query).get("location", [None])[0]
        return BigQueryWarehouseIOManager(project=parsed.netloc, dataset=dataset, location=location)
    raise ValueError(
        f"MARKET_DATA_WAREHOUSE={url}: use duckdb:///path/file.duckdb or bigquery://project/dataset"
    )

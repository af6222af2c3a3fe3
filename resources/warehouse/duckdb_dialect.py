"""The embedded warehouse: one DuckDB file, its tables ``<key prefix>.<name>`` (``warehouse.
candles_1h``), each write one transaction, Arrow in and out without a copy through pandas."""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import duckdb
import pyarrow as pa
from dagster import AssetKey

from resources.warehouse.dialect import Dialect, Layout, Table, description, quoted

# One process at a time holds a DuckDB file for writing; concurrent runs wait their turn.
DUCKDB_LOCK_ATTEMPTS = 12


def open_duckdb(database: str) -> duckdb.DuckDBPyConnection:
    """A read-write connection to ``database``; another process holding its lock is waited
    for, with backoff, and named with the fix when it keeps it."""
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


@dataclass(frozen=True)
class DuckDBDialect(Dialect):
    """Tables in the DuckDB file ``database``; the asset key's prefix is the schema."""

    database: str
    name: ClassVar[str] = "duckdb"
    types: ClassVar[dict[pa.DataType, str]] = {
        pa.string(): "VARCHAR",
        pa.large_string(): "VARCHAR",
        pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
        pa.date32(): "DATE",
        pa.float64(): "DOUBLE",
        pa.int64(): "BIGINT",
        pa.bool_(): "BOOLEAN",
    }

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed when the block ends, rolled back
        when it raises, so a slice's delete and insert land together or not at all."""
        connection = open_duckdb(self.database)
        try:
            # TIMESTAMPTZ columns come back as UTC, whatever the host's zone.
            connection.execute("SET TimeZone = 'UTC'")
            connection.begin()
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def table(self, connection: duckdb.DuckDBPyConnection, key: AssetKey) -> Table:
        """``"catalog".schema.name``: a file named like the schema (``warehouse.duckdb``)
        would make ``warehouse.name`` ambiguous, so the catalog is named too."""
        [catalog] = connection.execute("SELECT current_database()").fetchone() or [None]
        schema = key.path[-2] if len(key.path) > 1 else "main"
        return Table(f'"{catalog}".{schema}.{key.path[-1]}', f"{catalog}.{schema}.{key.path[-1]}")

    def columns(self, connection: duckdb.DuckDBPyConnection, table: Table) -> list[str] | None:
        # Only the catalog (the file's stem) may itself hold a dot.
        catalog, schema, name = table.name.rsplit(".", 2)
        rows = connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [catalog, schema, name],
        ).fetchall()
        return [column for (column,) in rows] or None

    def create(
        self,
        connection: duckdb.DuckDBPyConnection,
        table: Table,
        schema: pa.Schema,
        layout: Layout,
    ) -> None:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.sql.rsplit('.', 1)[0]}")
        connection.execute(self.create_statement(table.sql, schema, layout))
        for field in schema:
            text = description(field)
            if text:
                connection.execute(f"COMMENT ON COLUMN {table.sql}.{field.name} IS {quoted(text)}")

    def replace_slice(
        self, connection: duckdb.DuckDBPyConnection, table: Table, rows: pa.Table, where: str
    ) -> None:
        """Delete and insert inside the transaction ``connect`` opened."""
        connection.execute(f"DELETE FROM {table.sql} WHERE {where or 'TRUE'}")
        view = f"incoming_{uuid.uuid4().hex[:12]}"
        # The Arrow table is scanned in place; BY NAME matches its columns to the table's.
        connection.register(view, rows)
        try:
            connection.execute(f"INSERT INTO {table.sql} BY NAME SELECT * FROM {view}")
        finally:
            connection.unregister(view)

    def read(self, connection: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
        return connection.execute(query).to_arrow_table()

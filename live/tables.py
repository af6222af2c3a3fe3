"""The ``live_candles_{tf}`` tables: closed live bars appended once each.

DuckDB embedded (``live.live_candles_{tf}`` in its own file, apart from the batch
warehouse that Dagster runs write), BigQuery in production (the dataset of
``MARKET_DATA_WAREHOUSE``), both through the warehouse's dialects, DDL from the Arrow
schema. A bar's key is (instrument_key, timestamp): DuckDB inserts only keys the table
lacks, in one transaction; BigQuery streams rows with the key as insert id, so a retried
insert is dropped by BigQuery. A restarted service asks ``last_bars`` and emits nothing
at or before them, so no bar is appended twice.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetKey

from live.bars import LiveBar, bars_table, live_candles_schema
from resources.environment import Environment
from resources.storage import is_local, upath
from resources.warehouse import BigQueryDialect, DuckDBDialect, Layout, warehouse_from_url

LIVE_SCHEMA = "live"
LIVE_DUCKDB_FILE = "live_candles.duckdb"
LAYOUT = Layout(partition_column="DATE(timestamp)", cluster_by=("instrument_key",))


def table_name(timeframe: str) -> str:
    return f"live_candles_{timeframe}"


def table_key(timeframe: str) -> AssetKey:
    """The asset key of the ``live_candles_{tf}`` table (its schema, then its name)."""
    return AssetKey([LIVE_SCHEMA, table_name(timeframe)])


@dataclass
class LiveTables:
    """Appends closed bars to the ``live_candles_{tf}`` tables of ``dialect``."""

    dialect: DuckDBDialect | BigQueryDialect
    created: set[str] = field(default_factory=set)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self.dialect.connect() as connection:
            yield connection

    def _table(self, connection: Any, timeframe: str) -> Any:
        table = self.dialect.table(connection, table_key(timeframe))
        if timeframe not in self.created:
            if self.dialect.columns(connection, table) is None:
                self.dialect.create(connection, table, live_candles_schema(), LAYOUT)
                if isinstance(self.dialect, DuckDBDialect):
                    index = f"{table_name(timeframe)}_key"
                    connection.execute(
                        f"CREATE UNIQUE INDEX IF NOT EXISTS {index} "
                        f"ON {table.sql} (instrument_key, timestamp)"
                    )
            self.created.add(timeframe)
        return table

    def last_bars(self, timeframes: list[str]) -> dict[tuple[str, str], int]:
        """Per (timeframe, instrument_key), the open (µs UTC) of the latest bar stored."""
        latest: dict[tuple[str, str], int] = {}
        with self._connection() as connection:
            for timeframe in timeframes:
                table = self.dialect.table(connection, table_key(timeframe))
                if self.dialect.columns(connection, table) is None:
                    continue
                rows = self.dialect.read(
                    connection,
                    f"SELECT instrument_key, MAX(timestamp) AS last FROM {table.sql} "
                    "GROUP BY instrument_key",
                )
                stamps = rows["last"].cast(pa.int64()).to_pylist()
                for key, last in zip(rows["instrument_key"].to_pylist(), stamps, strict=True):
                    latest[(timeframe, key)] = last
        return latest

    def append(self, bars: list[LiveBar]) -> int:
        """Append closed bars (any timeframes); the number of rows the tables gained."""
        by_timeframe: dict[str, list[LiveBar]] = {}
        for bar in bars:
            if bar.partial:
                raise ValueError(
                    f"{bar.instrument_key} {bar.timeframe}: partial bars are not stored"
                )
            by_timeframe.setdefault(bar.timeframe, []).append(bar)
        added = 0
        with self._connection() as connection:
            for timeframe, chosen in by_timeframe.items():
                table = self._table(connection, timeframe)
                rows = bars_table(chosen)
                if isinstance(self.dialect, DuckDBDialect):
                    added += _insert_new_duckdb(connection, table.sql, rows)
                else:
                    added += _stream_bigquery(connection, table.name, rows)
        return added

    def summary(self, timeframe: str) -> "TableSummary":
        """Rows, latest bar and when it was stored; zeros before the table exists."""
        with self._connection() as connection:
            table = self.dialect.table(connection, table_key(timeframe))
            if self.dialect.columns(connection, table) is None:
                return TableSummary(0, None, None, 0)
            rows = self.dialect.read(
                connection,
                "SELECT COUNT(*) AS n, MAX(timestamp) AS last, MAX(known_at) AS known, "
                f"SUM(CASE WHEN complete THEN 0 ELSE 1 END) AS incomplete FROM {table.sql}",
            )
        return TableSummary(
            rows=int(rows["n"][0].as_py()),
            last_bar_us=rows["last"].cast(pa.int64())[0].as_py(),
            last_known_at_us=rows["known"].cast(pa.int64())[0].as_py(),
            incomplete=int(rows["incomplete"][0].as_py() or 0),
        )


@dataclass(frozen=True)
class TableSummary:
    """What an observation of a ``live_candles_{tf}`` table reports."""

    rows: int
    last_bar_us: int | None
    last_known_at_us: int | None
    incomplete: int


def _insert_new_duckdb(connection: Any, table: str, rows: pa.Table) -> int:
    view = "incoming_live_bars"
    connection.register(view, rows)
    try:
        before = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        connection.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM {view} AS new WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} AS old WHERE old.instrument_key = new.instrument_key "
            "AND old.timestamp = new.timestamp)"
        )
        after = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        connection.unregister(view)
    return int(after - before)


def _stream_bigquery(client: Any, table: str, rows: pa.Table) -> int:
    """Streaming inserts, the bar's key as insert id (BigQuery drops a retried row)."""
    columns = [
        pc.strftime(column, "%Y-%m-%dT%H:%M:%SZ") if pa.types.is_timestamp(column.type) else column
        for column in rows.columns
    ]
    records = pa.Table.from_arrays(columns, names=rows.column_names).to_pylist()
    ids = [f"{record['instrument_key']}|{record['timestamp']}" for record in records]
    errors = client.insert_rows_json(table, records, row_ids=ids)
    if errors:
        raise RuntimeError(f"{table}: BigQuery refused live bars: {errors[:3]}")
    return len(records)


def live_tables(environment: Environment) -> LiveTables:
    """The tables of ``live_tables_url(environment)`` (a DuckDB file's folder is created:
    a fresh lake root may not exist yet)."""
    manager = warehouse_from_url(
        live_tables_url(environment),
        environment.lake_root,
        bigquery_emulator_host=environment.bigquery_emulator_host,
    )
    dialect = manager.dialect()
    if isinstance(dialect, DuckDBDialect):
        os.makedirs(os.path.dirname(os.path.abspath(dialect.database)), exist_ok=True)
    return LiveTables(dialect)


def live_tables_url(environment: Environment) -> str:
    """Where the tables are: ``MARKET_DATA_LIVE_WAREHOUSE`` (``duckdb:///file`` or
    ``bigquery://project/dataset``); unset: the BigQuery warehouse's dataset when
    ``MARKET_DATA_WAREHOUSE`` is BigQuery, else ``live_candles.duckdb`` in the (local)
    lake root.
    The batch warehouse's DuckDB file is not shared: Dagster runs write it."""
    url = environment.live_warehouse_url
    if not url and environment.warehouse_url.startswith("bigquery://"):
        url = environment.warehouse_url
    if not url:
        if not is_local(upath(environment.lake_root)):
            raise ValueError(
                f"MARKET_DATA_ROOT is {environment.lake_root}, not a local folder: set "
                "MARKET_DATA_LIVE_WAREHOUSE=bigquery://project/dataset (or duckdb:///file)"
            )
        url = f"duckdb:///{os.path.abspath(os.path.join(environment.lake_root, LIVE_DUCKDB_FILE))}"
    return url

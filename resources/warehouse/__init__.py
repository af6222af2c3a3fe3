"""The SQL warehouse behind the ``warehouse_io_manager`` key: DuckDB embedded, BigQuery in
production (``MARKET_DATA_WAREHOUSE``). Assets return a ``pa.Table`` and never know which;
inputs load as a ``pa.Table`` too.

One IO manager does the work, over a small dialect per backend (``duckdb_dialect``,
``bigquery_dialect``); ``DuckDBWarehouseIOManager`` and ``BigQueryWarehouseIOManager`` are
its two configurations, naming the connection and nothing else.

- A table is ``<name>`` of the asset key's last part, created before its first load from
  the Arrow schema of the rows (explicit types, NOT NULL, lower-case names, column
  descriptions from the fields' metadata). On BigQuery it is partitioned on
  ``warehouse/partition_column`` and clustered on ``warehouse/cluster_by`` (asset metadata).
- Materialising a (date, venue) partition replaces exactly that slice, atomically: on
  DuckDB the delete and insert share one transaction; on BigQuery the rows are loaded into
  a staging table and swapped in by one multi-statement transaction.
- The slice comes from the asset's ``partition_expr`` (dimension -> column) and the
  partition key, with typed DATE literals for days (``date >= DATE '2024-01-01' AND date
  < DATE '2024-01-02' AND venue IN ('binance')``), which BigQuery prunes to one partition.
"""

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
from dagster import (
    ConfigurableIOManager,
    InputContext,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    OutputContext,
    PartitionsDefinition,
    TimeWindow,
    TimeWindowPartitionsDefinition,
)

from resources.storage import is_local, upath
from resources.warehouse.bigquery_dialect import BigQueryDialect, bigquery_client, swap_statement
from resources.warehouse.dialect import (
    Bound,
    Dialect,
    Layout,
    select_statement,
    slice_where,
)
from resources.warehouse.duckdb_dialect import DuckDBDialect

__all__ = [
    "DEFAULT_DUCKDB_FILE",
    "BigQueryDialect",
    "BigQueryWarehouseIOManager",
    "Bound",
    "DuckDBDialect",
    "DuckDBWarehouseIOManager",
    "Layout",
    "WarehouseIOManager",
    "bigquery_client",
    "check_columns",
    "slice_bounds",
    "slice_where",
    "swap_statement",
    "warehouse_from_url",
]

# The embedded warehouse's file inside a local lake root; its tables are warehouse.<name>.
DEFAULT_DUCKDB_FILE = "market.duckdb"
PARTITION_EXPR = "partition_expr"
PARTITION_COLUMN = "warehouse/partition_column"
CLUSTER_BY = "warehouse/cluster_by"


def _value(entry: Any) -> Any:
    """A metadata entry's raw value, whether Dagster wrapped it in a MetadataValue or not."""
    return getattr(entry, "value", entry)


def layout_of(metadata: Mapping[str, Any]) -> Layout:
    """The table layout an asset's definition metadata asks for."""
    partition_column = _value(metadata.get(PARTITION_COLUMN))
    return Layout(
        partition_column=str(partition_column) if partition_column else None,
        cluster_by=tuple(_value(metadata.get(CLUSTER_BY)) or ()),
    )


def slice_bounds(
    partitions_def: PartitionsDefinition | None,
    partition_expr: str | Mapping[str, str] | None,
    keys: Sequence[str],
) -> list[Bound]:
    """The slice of the partitions ``keys``: per dimension, its column (``partition_expr``,
    a mapping dimension -> column for multi-partitions) and the days or values it spans;
    several keys select the box they span. No partitions: no bounds, the whole table."""
    if partitions_def is None or not keys:
        return []
    if partition_expr is None:
        raise ValueError(
            "a partitioned warehouse asset needs partition_expr metadata naming the column "
            'of each partition dimension, e.g. {"date": "date", "venue": "venue"}'
        )
    if isinstance(partitions_def, MultiPartitionsDefinition):
        if not isinstance(partition_expr, Mapping):
            raise ValueError("partition_expr of a multi-partitioned asset maps each dimension")
        dimensions = [(d.name, d.partitions_def) for d in partitions_def.partitions_defs]
        exprs = dict(partition_expr)
        values = [_keys_by_dimension(partitions_def, key) for key in keys]
    else:
        dimensions, exprs = [("", partitions_def)], {"": str(partition_expr)}
        values = [{"": str(key)} for key in keys]
    bounds = []
    for name, definition in dimensions:
        if name not in exprs:
            raise ValueError(f"partition_expr names no column for the {name!r} dimension")
        spanned = sorted({value[name] for value in values})
        if isinstance(definition, TimeWindowPartitionsDefinition):
            windows = [definition.time_window_for_partition_key(value) for value in spanned]
            span = TimeWindow(min(w.start for w in windows), max(w.end for w in windows))
            bounds.append(Bound(exprs[name], span))
        else:
            bounds.append(Bound(exprs[name], tuple(spanned)))
    return bounds


def _keys_by_dimension(partitions_def: MultiPartitionsDefinition, key: str) -> dict[str, str]:
    """Dimension -> value of ``key``, a ``MultiPartitionKey`` or its ``date|venue`` string."""
    if not isinstance(key, MultiPartitionKey):
        key = partitions_def.get_partition_key_from_str(key)
    return dict(key.keys_by_dimension)


def check_columns(table: str, existing: Sequence[str], returned: Sequence[str]) -> None:
    """Raise, naming the fix, when the rows' columns are not those of the existing table."""
    missing = [name for name in existing if name not in returned]
    extra = [name for name in returned if name not in existing]
    if missing or extra:
        differences = ", ".join(
            f"{what} {names}" for what, names in (("missing", missing), ("new", extra)) if names
        )
        raise ValueError(
            f"{table}: the rows' columns differ from the existing table's ({differences}): "
            "the asset's columns changed, so migrate the table (ALTER TABLE ... ADD/DROP "
            f"COLUMN) or drop it (DROP TABLE {table}) and rematerialise every partition"
        )


class WarehouseIOManager(ConfigurableIOManager):
    """Stores a ``pa.Table`` output as its partition's slice of a SQL table and loads an
    input's partitions back as a ``pa.Table``; ``dialect()`` names the backend."""

    def dialect(self) -> Dialect:
        """The backend this configuration connects to."""
        raise NotImplementedError("use DuckDBWarehouseIOManager or BigQueryWarehouseIOManager")

    def handle_output(self, context: OutputContext, obj: pa.Table) -> None:
        """Replace the slice of ``context``'s partition by ``obj``, creating the table first
        if needed; materialisation metadata says what was written where."""
        what = context.asset_key.to_user_string()
        if not isinstance(obj, pa.Table):
            raise TypeError(f"{what} returned {type(obj).__name__}: return a pyarrow.Table")
        if context.asset_key.path[-1] != context.asset_key.path[-1].lower():
            raise ValueError(f"{what}: warehouse table names are lower case")
        metadata = context.definition_metadata or {}
        partitioned = context.has_asset_partitions
        bounds = slice_bounds(
            context.asset_partitions_def if partitioned else None,
            _value(metadata.get(PARTITION_EXPR)),
            [context.asset_partition_key] if partitioned else [],
        )
        where = slice_where(bounds)
        dialect = self.dialect()
        with dialect.connect() as connection:
            table = dialect.table(connection, context.asset_key)
            existing = dialect.columns(connection, table)
            if existing is None:
                dialect.create(connection, table, obj.schema, layout_of(metadata))
            else:
                check_columns(table.name, existing, obj.schema.names)
            dialect.replace_slice(connection, table, obj, where)
        context.add_output_metadata(
            {
                "dagster/partition_row_count": MetadataValue.int(obj.num_rows),
                "dagster/table_name": MetadataValue.text(table.name),
                "table": MetadataValue.text(table.sql),
                "storage": MetadataValue.text(dialect.name),
                "replaced_slice": MetadataValue.text(where or "whole table"),
                "Query": MetadataValue.text(select_statement(table.sql, (), where)),
            }
        )

    def load_input(self, context: InputContext) -> pa.Table:
        """The rows of the input's partitions (all rows when unpartitioned), restricted to
        the input's ``columns`` metadata when it lists some."""
        upstream = context.upstream_output
        metadata = (upstream.definition_metadata if upstream else None) or {}
        partitioned = context.has_asset_partitions
        bounds = slice_bounds(
            context.asset_partitions_def if partitioned else None,
            _value(metadata.get(PARTITION_EXPR)),
            context.asset_partition_keys if partitioned else [],
        )
        columns = _value((context.definition_metadata or {}).get("columns")) or ()
        where = slice_where(bounds)
        dialect = self.dialect()
        with dialect.connect() as connection:
            table = dialect.table(connection, context.asset_key)
            return dialect.read(connection, select_statement(table.sql, columns, where))


class DuckDBWarehouseIOManager(WarehouseIOManager):
    """The warehouse in the DuckDB file ``database``; each asset key's prefix is its schema."""

    database: str

    def dialect(self) -> Dialect:
        return DuckDBDialect(self.database)


class BigQueryWarehouseIOManager(WarehouseIOManager):
    """The warehouse in the BigQuery dataset ``project.dataset`` (at ``location``)."""

    project: str
    dataset: str
    location: str | None = None
    emulator_host: str = ""  # BIGQUERY_EMULATOR_HOST: anonymous requests to a stand-in

    def dialect(self) -> Dialect:
        return BigQueryDialect(self.project, self.dataset, self.location, self.emulator_host)


def warehouse_from_url(
    url: str, lake_root: str, *, bigquery_emulator_host: str = ""
) -> WarehouseIOManager:
    """The warehouse IO manager named by ``MARKET_DATA_WAREHOUSE``.

    ``duckdb:///path/file.duckdb`` or ``bigquery://project/dataset[?location=EU]``; empty:
    ``market.duckdb`` inside the lake root, which must then be a local folder. BigQuery
    goes to the emulator at ``bigquery_emulator_host`` when one is given.
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
        return BigQueryWarehouseIOManager(
            project=parsed.netloc,
            dataset=dataset,
            location=location,
            emulator_host=bigquery_emulator_host,
        )
    raise ValueError(
        f"MARKET_DATA_WAREHOUSE={url}: use duckdb:///path/file.duckdb or bigquery://project/dataset"
    )

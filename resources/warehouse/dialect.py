"""What every warehouse dialect shares: the SQL of a partition's slice, the DDL of a table
from the Arrow schema of the rows it receives, and the interface a backend implements.

A dialect knows one backend's SQL types and how to connect, create a table, swap a slice
and read rows back; the IO manager (``resources.warehouse``) decides what to do with them.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, NamedTuple

import pyarrow as pa
from dagster import AssetKey, TimeWindow


class Layout(NamedTuple):
    """How a table is laid out beyond its columns (BigQuery partitions and clusters it)."""

    partition_column: str | None = None
    cluster_by: tuple[str, ...] = ()


class Table(NamedTuple):
    """One warehouse table: ``sql`` as statements name it, ``name`` fully qualified, plain."""

    sql: str
    name: str


class Bound(NamedTuple):
    """One partition dimension of a slice: the column ``expr`` and the day window or the
    values its rows have."""

    expr: str
    values: TimeWindow | tuple[str, ...]


def slice_where(bounds: Sequence[Bound]) -> str:
    """The WHERE condition selecting ``bounds`` (empty: no condition, the whole table).

    Days are compared with typed DATE literals, which BigQuery prunes to partitions.
    """
    clauses = []
    for expr, values in bounds:
        if isinstance(values, TimeWindow):
            clauses.append(
                f"{expr} >= DATE '{values.start:%Y-%m-%d}' AND "
                f"{expr} < DATE '{values.end:%Y-%m-%d}'"
            )
        else:
            clauses.append(f"{expr} IN ({', '.join(quoted(value) for value in values)})")
    return " AND ".join(clauses)


def quoted(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def select_statement(table: str, columns: Sequence[str], where: str) -> str:
    """The SELECT of ``columns`` (all when empty) of the rows of ``table`` matching ``where``."""
    query = f"SELECT {', '.join(columns) if columns else '*'} FROM {table}"
    return f"{query} WHERE {where}" if where else query


def description(field: pa.Field) -> str | None:
    """A column's description from its field's ``description`` and ``unit`` metadata (as
    ``market_assets.columns`` writes them); None without a description."""
    metadata = field.metadata or {}
    text, unit = metadata.get(b"description"), metadata.get(b"unit")
    if not text:
        return None
    return f"{text.decode()} ({unit.decode()})" if unit else text.decode()


class Dialect(ABC):
    """One backend's SQL and client calls; ``connection`` is whatever ``connect`` yields."""

    # Shown as the ``storage`` of a materialisation.
    name: ClassVar[str]
    # The Arrow types the warehouse stores, as this backend's SQL names them.
    types: ClassVar[Mapping[pa.DataType, str]]

    def sql_type(self, arrow_type: pa.DataType) -> str:
        """The SQL type of a column of ``arrow_type``; dictionaries store their values."""
        if pa.types.is_dictionary(arrow_type):
            arrow_type = arrow_type.value_type
        try:
            return self.types[arrow_type]
        except KeyError:
            supported = ", ".join(str(kind) for kind in self.types)
            raise ValueError(
                f"{self.name} stores no {arrow_type} column: cast it to one of {supported}"
            ) from None

    def table_options(self, layout: Layout) -> str:
        """What follows the column list of a CREATE TABLE (nothing unless a dialect says)."""
        return ""

    def create_statement(self, table: str, schema: pa.Schema, layout: Layout) -> str:
        """``CREATE TABLE IF NOT EXISTS`` of ``table`` with ``schema``'s columns, in order,
        with explicit types and NOT NULL for non-nullable fields."""
        upper = [name for name in schema.names if name != name.lower()]
        if upper:
            raise ValueError(f"{table}: warehouse column names are lower case, not {upper}")
        columns = ",\n  ".join(
            f"{field.name} {self.sql_type(field.type)}{'' if field.nullable else ' NOT NULL'}"
            for field in schema
        )
        return f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n){self.table_options(layout)}"

    @abstractmethod
    def connect(self) -> AbstractContextManager[Any]:
        """A connection (or client) for one write or read; a write commits as a whole."""

    @abstractmethod
    def table(self, connection: Any, key: AssetKey) -> Table:
        """The table of the asset ``key``: named by the key's last part."""

    @abstractmethod
    def columns(self, connection: Any, table: Table) -> list[str] | None:
        """The column names of ``table``, or None when it does not exist yet."""

    @abstractmethod
    def create(self, connection: Any, table: Table, schema: pa.Schema, layout: Layout) -> None:
        """Create ``table`` (and its schema or dataset) for rows of ``schema``."""

    @abstractmethod
    def replace_slice(self, connection: Any, table: Table, rows: pa.Table, where: str) -> None:
        """Replace the rows of ``table`` matching ``where`` by ``rows``, atomically."""

    @abstractmethod
    def read(self, connection: Any, query: str) -> pa.Table:
        """The result of the SELECT ``query`` as Arrow."""

"""The production warehouse: BigQuery tables in ``project.dataset``, DAY-partitioned and
clustered as the asset says. A slice is loaded as Parquet into a staging table and swapped
in by one multi-statement transaction, so readers see the old slice or the new one."""

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import AssetKey
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from resources.warehouse.dialect import Dialect, Layout, Table, description


def bigquery_client(project: str, location: str | None, emulator_host: str = "") -> bigquery.Client:
    """A client for ``project``; against the emulator at ``emulator_host`` when given (the
    emulator takes anonymous credentials), else with the ambient Google credentials."""
    if emulator_host:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=project,
            location=location,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=emulator_host),
        )
    return bigquery.Client(project=project, location=location)


def swap_statement(table: str, staging: str, columns: Sequence[str], where: str) -> str:
    """One BigQuery transaction replacing the rows of ``table`` matching ``where`` (all
    when empty) by the rows of ``staging``."""
    names = ", ".join(columns)
    return (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM {table} WHERE {where or 'TRUE'};\n"
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging};\n"
        "COMMIT TRANSACTION;"
    )


@dataclass(frozen=True)
class BigQueryDialect(Dialect):
    """Tables ``project.dataset.<name>``; ``location`` is the dataset's (None: the default)."""

    project: str
    dataset: str
    location: str | None = None
    emulator_host: str = ""  # a local stand-in (BIGQUERY_EMULATOR_HOST)
    name: ClassVar[str] = "bigquery"
    types: ClassVar[dict[pa.DataType, str]] = {
        pa.string(): "STRING",
        pa.large_string(): "STRING",
        pa.timestamp("us", tz="UTC"): "TIMESTAMP",
        pa.date32(): "DATE",
        pa.float64(): "FLOAT64",
        pa.int64(): "INT64",
        pa.bool_(): "BOOL",
    }

    def table_options(self, layout: Layout) -> str:
        """PARTITION BY the partition column (a DATE: one partition per day), CLUSTER BY
        the columns queries filter on."""
        options = ""
        if layout.partition_column:
            options += f"\nPARTITION BY {layout.partition_column}"
        if layout.cluster_by:
            options += f"\nCLUSTER BY {', '.join(layout.cluster_by)}"
        return options

    @contextmanager
    def connect(self) -> Iterator[bigquery.Client]:
        client = bigquery_client(self.project, self.location, self.emulator_host)
        try:
            yield client
        finally:
            client.close()

    def table(self, connection: bigquery.Client, key: AssetKey) -> Table:
        name = f"{self.project}.{self.dataset}.{key.path[-1]}"
        return Table(f"`{name}`", name)

    def columns(self, connection: bigquery.Client, table: Table) -> list[str] | None:
        try:
            return [field.name for field in connection.get_table(table.name).schema]
        except NotFound:
            return None

    def create(
        self, connection: bigquery.Client, table: Table, schema: pa.Schema, layout: Layout
    ) -> None:
        connection.create_dataset(f"{self.project}.{self.dataset}", exists_ok=True)
        connection.query(self.create_statement(table.sql, schema, layout)).result()
        descriptions = {field.name: description(field) for field in schema}
        if any(descriptions.values()):
            # Set through the API: column OPTIONS in the DDL are not kept by every emulator.
            created = connection.get_table(table.name)
            created.schema = [
                bigquery.SchemaField(
                    field.name,
                    field.field_type,
                    mode=field.mode,
                    description=descriptions.get(field.name),
                )
                for field in created.schema
            ]
            connection.update_table(created, ["schema"])

    def load_schema(self, schema: pa.Schema) -> list[bigquery.SchemaField]:
        """The explicit schema of a Parquet load of rows of ``schema``."""
        return [
            bigquery.SchemaField(
                field.name,
                self.sql_type(field.type),
                mode="NULLABLE" if field.nullable else "REQUIRED",
            )
            for field in schema
        ]

    def replace_slice(
        self, connection: bigquery.Client, table: Table, rows: pa.Table, where: str
    ) -> None:
        """Load ``rows`` into a staging table, swap them in, drop the staging table."""
        staging = f"{table.name}__staging_{uuid.uuid4().hex[:12]}"
        parquet = io.BytesIO()
        pq.write_table(rows, parquet)
        parquet.seek(0)
        job = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=self.load_schema(rows.schema),
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        try:
            # No size given: a resumable upload, whatever the size of the slice (and the
            # upload the BigQuery emulator accepts).
            connection.load_table_from_file(parquet, staging, job_config=job).result()
            statement = swap_statement(table.sql, f"`{staging}`", rows.schema.names, where)
            connection.query(statement).result()
        finally:
            connection.delete_table(staging, not_found_ok=True)

    def read(self, connection: bigquery.Client, query: str) -> pa.Table:
        return connection.query(query).result().to_arrow(create_bqstorage_client=False)

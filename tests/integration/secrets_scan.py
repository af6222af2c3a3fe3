"""Where a secret could hide after a run, looked at the way an attacker with read access
would: every file as bytes (gzip and zlib payloads inflated), every SQLite and PostgreSQL
row cell (Dagster's snapshots are zlib-compressed JSON), and every Parquet file's footer
metadata and string columns (their pages are zstd-compressed, invisible to a byte grep).
"""

import gzip
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def expanded(blob: bytes) -> Iterator[bytes]:
    """``blob`` itself, then what it inflates to when it is a gzip or zlib stream."""
    yield blob
    for inflate in (gzip.decompress, zlib.decompress):
        try:
            yield inflate(blob)
        except (OSError, EOFError, zlib.error):
            continue


def cell_bytes(value: object) -> bytes:
    """One database cell as bytes (memoryview from psycopg2, bytes from SQLite, else text)."""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def sqlite_cells(path: Path) -> Iterator[tuple[str, bytes]]:
    """(``file:table``, cell) for every cell of every table of one SQLite file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    yield f"{path}:{table}", cell_bytes(value)


def postgres_cells(connection) -> Iterator[tuple[str, bytes]]:
    """(``postgres:table``, cell) for every cell of every table in the public schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    yield f"postgres:{table}", cell_bytes(value)


def parquet_texts(path: Path) -> Iterator[bytes]:
    """A Parquet file's key-value metadata and the values of its string columns."""
    metadata = pq.read_metadata(path).metadata or {}
    for key, value in metadata.items():
        yield key + b"=" + value
    table = pq.read_table(path)
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            yield "\n".join(pc.unique(column).drop_null().to_pylist()).encode()


def tree_blobs(root: Path) -> Iterator[tuple[str, bytes]]:
    """(place, bytes) for every file under ``root``, with the rows and columns inside
    SQLite and Parquet files."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield str(path), path.read_bytes()
        if path.suffix == ".db":
            yield from sqlite_cells(path)
        elif path.suffix == ".parquet":
            for text in parquet_texts(path):
                yield f"{path}:columns", text


def places_holding(secret: str, blobs: Iterable[tuple[str, bytes]]) -> list[str]:
    """The places whose bytes, inflated or not, hold ``secret``."""
    needle = secret.encode()
    return sorted(
        {place for place, blob in blobs if any(needle in form for form in expanded(blob))}
    )

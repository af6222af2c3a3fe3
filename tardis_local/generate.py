"""Deterministic, realistic Tardis-style CSV.gz datasets, generated, never copied.

Model: every (exchange, data type, symbol) has one continuous event stream. An
exchange day is cut into chunks of at most `CHUNK_ROWS` rows (see `chunks`). The file
of day D holds exactly the events whose local_timestamp falls in [D, D+1) UTC, so it
is built from the last chunk of exchange day D-1 (its late tail) plus the chunks of
day D, minus day D's own tail that belongs to D+1. This module assembles and writes
those files; `market` simulates prices and sizes, `payloads` the per-type columns.
"""

from __future__ import annotations

import gzip
import heapq
import io
import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tardis_local import catalog, payloads
from tardis_local.chunks import build_chunk
from tardis_local.data_types import DEFAULT_ROWS_PER_DAY, HEADERS
from tardis_local.timestamps import US_PER_DAY, day_us

__all__ = ["CHUNK_ROWS", "HEADERS", "US_PER_DAY", "dataset_bytes", "write_dataset"]

CHUNK_ROWS = 500_000
_GZIP_LEVEL = 1


def _chunk_table(
    exchange: str,
    data_type: str,
    symbol: str,
    gen_day: date,
    index: int,
    count: int,
    rows_per_day: int,
) -> pa.Table | None:
    """One chunk's rows (plus a `_key` sort column), limited to the symbol's availability."""
    chunk = build_chunk(exchange, data_type, symbol, gen_day, index, count, rows_per_day)
    if chunk is None:
        return None
    instrument = chunk.instrument
    columns: dict[str, Any] = {
        "exchange": pa.repeat(exchange, chunk.n),
        "symbol": pa.repeat(instrument.symbol, chunk.n),
        "timestamp": chunk.ts,
        "local_timestamp": chunk.local,
        **payloads.columns(data_type, chunk),
        "_key": chunk.local * 2 + 1,
    }
    table = pa.table(columns)
    if data_type == "incremental_book_L2" and index == 0:
        opening = max(day_us(gen_day), instrument.since_us)
        table = pa.concat_tables([payloads.opening_snapshot(instrument, opening, chunk.rng), table])
    stamps = table.column("timestamp").to_numpy()
    keep = stamps >= instrument.since_us
    if instrument.until_us is not None:
        keep &= stamps < instrument.until_us
    return table if keep.all() else table.filter(pa.array(keep))


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pa.array(np.argsort(table.column("_key").to_numpy(), kind="stable")))


def _member_tables(
    exchange: str, data_type: str, symbol: str, day: date, rows_per_day: int
) -> Iterator[tuple[int, pa.Table]]:
    """(window, sorted table with `_key`) of one instrument's rows received on `day`.

    Window `i` covers the same slice of receive time for every instrument generated with
    the same `rows_per_day`, so grouped files merge members window by window.
    """
    count = max(1, math.ceil(rows_per_day / CHUNK_ROWS))
    start_of_day = day_us(day)
    pending: pa.Table | None = None
    previous_day = day - timedelta(days=1)
    sources = [(previous_day, count - 1)] + [(day, index) for index in range(count)]
    for gen_day, index in sources:
        table = _chunk_table(exchange, data_type, symbol, gen_day, index, count, rows_per_day)
        parts = [part for part in (pending, table) if part is not None and part.num_rows]
        if not parts:
            pending = None
            continue
        combined = _sorted(pa.concat_tables(parts))
        key = combined.column("_key").to_numpy()
        if gen_day < day:
            # Only the previous day's late tail (received after midnight) belongs to this file.
            pending = combined.slice(int(np.searchsorted(key, start_of_day * 2)))
            continue
        chunk_end = start_of_day + (
            US_PER_DAY if index == count - 1 else (index + 1) * (US_PER_DAY // count)
        )
        cut = int(np.searchsorted(key, chunk_end * 2))
        if cut:
            yield index, combined.slice(0, cut)
        pending = combined.slice(cut)
    # What is left was received after midnight: it is the next day's file.


def _file_tables(
    exchange: str, data_type: str, symbol: str, day: date, rows_per_day: int | None
) -> Iterator[pa.Table]:
    header = HEADERS[data_type]
    rows = DEFAULT_ROWS_PER_DAY[data_type] if rows_per_day is None else rows_per_day
    if symbol not in catalog.GROUPED_SYMBOLS:
        for _, table in _member_tables(exchange, data_type, symbol, day, rows):
            yield table.select(header)
        return
    # A grouped file is the union of its members' files, merged by local_timestamp one
    # receive-time window at a time, so memory holds one window of every member, not a day.
    members = [
        _member_tables(exchange, data_type, member["id"], day, rows)
        for member in catalog.grouped_members(exchange, symbol)
        if any(
            catalog.is_available(exchange, member["id"], d) for d in (day, day - timedelta(days=1))
        )
    ]
    windows: dict[int, list[pa.Table]] = {}
    for window, table in heapq.merge(*members, key=lambda item: item[0]):
        windows.setdefault(window, []).append(table)
        for done in [w for w in windows if w < window]:
            yield _sorted(pa.concat_tables(windows.pop(done))).select(header)
    for window in sorted(windows):
        yield _sorted(pa.concat_tables(windows.pop(window))).select(header)


def _check(exchange: str, data_type: str, symbol: str, day: date) -> None:
    if data_type not in HEADERS:
        raise ValueError(f"unknown data type {data_type!r}; known: {', '.join(HEADERS)}")
    published = catalog.symbol_data_types(exchange, symbol)  # raises for unknown exchange/symbol
    if data_type not in published:
        raise ValueError(
            f"{exchange} {symbol} has no {data_type} dataset; it has {', '.join(published)}"
        )
    if not catalog.is_available(exchange, symbol, day):
        raise ValueError(f"{exchange} {symbol} is not available on {day.isoformat()}")


def _write_gzip(
    sink: BinaryIO,
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    rows_per_day: int | None,
    empty: bool,
) -> None:
    # mtime=0 and no file name in the gzip header: same arguments, same bytes.
    with gzip.GzipFile(
        filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=sink, mtime=0
    ) as archive:
        if empty:
            return
        archive.write((",".join(HEADERS[data_type]) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        for table in _file_tables(exchange, data_type, symbol, day, rows_per_day):
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(table, buffer, options)
            archive.write(buffer.getvalue())


def write_dataset(
    path: str | Path,
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    *,
    rows_per_day: int | None = None,
    empty: bool = False,
) -> None:
    """Write the Tardis CSV.gz of (exchange, data_type, symbol, UTC day) to `path`.

    `symbol` is a Tardis dataset id (e.g. "BTCUSDT", "OPTIONS"). Rows hold the events
    whose local_timestamp (µs since epoch, UTC) falls on `day`, ordered by it.
    `rows_per_day` sets the events per exchange day (per member for grouped symbols);
    `empty=True` writes an empty gzip, Tardis' way of saying "no data that day".
    Raises ValueError for an unknown exchange, symbol or data type, or a day outside
    the symbol's availability.
    """
    _check(exchange, data_type, symbol, day)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as sink:
        _write_gzip(sink, exchange, data_type, symbol, day, rows_per_day, empty)


def dataset_bytes(
    exchange: str,
    data_type: str,
    symbol: str,
    day: date,
    *,
    rows_per_day: int | None = None,
    empty: bool = False,
) -> bytes:
    """The gzip bytes `write_dataset` would write for the same arguments."""
    _check(exchange, data_type, symbol, day)
    sink = io.BytesIO()
    _write_gzip(sink, exchange, data_type, symbol, day, rows_per_day, empty)
    return sink.getvalue()

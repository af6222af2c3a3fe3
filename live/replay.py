"""Tick tables replayed as live feed events, in the order they were received.

Rows of the lake's (or a Tardis file's) tick tables become ``Tick`` events, merged by
``local_timestamp`` (ties in table order, then in each table's row order: Tardis' file
order), optionally paced at ``speed`` times real time. Used to drive the service from
recorded days (tests, benchmarks, a dry run without an exchange connection).
"""

import asyncio
import heapq
import time
from collections.abc import AsyncIterator, Iterable, Iterator

import pyarrow as pa

from live.events import LiveEvent, Tick


def rows_of(table: pa.Table) -> list[dict[str, object]]:
    """A tick table's rows as a live feed sends them: plain values, times as int µs."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        elif pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names).to_pylist()


def ticks_in_receive_order(tables: Iterable[tuple[str, str, pa.Table]]) -> Iterator[Tick]:
    """``(venue, data_type, table)`` triples merged into one stream by receive time."""
    streams = [_stream(number, *entry) for number, entry in enumerate(tables)]
    for *_, tick in heapq.merge(*streams, key=lambda item: item[:3]):
        yield tick


def _stream(number: int, venue: str, data_type: str, table: pa.Table) -> Iterator[tuple]:
    for n, row in enumerate(rows_of(table)):
        yield row["local_timestamp"], number, n, Tick(data_type, venue, row)


async def replay(ticks: Iterable[Tick], speed: float | None = None) -> AsyncIterator[LiveEvent]:
    """The ticks as an event stream; ``speed`` × real time by their receive times, or as
    fast as the consumer takes them (None), yielding to the event loop every few ticks."""
    first_local: int | None = None
    started = time.monotonic()
    for number, tick in enumerate(ticks):
        local = int(tick.row["local_timestamp"])  # type: ignore[call-overload]
        if speed is not None:
            if first_local is None:
                first_local = local
            due = started + (local - first_local) / 1e6 / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        elif number % 64 == 0:
            await asyncio.sleep(0)
        yield tick

"""Tardis CSV.gz files parsed straight to typed Arrow record batches.

Pure transform: no Dagster, no network, nothing but pyarrow reading the file it is given
(inflated by ISA-L's gzip, twice as fast as zlib).
Timestamps become ``timestamp[us, UTC]`` (Tardis sends integer microseconds since the
epoch), labels become dictionary-encoded strings, and every row gains its
``instrument_key``. Rows keep the order of the source file.
"""

from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from isal import igzip_threaded
from pyarrow import csv

from market_assets.columns import LABEL, Column, Dataset
from market_assets.ticks.columns import IDENTITY

# 4 MiB of CSV text is ~45k trades: a file of 125k trades parses in three pieces side by
# side (in one piece of 16 MiB it took 1.6x as long), a busy day's 450 MB as fast as in
# pieces of 16 MiB, and memory stays bounded by a handful of pieces whatever the file size.
DEFAULT_CHUNK_BYTES = 4 << 20
PARSE_WORKERS = 2
# Room in each text buffer for the end of a line carried from the piece before.
CARRY_ROOM = 1 << 16
# Text buffers kept for the next pieces: those in flight (the workers', one being filled)
# for two files at once.
KEPT_BUFFERS = 2 * (PARSE_WORKERS + 2)


class TardisFormatError(ValueError):
    """A Tardis file that does not look like the data type it was asked for."""


class TardisGzipError(TardisFormatError):
    """A Tardis file whose gzip stream is cut short or corrupt: a bad copy, which another
    download may mend, unlike a file whose content is wrong."""


def file_columns(dataset: Dataset) -> tuple[Column, ...]:
    """The columns a Tardis file of ``dataset`` holds after ``exchange,symbol``."""
    return dataset.columns[len(IDENTITY) :]


def csv_header(dataset: Dataset) -> list[str]:
    """The exact header line Tardis writes for ``dataset``, as a list of names."""
    return ["exchange", "symbol", *(column.name for column in file_columns(dataset))]


def _read_type(arrow_type: pa.DataType) -> pa.DataType:
    # Timestamps are read as the integers Tardis writes and cast without copying afterwards.
    return pa.int64() if pa.types.is_timestamp(arrow_type) else arrow_type


def read_tardis_csv(
    source: str | Path | BinaryIO,
    dataset: Dataset,
    instrument_keys: Mapping[str, str],
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    workers: int = PARSE_WORKERS,
) -> Iterator[pa.Table]:
    """Stream a Tardis ``.csv.gz`` file (a path, or a binary stream of its gzip bytes) as
    tables of ``dataset.schema``, in file order, in one read of it.

    ``instrument_keys`` maps the Tardis symbols wanted to their instrument keys; rows of
    any other symbol (grouped files such as ``OPTIONS``) are dropped as early as possible.
    The file is inflated in a background thread and cut into pieces of about
    ``chunk_bytes`` of text that ``workers`` threads parse at once, so memory is bounded
    by a few pieces whatever the file size. An empty gzip (Tardis' "no data that day")
    yields nothing. Every gzip member's trailer is checked as the stream ends, so a body
    cut short raises ``TardisGzipError`` after its last whole rows; the header or a value
    that does not parse raises ``TardisFormatError``; both name the file.
    """
    name = source if isinstance(source, str | Path) else getattr(source, "name", "<stream>")
    parse = partial(_parse_piece, dataset=dataset, instrument_keys=instrument_keys)
    try:
        with (
            igzip_threaded.open(source, "rb", threads=1) as stream,
            ThreadPoolExecutor(workers, thread_name_prefix="tardis-csv") as pool,
        ):
            buffers = _BUFFERS.setdefault(chunk_bytes, _Buffers(chunk_bytes))
            pieces = _line_pieces(stream, buffers)
            header = next(pieces, None)
            if header is None:
                return
            _check_header(name, header[0], dataset)
            in_flight: deque[Future[pa.Table]] = deque()
            try:
                for piece, held in pieces:
                    future = pool.submit(parse, piece)
                    # The piece's buffer takes the next piece once its rows are parsed
                    # (Arrow copies values out of the text).
                    future.add_done_callback(lambda _, held=held: buffers.give_back(held))
                    in_flight.append(future)
                    if len(in_flight) > workers:
                        yield from _non_empty(in_flight.popleft().result())
                while in_flight:
                    yield from _non_empty(in_flight.popleft().result())
            finally:
                for future in in_flight:
                    future.cancel()
    except (pa.ArrowInvalid, OSError, EOFError) as error:
        raise _described(name, dataset, error) from error


def _check_header(name: object, header: pa.Buffer, dataset: Dataset) -> None:
    found = header.to_pybytes().decode("utf-8", errors="replace").rstrip("\r\n")
    expected = ",".join(csv_header(dataset))
    if found != expected:
        raise TardisFormatError(
            f"{name}: header {found!r} is not Tardis' {dataset.name} header {expected!r}"
        )


def _non_empty(table: pa.Table) -> Iterator[pa.Table]:
    if table.num_rows:
        yield table


class _Buffers:
    """Reusable text buffers of ``chunk_bytes`` (and room for a line carried over), shared
    by every file a process reads: the pages of a buffer used before are already mapped,
    where a fresh one pays a page fault per 4 KiB (a busy day inflates to 450 MB of text,
    a venue-day of small files makes a buffer per file). Up to ``KEPT_BUFFERS`` wait."""

    def __init__(self, chunk_bytes: int) -> None:
        self.chunk_bytes = chunk_bytes
        self._free: deque[bytearray] = deque()

    def take(self, carried: int) -> bytearray:
        size = self.chunk_bytes + max(carried, CARRY_ROOM)
        while True:
            try:
                buffer = self._free.pop()
            except IndexError:
                return bytearray(size)
            if len(buffer) >= size:
                return buffer

    def give_back(self, buffer: bytearray) -> None:
        if len(self._free) < KEPT_BUFFERS and len(buffer) >= self.chunk_bytes:
            self._free.append(buffer)


_BUFFERS: dict[int, _Buffers] = {}


def _line_pieces(stream: BinaryIO, buffers: _Buffers) -> Iterator[tuple[pa.Buffer, bytearray]]:
    """The header line of a CSV stream, then its rows in pieces that end on a line break,
    each with the buffer holding it (to ``give_back`` once the piece is parsed); nothing
    at all for an empty stream."""
    carry = b""
    header_pending = True
    while True:
        buffer = buffers.take(len(carry))
        view = memoryview(buffer)
        view[: len(carry)] = carry
        read = stream.readinto(view[len(carry) : len(carry) + buffers.chunk_bytes])
        view.release()
        if not read:
            buffers.give_back(buffer)
            break
        filled = len(carry) + read
        start = 0
        if header_pending:
            start = buffer.find(b"\n", 0, filled) + 1
            if start == 0:
                carry = bytes(buffer[:filled])
                buffers.give_back(buffer)
                continue
            header_pending = False
            yield pa.py_buffer(bytes(buffer[:start])), bytearray()
        cut = buffer.rfind(b"\n", 0, filled) + 1
        if cut <= start:
            carry = bytes(buffer[start:filled])
            buffers.give_back(buffer)
            continue
        carry = bytes(buffer[cut:filled])
        # A zero-copy view: the piece is handed to Arrow without copying the text again.
        yield pa.py_buffer(buffer).slice(start, cut - start), buffer
    if header_pending:
        if carry.strip():
            yield pa.py_buffer(carry), bytearray()  # a header without a line break, no rows
        return
    if carry.strip():
        yield pa.py_buffer(carry), bytearray()


def _parse_piece(
    piece: pa.Buffer, *, dataset: Dataset, instrument_keys: Mapping[str, str]
) -> pa.Table:
    header = csv_header(dataset)
    table = csv.read_csv(
        pa.BufferReader(piece),
        read_options=csv.ReadOptions(
            column_names=header, use_threads=False, block_size=max(piece.size, 1) + 1
        ),
        convert_options=csv.ConvertOptions(
            column_types={
                "symbol": LABEL,
                **{column.name: _read_type(column.type) for column in file_columns(dataset)},
            },
            include_columns=header[1:],
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    return _with_instrument_keys(table.combine_chunks(), dataset, instrument_keys)


def _with_instrument_keys(
    table: pa.Table, dataset: Dataset, instrument_keys: Mapping[str, str]
) -> pa.Table:
    symbols = table.column("symbol").chunk(0)
    wanted = [instrument_keys.get(s) for s in symbols.dictionary.to_pylist()]
    # Unwanted symbols get an empty placeholder (Parquet refuses null dictionary entries);
    # their rows are dropped below, so no row ever refers to it.
    keys = pa.array([key or "" for key in wanted], pa.string())
    instrument_key = pa.DictionaryArray.from_arrays(symbols.indices, keys)
    columns = [instrument_key, symbols]
    for spec in file_columns(dataset):
        column = table.column(spec.name)
        columns.append(column.cast(spec.type) if column.type != spec.type else column)
    keyed = pa.Table.from_arrays(columns, schema=dataset.schema)
    if None in wanted:
        keep = pc.take(pa.array([key is not None for key in wanted]), symbols.indices)
        keyed = keyed.filter(keep)
    return keyed


def _described(name: object, dataset: Dataset, error: Exception) -> TardisFormatError:
    if isinstance(error, TardisFormatError):
        return error
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    signs = ("gzip", "inflate", "truncated", "end-of-stream", "compressed file", "crc")
    if isinstance(error, EOFError) or any(sign in reason.lower() for sign in signs):
        return TardisGzipError(
            f"{name}: the gzip stream is corrupt or truncated ({reason}); download it again"
        )
    return TardisFormatError(f"{name}: not a valid Tardis {dataset.name} file: {reason}")

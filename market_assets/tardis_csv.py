"""Tardis CSV.gz files parsed straight to typed Arrow record batches.

Pure transform: no Dagster, no network, nothing but pyarrow reading the file it is given.
Timestamps become ``timestamp[us, UTC]`` (Tardis sends integer microseconds since the
epoch), labels become dictionary-encoded strings, and every row gains its
``instrument_key``. Rows keep the order of the source file.
"""

import gzip
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

TIMESTAMP = pa.timestamp("us", tz="UTC")
LABEL = pa.dictionary(pa.int32(), pa.string())

# 16 MiB of CSV text is ~200k trades: large enough that per-batch overhead vanishes, small
# enough that memory stays bounded by a handful of blocks whatever the file size.
DEFAULT_BLOCK_BYTES = 16 << 20


class TardisFormatError(ValueError):
    """A Tardis file that does not look like the data type it was asked for."""


@dataclass(frozen=True)
class CsvLayout:
    """The columns of one Tardis data type, in file order after ``exchange,symbol``."""

    data_type: str
    columns: tuple[tuple[str, pa.DataType], ...]

    @property
    def header(self) -> list[str]:
        """The exact header line Tardis writes, as a list of names."""
        return ["exchange", "symbol", *(name for name, _ in self.columns)]

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the parsed batches: identity first, then Tardis' columns."""
        fields = [
            pa.field("instrument_key", LABEL, nullable=False),
            pa.field("symbol", LABEL, nullable=False),
        ]
        fields += [pa.field(name, arrow_type) for name, arrow_type in self.columns]
        return pa.schema(fields)


TRADES = CsvLayout(
    "trades",
    (
        ("timestamp", TIMESTAMP),
        ("local_timestamp", TIMESTAMP),
        ("id", pa.string()),
        ("side", LABEL),
        ("price", pa.float64()),
        ("amount", pa.float64()),
    ),
)

LAYOUTS: dict[str, CsvLayout] = {layout.data_type: layout for layout in (TRADES,)}


def _read_type(arrow_type: pa.DataType) -> pa.DataType:
    # Timestamps are read as the integers Tardis writes and cast without copying afterwards.
    return pa.int64() if pa.types.is_timestamp(arrow_type) else arrow_type


def read_tardis_csv(
    path: str | Path,
    layout: CsvLayout,
    instrument_keys: Mapping[str, str],
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> Iterator[pa.RecordBatch]:
    """Stream a Tardis ``.csv.gz`` file as record batches of ``layout.schema``.

    ``instrument_keys`` maps the Tardis symbols wanted to their instrument keys; rows of
    any other symbol (grouped files such as ``OPTIONS``) are dropped as early as possible.
    An empty gzip (Tardis' "no data that day") yields nothing. Raises
    ``TardisFormatError`` naming the file when the header or a value does not parse.
    """
    header = _first_line(path)
    if header is None:
        return
    if header != ",".join(layout.header):
        raise TardisFormatError(
            f"{path}: header {header!r} is not Tardis' {layout.data_type} header "
            f"{','.join(layout.header)!r}"
        )
    with pa.input_stream(str(path), compression="gzip") as stream:
        try:
            reader = csv.open_csv(
                stream,
                read_options=csv.ReadOptions(block_size=block_bytes),
                convert_options=csv.ConvertOptions(
                    column_types={
                        "symbol": LABEL,
                        **{name: _read_type(arrow_type) for name, arrow_type in layout.columns},
                    },
                    include_columns=layout.header[1:],
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        except (pa.ArrowInvalid, OSError) as error:
            raise TardisFormatError(_describe(path, layout, error)) from error
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError) as error:
                raise TardisFormatError(_describe(path, layout, error)) from error
            keyed = _with_instrument_keys(batch, layout, instrument_keys)
            if keyed.num_rows:
                yield keyed


def _first_line(path: str | Path) -> str | None:
    """The header line of a gzip CSV, or None for an empty gzip (Tardis' "no data")."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
            line = text.readline()
    except (OSError, EOFError) as error:
        raise TardisFormatError(
            f"{path}: not a readable gzip file ({error}); download it again"
        ) from error
    return line.rstrip("\r\n") or None


def _with_instrument_keys(
    batch: pa.RecordBatch, layout: CsvLayout, instrument_keys: Mapping[str, str]
) -> pa.RecordBatch:
    symbols: pa.DictionaryArray = batch.column("symbol")
    keys = pa.array([instrument_keys.get(s) for s in symbols.dictionary.to_pylist()], pa.string())
    instrument_key = pa.DictionaryArray.from_arrays(symbols.indices, keys)
    columns = [instrument_key, symbols]
    for name, arrow_type in layout.columns:
        column = batch.column(name)
        columns.append(column.cast(arrow_type) if column.type != arrow_type else column)
    keyed = pa.RecordBatch.from_arrays(columns, schema=layout.schema)
    if keys.null_count:
        keyed = keyed.filter(pc.is_valid(instrument_key))
    return keyed


def _describe(path: str | Path, layout: CsvLayout, error: Exception) -> str:
    reason = str(error).splitlines()[0]
    if "gzip" in reason.lower() or "inflate" in reason.lower() or "truncated" in reason.lower():
        return f"{path}: the gzip stream is corrupt or truncated ({reason}); download it again"
    return f"{path}: not a valid Tardis {layout.data_type} file: {reason}"

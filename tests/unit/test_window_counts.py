"""The day window's per-instrument row counts from footers, against counting every row."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from market_assets.ticks.columns import TRADES
from resources.lake import ParquetLake
from resources.lake_handles import DayWindow

DAY, NEXT = "2024-01-02", "2024-01-03"
MIDNIGHT = datetime(2024, 1, 2, tzinfo=UTC)
KEYS = ("BINANCE:SPOT_PAIR:BTC-USDT", "BINANCE:SPOT_PAIR:ETH-USDT")


def trades(keys: list[str], stamps: list[datetime]) -> pa.Table:
    rows = len(keys)
    return pa.table(
        {
            "instrument_key": pa.array(keys, TRADES.schema.field("instrument_key").type),
            "timestamp": pa.array(stamps, TRADES.schema.field("timestamp").type),
            "price": pa.array(np.full(rows, 1.0)),
        }
    )


def write(lake: ParquetLake, day: str, name: str, table: pa.Table, **options: object) -> None:
    folder = Path(lake.partition_path(("ticks", "trades"), day, "binance").path)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"{name}.parquet", **options)


def every_row(lake: ParquetLake) -> dict[str, int]:
    """The reference: every row of both days read, counted when stamped inside the day."""
    counts: dict[str, int] = {}
    for day in (DAY, NEXT):
        for path in lake.files(("ticks", "trades"), day, "binance"):
            table = pq.read_table(path.path).to_pandas()
            inside = table[
                (table.timestamp >= MIDNIGHT) & (table.timestamp < MIDNIGHT + timedelta(days=1))
            ]
            for key, rows in inside.instrument_key.astype(str).value_counts().items():
                counts[key] = counts.get(key, 0) + int(rows)
    return counts


def seconds(*offsets: float) -> list[datetime]:
    return [MIDNIGHT + timedelta(seconds=s) for s in offsets]


@pytest.mark.parametrize("statistics", [True, False])
def test_rows_inside_counts_what_every_row_says(tmp_path: Path, statistics: bool) -> None:
    """Row groups wholly inside, wholly outside, straddling midnight at both ends, mixing
    two instruments, in D's file and D+1's, with statistics in the footer or without."""
    lake = ParquetLake(str(tmp_path / "lake"))
    rng = np.random.default_rng(7)
    # D's file of BTC: starts 3 s before midnight (rows of D−1), out of order near the end.
    offsets = np.sort(rng.uniform(-3, 86_400 - 1, 50))
    offsets[-5:] = offsets[-5:][::-1]
    options = {"row_group_size": 7, "write_statistics": statistics}
    write(lake, DAY, "btc", trades([KEYS[0]] * 50, seconds(*offsets)), **options)
    # D's file holding both instruments in shared row groups.
    mixed = [KEYS[n % 2] for n in range(30)]
    write(lake, DAY, "mixed", trades(mixed, seconds(*np.linspace(-10, 86_390, 30))), **options)
    # D+1's file of BTC: its first rows are late trades of D, then D+1's own.
    late = np.concatenate([np.linspace(86_390, 86_399.5, 9), np.linspace(86_400, 90_000, 20)])
    write(lake, NEXT, "btc", trades([KEYS[0]] * late.size, seconds(*late)), **options)

    window = DayWindow.open(lake, ("ticks", "trades"), DAY, "binance")

    assert window.next_day_included
    assert window.rows_inside("instrument_key") == every_row(lake)
    assert every_row(lake)[KEYS[0]] > 0 and every_row(lake)[KEYS[1]] > 0


def test_rows_inside_reads_only_the_row_groups_at_midnight(tmp_path: Path) -> None:
    """A file of one instrument with statistics: the row groups the footer decides are
    never read (a corrupted page there would fail the read)."""
    lake = ParquetLake(str(tmp_path / "lake"))
    offsets = np.linspace(-5, 86_395, 100)
    write(lake, DAY, "btc", trades([KEYS[0]] * 100, seconds(*offsets)), row_group_size=10)
    path = Path(lake.files(("ticks", "trades"), DAY, "binance")[0].path)
    metadata = pq.read_metadata(path)
    # Corrupt the data pages of the middle row group, leaving the footer intact.
    middle = metadata.row_group(5)
    start = min(middle.column(n).data_page_offset for n in range(middle.num_columns))
    raw = bytearray(path.read_bytes())
    raw[start : start + middle.total_byte_size // 2] = b"\xff" * (middle.total_byte_size // 2)
    path.write_bytes(bytes(raw))

    window = DayWindow.open(lake, ("ticks", "trades"), DAY, "binance")

    inside = int(np.sum((offsets >= 0) & (offsets < 86_400)))
    assert window.rows_inside("instrument_key") == {KEYS[0]: inside}

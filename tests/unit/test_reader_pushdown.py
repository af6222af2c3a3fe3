"""Row groups and rows a read needs, chosen from statistics; windows given their rows; and
the ranged reads a remote file is made of."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from upath import UPath

from market_assets.columns import LABEL, TIMESTAMP
from market_reader.pushdown import Intervals, assign, row_groups, rows_inside
from market_reader.row_groups import FOOTER_SAMPLE, RowGroupReader, _FetchedRanges

KEYS = ["A:SPOT_PAIR:X", "B:SPOT_PAIR:Y"]


def ticks(count: int = 1_000) -> pa.Table:
    """``count`` rows one second apart, the first half of instrument A, the rest of B."""
    stamps = np.arange(count, dtype=np.int64) * 1_000_000
    keys = pa.array([KEYS[i * 2 // count] for i in range(count)]).cast(LABEL)
    return pa.table(
        {
            "instrument_key": keys,
            "timestamp": pa.array(stamps).cast(TIMESTAMP),
            "price": pa.array(np.arange(count, dtype=np.float64)),
        }
    )


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "ticks.parquet"
    pq.write_table(ticks(), path, row_group_size=100)
    return path


def seconds(*pairs: tuple[float, float]) -> Intervals:
    return Intervals.union([int(a * 1e6) for a, _ in pairs], [int(b * 1e6) for _, b in pairs])


def test_intervals_join_overlaps_and_answer_for_times_and_ranges() -> None:
    joined = seconds((5, 10), (0, 3), (2, 4), (9, 12), (20, 21))
    assert (joined.starts / 1e6).tolist() == [0, 5, 20]
    assert (joined.ends / 1e6).tolist() == [4, 12, 21]
    times = (np.array([0, 3.9, 4, 11.9, 12, 19, 20]) * 1e6).astype(np.int64)
    assert joined.holds(times).tolist() == [True, True, False, True, False, False, True]
    assert joined.meets(int(4e6), int(5e6)) and not joined.meets(int(12e6), int(19e6))


def test_only_the_row_groups_meeting_the_times_and_instruments_are_chosen(parquet: Path) -> None:
    metadata = pq.ParquetFile(parquet).metadata
    assert row_groups(metadata, seconds((150, 160))) == [1]
    assert row_groups(metadata, seconds((199, 201), (950, 2_000))) == [1, 2, 9]
    # Row groups 0-4 hold instrument A only, 5-9 B only.
    assert row_groups(metadata, seconds((0, 1_000)), [KEYS[1]]) == [5, 6, 7, 8, 9]
    assert row_groups(metadata, seconds((0, 1_000)), ["C:SPOT_PAIR:Z"]) == []


def test_the_rows_kept_are_those_inside_in_their_order() -> None:
    table = ticks()
    kept = rows_inside(table, seconds((10, 12), (600, 601)), [KEYS[1]])
    assert kept.column("price").to_pylist() == [600.0]
    assert rows_inside(table, seconds((10, 12)), None).column("price").to_pylist() == [10.0, 11.0]


def test_each_window_gets_its_rows_in_source_order_overlaps_in_both() -> None:
    times = np.array([5, 1, 3, 2, 9, 3], dtype=np.int64)  # source order, out of time order
    positions, windows = assign(times, np.array([1, 3, 8]), np.array([4, 6, 9]))
    assert list(zip(windows.tolist(), positions.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 5),
        (1, 0),
        (1, 2),
        (1, 5),
    ]
    assert assign(times, np.array([100]), np.array([200]))[0].size == 0


def test_a_remote_file_is_read_by_ranges_in_one_round(
    parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Larger than the footer's first read, so the row groups must be fetched.
    local = parquet.with_name("large.parquet")
    pq.write_table(ticks(200_000), local, row_group_size=20_000)
    path = UPath("memory:///lake/ticks.parquet")
    path.fs.pipe(path.path, local.read_bytes())
    fetched: list[int] = []
    original = path.fs.cat_ranges

    def counted(paths: list[str], starts: list[int], ends: list[int], **options: object) -> list:
        fetched.append(len(paths))
        return original(paths, starts, ends, **options)

    monkeypatch.setattr(path.fs, "cat_ranges", counted)
    with RowGroupReader(path) as reader:
        table = reader.read([1, 7], ["timestamp", "price"])
    expected = pq.ParquetFile(local).read_row_groups([1, 7], columns=["timestamp", "price"])
    assert table.equals(expected)
    assert fetched == [2]  # the two row groups' chunks, fetched in one call


def test_fetched_ranges_join_and_fetch_only_what_is_not_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = UPath("memory:///lake/bytes.bin")
    content = bytes(range(256)) * 4_096  # 1 MiB, larger than the footer's first read
    path.fs.pipe(path.path, content)
    asked: list[tuple[int, int]] = []
    original = path.fs.cat_ranges

    def counted(paths: list[str], starts: list[int], ends: list[int], **options: object) -> list:
        asked.extend(zip(starts, ends, strict=True))
        return original(paths, starts, ends, **options)

    monkeypatch.setattr(path.fs, "cat_ranges", counted)
    remote = _FetchedRanges(path)
    tail = len(content) - FOOTER_SAMPLE
    remote.fetch([(0, 10), (500_000, tail + 10)])
    # The second range stops where the tail, already held, begins.
    assert asked == [(0, 10), (500_000, tail)]
    remote.seek(499_990)
    assert remote.read(20) == content[499_990:500_010]  # one fetched piece on its own
    remote.seek(tail - 5)
    assert remote.read(10) == content[tail - 5 : tail + 5]  # across a join

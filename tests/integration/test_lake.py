"""The Parquet lake: Hive layout, whole-partition replacement, nothing half-written."""

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources.lake import LakeFile, ParquetLake, describe_lake

TRADES = ("ticks", "trades")


def ticks(values: list[int]) -> pa.Table:
    return pa.table(
        {
            "timestamp": pa.array(values, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "price": pa.array([float(v) for v in values]),
        }
    )


def lake_file(name: str, values: list[int]) -> LakeFile:
    table = ticks(values)
    return LakeFile(name, table.schema, table.to_batches(), {"url": f"http://x/{name}"})


def test_partition_lands_in_hive_layout_with_utc_timestamps_and_zstd_beyond_tiny_files(
    tmp_path: Path,
) -> None:
    lake = ParquetLake(str(tmp_path))
    written = lake.write_partition(TRADES, "2024-01-01", "binance", [lake_file("a", [1, 2])])

    path = tmp_path / "ticks/trades/date=2024-01-01/venue=binance/a.parquet"
    assert written.path == str(path.parent)
    assert written.rows == 2
    assert written.first_timestamp.isoformat() == "1970-01-01T00:00:00.000001+00:00"
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)
    assert column.compression == "UNCOMPRESSED"  # two rows: smaller than compressed
    # 5,000 rows are 80,000 bytes of Arrow data, over UNCOMPRESSED_BELOW_BYTES (65,536).
    lake.write_partition(TRADES, "2024-01-02", "binance", [lake_file("b", list(range(5_000)))])
    larger = tmp_path / "ticks/trades/date=2024-01-02/venue=binance/b.parquet"
    groups = pq.ParquetFile(larger).metadata.row_group(0)
    assert {groups.column(i).compression for i in range(groups.num_columns)} == {"ZSTD"}
    logical = pq.ParquetFile(path).schema.column(0).logical_type
    assert '"isAdjustedToUTC":true' in logical.to_json()
    assert '"timeUnit":"microseconds"' in logical.to_json()
    assert not (tmp_path / "_staging").exists() or not any((tmp_path / "_staging").iterdir())


def test_rerun_replaces_the_partition_exactly(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))
    lake.write_partition(
        TRADES, "2024-01-01", "binance", [lake_file("a", [1]), lake_file("b", [2])]
    )
    lake.write_partition(TRADES, "2024-01-01", "binance", [lake_file("b", [3, 4])])

    assert [p.name for p in lake.files(TRADES, "2024-01-01", "binance")] == ["b.parquet"]
    assert lake.read(TRADES, "2024-01-01", "binance").column("price").to_pylist() == [3.0, 4.0]


def test_failure_mid_write_leaves_the_previous_partition_untouched(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))
    lake.write_partition(TRADES, "2024-01-01", "binance", [lake_file("a", [1])])

    def broken() -> Iterator[pa.RecordBatch]:
        yield ticks([7]).to_batches()[0]
        raise RuntimeError("source died")

    table = ticks([0])
    with pytest.raises(RuntimeError, match="source died"):
        lake.write_partition(
            TRADES,
            "2024-01-01",
            "binance",
            [lake_file("a", [5]), LakeFile("b", table.schema, broken())],
        )

    assert lake.read(TRADES, "2024-01-01", "binance").column("price").to_pylist() == [1.0]
    assert not any((tmp_path / "_staging").iterdir())


def test_first_write_failing_leaves_no_partition(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))

    def broken() -> Iterator[pa.RecordBatch]:
        raise RuntimeError("no data")
        yield

    with pytest.raises(RuntimeError):
        lake.write_partition(
            TRADES, "2024-01-02", "binance", [LakeFile("a", ticks([]).schema, broken())]
        )
    assert lake.files(TRADES, "2024-01-02", "binance") == []
    with pytest.raises(
        FileNotFoundError, match=r"materialise ticks/trades for 2024-01-02\|binance"
    ):
        lake.read(TRADES, "2024-01-02", "binance")


def test_empty_source_still_writes_a_file_with_the_schema(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))
    written = lake.write_partition(TRADES, "2024-01-01", "deribit", [lake_file("a", [])])
    assert written.rows == 0
    assert written.first_timestamp is None
    table = lake.read(TRADES, "2024-01-01", "deribit")
    assert table.num_rows == 0
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_duplicate_file_names_are_refused(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))
    with pytest.raises(ValueError, match=r"two files named a\.parquet"):
        lake.write_partition(
            TRADES, "2024-01-01", "binance", [lake_file("a", [1]), lake_file("a", [2])]
        )
    assert lake.files(TRADES, "2024-01-01", "binance") == []


def test_describe_lake_lists_partitions(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path))
    lake.write_partition(TRADES, "2024-01-01", "binance", [lake_file("a", [1, 2])])
    lake.write_partition(
        ("instrument_definitions",), "2024-01-01", "binance", [lake_file("p", [1])]
    )
    rows = describe_lake(lake)
    assert [(r["asset"], r["date"], r["venue"], r["rows"]) for r in rows] == [
        ("instrument_definitions", "2024-01-01", "binance", 1),
        ("ticks/trades", "2024-01-01", "binance", 2),
    ]

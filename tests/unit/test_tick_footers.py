"""A stored tick file's rules checked from its footer, against pandera on the same rows."""

from datetime import UTC, datetime
from pathlib import Path

import pandera.errors
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from market_assets.schemas import pandera_schema
from market_assets.ticks.columns import TRADES
from market_assets.ticks.stored import (
    columns_to_read,
    footer_violations,
    single_value,
    value_violations,
)
from resources.lake import LakeFile, ParquetLake, nan_counts

KEY = "BINANCE:SPOT_PAIR:BTC-USDT"


def trades(rows: int = 6, **changes: list) -> pa.Table:
    moment = datetime(2024, 1, 2, tzinfo=UTC)
    columns = {
        "instrument_key": [KEY] * rows,
        "symbol": ["BTCUSDT"] * rows,
        "timestamp": [moment] * rows,
        "local_timestamp": [moment] * rows,
        "id": [str(i) for i in range(rows)],
        "side": ["buy", "sell"] * (rows // 2),
        "price": [42_000.5] * rows,
        "amount": [0.01] * rows,
    }
    columns.update(changes)
    return pa.table(
        {
            name: pa.array(values, TRADES.schema.field(name).type)
            if name in TRADES.schema.names
            else values
            for name, values in columns.items()
        }
    )


def stored(tmp_path: Path, table: pa.Table, *, by_the_lake: bool = True) -> list[str]:
    """The footer's and the read columns' problems of ``table`` stored by the lake's writer
    (NaN counts in the footer) or by plain pyarrow (none)."""
    if by_the_lake:
        lake = ParquetLake(str(tmp_path / "lake"))
        lake.write_partition(
            ("ticks", "trades"), "2024-01-02", "binance", [LakeFile("f", table.schema, [table])]
        )
        [path] = lake.files(("ticks", "trades"), "2024-01-02", "binance")
        file = pq.ParquetFile(path.path)
    else:
        pq.write_table(table, tmp_path / "plain.parquet", row_group_size=2)
        file = pq.ParquetFile(tmp_path / "plain.parquet")
    counts = nan_counts(file.metadata)
    assert (counts is not None) == by_the_lake
    problems = footer_violations(file.schema_arrow, file.metadata, counts, TRADES)
    wanted = columns_to_read(TRADES, counts)
    if not problems and wanted:
        problems = value_violations(file.read(columns=wanted), TRADES)
    return problems


def pandera_fails(table: pa.Table) -> bool:
    try:
        pandera_schema(TRADES).validate(table, lazy=True)
    except pandera.errors.SchemaErrors:
        return True
    return False


BREAKS = {
    "a price at zero": {"price": [42_000.5] * 5 + [0.0]},
    "a negative amount": {"amount": [0.01] * 5 + [-1.0]},
    "a NaN price": {"price": [42_000.5] * 5 + [float("nan")]},
    "a missing side": {"side": ["buy", "sell", None, "buy", "sell", "buy"]},
    "a stray side": {"side": ["buy", "sell", "buy", "hold", "sell", "buy"]},
}


@pytest.mark.parametrize("by_the_lake", [True, False], ids=["lake", "plain"])
@pytest.mark.parametrize("case", [None, *BREAKS], ids=["whole", *BREAKS])
def test_the_footer_catches_what_pandera_catches(
    tmp_path: Path, case: str | None, by_the_lake: bool
) -> None:
    table = trades(**(BREAKS[case] if case else {}))
    problems = stored(tmp_path, table, by_the_lake=by_the_lake)
    assert bool(problems) == pandera_fails(table) == (case is not None), problems


def test_a_column_of_another_type_or_place_is_named(tmp_path: Path) -> None:
    table = trades()
    retyped = table.set_column(6, "price", table.column("price").cast(pa.float32()))
    assert stored(tmp_path, retyped, by_the_lake=False) == ["price: type float, expected double"]
    shuffled = table.select([1, 0, *range(2, table.num_columns)])
    assert "are not the trades columns" in stored(tmp_path, shuffled, by_the_lake=False)[0]


def test_a_break_names_its_row_group(tmp_path: Path) -> None:
    problems = stored(tmp_path, trades(price=[1.0, 1.0, 1.0, 1.0, -2.0, 1.0]), by_the_lake=False)
    assert problems == ["price (row group 2): minimum -2.0 is not > 0"]


def test_one_instrument_per_file_is_read_from_the_footer(tmp_path: Path) -> None:
    pq.write_table(trades(), tmp_path / "one.parquet", row_group_size=2)
    two = trades(instrument_key=[KEY] * 5 + ["BINANCE:SPOT_PAIR:ETH-USDT"])
    pq.write_table(two, tmp_path / "two.parquet", row_group_size=2)
    assert single_value(pq.ParquetFile(tmp_path / "one.parquet").metadata, 0) == KEY
    assert single_value(pq.ParquetFile(tmp_path / "two.parquet").metadata, 0) is None

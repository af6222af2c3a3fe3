"""Parsing Tardis CSV.gz files to Arrow: types, order, identity, and bad files."""

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from market_assets.columns import TIMESTAMP
from market_assets.ticks.columns import TICK_DATASETS, TRADES
from market_assets.ticks.tardis_csv import TardisFormatError, csv_header, read_tardis_csv

HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"


def write_gzip(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", newline="") as handle:
        handle.write(text)
    return path


def trades_file(tmp_path: Path, rows: list[str], name: str = "trades.csv.gz") -> Path:
    return write_gzip(tmp_path / name, HEADER + "\n" + "".join(r + "\n" for r in rows))


def read_all(path: Path, keys: dict[str, str], **options) -> pa.Table:
    parsed = list(read_tardis_csv(path, TRADES, keys, **options))
    return pa.concat_tables([TRADES.schema.empty_table(), *parsed])


def test_trades_parse_to_typed_utc_columns_with_instrument_key(tmp_path: Path) -> None:
    path = trades_file(
        tmp_path,
        [
            "binance,BTCUSDT,1704067200000000,1704067200001500,101,buy,42000.5,0.25",
            "binance,BTCUSDT,1704067200000000,1704067200001500,102,sell,42000.4,1",
        ],
    )
    table = read_all(path, {"BTCUSDT": "BINANCE:SPOT_PAIR:BTC-USDT"})

    assert table.schema == TRADES.schema
    assert table.schema.field("timestamp").type == TIMESTAMP
    rows = table.to_pylist()
    assert rows[0]["instrument_key"] == "BINANCE:SPOT_PAIR:BTC-USDT"
    assert rows[0]["timestamp"].isoformat() == "2024-01-01T00:00:00+00:00"
    assert rows[0]["local_timestamp"].microsecond == 1500
    assert [r["id"] for r in rows] == ["101", "102"]
    assert [r["price"] for r in rows] == [42000.5, 42000.4]
    assert "exchange" not in table.column_names


def test_source_order_is_kept_even_when_exchange_time_goes_backwards(tmp_path: Path) -> None:
    path = trades_file(
        tmp_path,
        [
            "binance,BTCUSDT,1704067200000900,1704067200001000,1,buy,1,1",
            "binance,BTCUSDT,1704067200000100,1704067200001001,2,buy,2,1",
            "binance,BTCUSDT,1704067200000500,1704067200001002,3,buy,3,1",
        ],
    )
    ids = read_all(path, {"BTCUSDT": "K:SPOT_PAIR:A-B"}).column("id").to_pylist()
    assert ids == ["1", "2", "3"]


def test_empty_cells_are_nulls_not_empty_strings(tmp_path: Path) -> None:
    path = trades_file(tmp_path, ["deribit,BTC-PERPETUAL,1,2,,buy,42000,10"])
    table = read_all(path, {"BTC-PERPETUAL": "DERIBIT:PERPETUAL:BTC-USD"})
    assert table.column("id").to_pylist() == [None]


def test_grouped_files_keep_only_wanted_symbols_across_many_batches(tmp_path: Path) -> None:
    rows = [f"deribit,{'A' if i % 3 else 'B'},{i},{i},{i},buy,1,1" for i in range(30_000)]
    path = trades_file(tmp_path, rows)
    table = read_all(path, {"B": "DERIBIT:OPTION:B"}, chunk_bytes=64 << 10)
    assert table.num_rows == 10_000
    assert set(table.column("symbol").to_pylist()) == {"B"}
    assert set(table.column("instrument_key").to_pylist()) == {"DERIBIT:OPTION:B"}
    assert table.column("id").to_pylist()[:2] == ["0", "3"]


def test_empty_gzip_is_no_data(tmp_path: Path) -> None:
    path = write_gzip(tmp_path / "empty.csv.gz", "")
    assert list(read_tardis_csv(path, TRADES, {"BTCUSDT": "K"})) == []


def test_header_of_another_data_type_is_refused(tmp_path: Path) -> None:
    path = write_gzip(
        tmp_path / "quotes.csv.gz",
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n",
    )
    with pytest.raises(TardisFormatError, match="is not Tardis' trades header"):
        list(read_tardis_csv(path, TRADES, {}))


def test_unparseable_value_names_the_file(tmp_path: Path) -> None:
    path = trades_file(tmp_path, ["binance,BTCUSDT,not-a-time,1,1,buy,1,1"])
    with pytest.raises(TardisFormatError, match=r"trades\.csv\.gz: not a valid Tardis trades file"):
        list(read_tardis_csv(path, TRADES, {"BTCUSDT": "K"}))


def test_truncated_gzip_says_download_again(tmp_path: Path) -> None:
    rows = [f"binance,BTCUSDT,{i},{i},{i},buy,1.5,2.5" for i in range(50_000)]
    whole = trades_file(tmp_path, rows).read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TardisFormatError, match="corrupt or truncated"):
        list(read_tardis_csv(cut, TRADES, {"BTCUSDT": "K"}))


def test_layouts_match_the_local_tardis_headers() -> None:
    # Two independent statements of TARDIS.md's headers: the parser's and the generator's.
    from tardis_local.generate import HEADERS

    for data_type, dataset in TICK_DATASETS.items():
        assert tuple(csv_header(dataset)) == HEADERS[data_type], data_type


def test_reused_text_buffers_keep_every_row_exact(tmp_path: Path) -> None:
    """Pieces of 4 KiB (hundreds of them, so each buffer is written over many times while
    earlier pieces' rows are kept) and one line longer than a whole buffer: every row as the
    standard library's csv module reads the file."""
    import csv

    rows = [
        f"binance,BTCUSDT,{1704067200000000 + i},{1704067200000100 + i},{'x' * (i % 40)}{i},"
        f"{'buy' if i % 2 else 'sell'},{42000 + i / 8},{i / 1000}"
        for i in range(20_000)
    ]
    rows[777] = rows[777].replace("x" * (777 % 40), "y" * 100_000, 1)  # past a buffer's room
    path = trades_file(tmp_path, rows)
    table = read_all(path, {"BTCUSDT": "K:SPOT_PAIR:BTC-USDT"}, chunk_bytes=4 << 10)

    with gzip.open(path, "rt", newline="") as handle:
        expected = list(csv.DictReader(handle))
    assert table.num_rows == len(expected) == 20_000
    assert table.column("id").to_pylist() == [row["id"] for row in expected]
    assert table.column("price").to_pylist() == [float(row["price"]) for row in expected]
    assert [t.timestamp() * 1e6 for t in table.column("timestamp").to_pylist()[:3]] == [
        float(row["timestamp"]) for row in expected[:3]
    ]
    assert len(table.column("id")[777].as_py()) > 100_000

"""A mirror folder looks exactly like a finished tardis-dev download, plus metadata JSON."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import tardis_dev

from tardis_local import __main__ as cli
from tardis_local.generate import dataset_bytes
from tardis_local.mirror import default_file_name, write_mirror


def test_file_names_match_tardis_dev() -> None:
    for symbol in ("BTC-PERPETUAL", "XRP_USDC-29MAR24-0D55-C", "A:B/C"):
        moment = datetime(2024, 1, 2)
        expected = tardis_dev.default_file_name("deribit", "trades", moment, symbol, "csv")
        assert default_file_name("deribit", "trades", moment.date(), symbol) == expected


def test_mirror_writes_published_pairs_on_available_days(tmp_path: Path) -> None:
    days = [date(2024, 1, 4), date(2024, 1, 5)]
    written = write_mirror(
        tmp_path,
        days,
        exchanges=["deribit"],
        data_types=["options_chain", "trades"],
        symbols={"deribit": ["OPTIONS", "XRP_USDC-29MAR24-0D55-C", "BTC-PERPETUAL"]},
        empty_files={("deribit", "trades", "BTC-PERPETUAL", "2024-01-05")},
    )
    names = sorted(path.name for path in written if path.suffix == ".gz")
    assert names == [
        "deribit_options_chain_2024-01-04_OPTIONS.csv.gz",
        "deribit_options_chain_2024-01-05_OPTIONS.csv.gz",
        "deribit_trades_2024-01-04_BTC-PERPETUAL.csv.gz",
        "deribit_trades_2024-01-04_OPTIONS.csv.gz",
        "deribit_trades_2024-01-05_BTC-PERPETUAL.csv.gz",
        "deribit_trades_2024-01-05_OPTIONS.csv.gz",
        "deribit_trades_2024-01-05_XRP_USDC-29MAR24-0D55-C.csv.gz",  # listed 2024-01-05
    ]
    assert (tmp_path / names[2]).read_bytes() == dataset_bytes(
        "deribit", "trades", "BTC-PERPETUAL", date(2024, 1, 4)
    )
    assert gzip.decompress((tmp_path / names[4]).read_bytes()) == b""
    details = json.loads((tmp_path / "exchanges" / "deribit.json").read_text())
    assert details["datasets"]["exportedUntil"] == "2024-01-06T00:00:00.000Z"
    instruments = json.loads((tmp_path / "instruments" / "deribit.json").read_text())
    assert "BTC-PERPETUAL" in {item["id"] for item in instruments}


def test_mirror_skips_days_not_yet_exported(tmp_path: Path) -> None:
    written = write_mirror(
        tmp_path,
        [date(2024, 1, 4), date(2024, 1, 5)],
        exchanges=["binance"],
        data_types=["trades"],
        symbols={"binance": ["BTCUSDT"]},
        exported_until=datetime(2024, 1, 5, 6, tzinfo=UTC),
    )
    assert [path.name for path in written if path.suffix == ".gz"] == [
        "binance_trades_2024-01-04_BTCUSDT.csv.gz"
    ]


def test_cli_mirror(tmp_path: Path, capsys: object) -> None:
    code = cli.main(
        [
            "mirror", str(tmp_path), "--from", "2024-01-01", "--to", "2024-01-02",
            "--venue", "okex-futures", "--data-type", "trades",
        ]
    )  # fmt: skip
    assert code == 0
    assert sorted(path.name for path in tmp_path.glob("*.gz")) == [
        "okex-futures_trades_2024-01-01_BTC-USD-240329.csv.gz",
        "okex-futures_trades_2024-01-01_FUTURES.csv.gz",
    ]

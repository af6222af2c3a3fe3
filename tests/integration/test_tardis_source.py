"""The Tardis source resource on its own: mirror mode, URLs, gzip verification."""

import gzip
import hashlib
from datetime import date
from pathlib import Path

import pytest

from resources.tardis import TardisError, TardisSource, dataset_url, inspect
from tardis_local.mirror import write_mirror


def test_urls_match_what_tardis_dev_requests() -> None:
    url = dataset_url("https://x/v1", "okex", "trades", "btc-usdt/swap:1", date(2024, 2, 3))
    assert url == "https://x/v1/okex/trades/2024/02/03/BTC-USDT-SWAP-1.csv.gz"


def test_mirror_hands_out_files_with_provenance(tmp_path: Path) -> None:
    write_mirror(tmp_path, [date(2024, 1, 2)], exchanges=["binance"], data_types=["trades"])
    tardis = TardisSource(mirror=str(tmp_path))

    assert tardis.exchange_details("binance")["id"] == "binance"
    assert {i["id"] for i in tardis.instruments("binance")} >= {"BTCUSDT", "ETHUSDT"}
    with tardis.fetch("binance", "trades", "BTCUSDT", date(2024, 1, 2)) as source:
        assert source.path == tmp_path / "binance_trades_2024-01-02_BTCUSDT.csv.gz"
        assert len(source.sha256) == 64
        assert source.size_bytes == source.path.stat().st_size
        assert not source.empty
    assert source.path.exists(), "a mirror's own files are never removed"


def test_mirror_without_the_file_says_which_and_how_to_fix(tmp_path: Path) -> None:
    tardis = TardisSource(mirror=str(tmp_path))
    with (
        pytest.raises(TardisError, match="mirror has no trades file for BTCUSDT on binance"),
        tardis.fetch("binance", "trades", "BTCUSDT", date(2024, 1, 2)),
    ):
        pass
    assert tardis.instruments("binance") is None


def test_one_read_finds_cut_bodies_empty_files_and_the_hash(tmp_path: Path) -> None:
    whole = gzip.compress(b"exchange,symbol\n" * 50_000)
    member_two = gzip.compress(b"more\n")
    empty = gzip.compress(b"")
    cases = {  # name: (body, whole, empty)
        "whole.gz": (whole, True, False),
        "two-members.gz": (whole + member_two, True, False),
        "empty.gz": (empty, True, True),
        "empty-then-rows.gz": (empty + member_two, True, False),
        "cut.gz": (whole[: len(whole) // 2], False, False),
        "cut-second.gz": (whole + member_two[:-3], False, False),
        "nothing.gz": (b"", False, True),
    }
    for name, (body, expected_whole, expected_empty) in cases.items():
        path = tmp_path / name
        path.write_bytes(body)
        found = inspect(path)
        assert (found.whole, found.empty) == (expected_whole, expected_empty), name
        assert found.sha256 == hashlib.sha256(body).hexdigest(), name
        assert found.size_bytes == len(body), name


def test_unreachable_metadata_endpoint_names_the_variable() -> None:
    tardis = TardisSource(api_endpoint="http://127.0.0.1:9/v1", timeout_seconds=2)
    with pytest.raises(TardisError, match=r"did not answer.*TARDIS_API_ENDPOINT") as raised:
        tardis.exchange_details("binance")
    assert raised.value.retryable

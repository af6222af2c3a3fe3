"""The local server through the real tardis-dev client: downloads, errors, faults and metadata."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import urllib.error
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tardis_dev

from tardis_local.generate import dataset_bytes
from tardis_local.server import TardisServer

KEY = "test-key"


@pytest.fixture
def server() -> Iterator[TardisServer]:
    with TardisServer(
        exported_until=datetime(2024, 2, 1, tzinfo=UTC),
        empty_files={("deribit", "trades", "ETH-PERPETUAL", "2024-01-05")},
    ) as running:
        yield running


def _download(server: TardisServer, folder: Path, **overrides: object) -> None:
    arguments: dict[str, object] = {
        "exchange": "deribit",
        "data_types": ["trades"],
        "symbols": ["BTC-PERPETUAL"],
        "from_date": "2024-01-02",
        "to_date": "2024-01-03",
        "api_key": KEY,
        "download_dir": str(folder),
        "endpoint": server.datasets_endpoint,
        "timeout": 5,
    }
    arguments.update(overrides)
    tardis_dev.download_datasets(**arguments)  # type: ignore[arg-type]


def test_download_with_key_matches_the_generator(server: TardisServer, tmp_path: Path) -> None:
    _download(server, tmp_path, symbols=["BTC-PERPETUAL", "OPTIONS"], data_types=["trades"],
              to_date="2024-01-04")  # fmt: skip
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "deribit_trades_2024-01-02_BTC-PERPETUAL.csv.gz",
        "deribit_trades_2024-01-02_OPTIONS.csv.gz",
        "deribit_trades_2024-01-03_BTC-PERPETUAL.csv.gz",
        "deribit_trades_2024-01-03_OPTIONS.csv.gz",
    ]
    saved = (tmp_path / "deribit_trades_2024-01-02_BTC-PERPETUAL.csv.gz").read_bytes()
    assert saved == dataset_bytes("deribit", "trades", "BTC-PERPETUAL", date(2024, 1, 2))
    assert all(status == 200 for _, _, status in server.requests)


def test_empty_file_is_served_as_empty_gzip(server: TardisServer, tmp_path: Path) -> None:
    _download(
        server, tmp_path, symbols=["ETH-PERPETUAL"], from_date="2024-01-05", to_date="2024-01-06"
    )
    assert (
        gzip.decompress((tmp_path / "deribit_trades_2024-01-05_ETH-PERPETUAL.csv.gz").read_bytes())
        == b""
    )


def test_without_key_only_first_day_of_month_is_free(server: TardisServer, tmp_path: Path) -> None:
    _download(server, tmp_path, api_key="", from_date="2024-01-01", to_date="2024-01-02")
    assert (tmp_path / "deribit_trades_2024-01-01_BTC-PERPETUAL.csv.gz").exists()
    with pytest.raises(urllib.error.HTTPError) as caught:
        _download(server, tmp_path, api_key="")
    assert caught.value.code == 401
    assert "only first day of each month is available without API key" in caught.value.msg
    with pytest.raises(urllib.error.HTTPError) as wrong_key:
        _download(
            server, tmp_path / "other", api_key="bad", from_date="2024-01-01", to_date="2024-01-02"
        )
    assert wrong_key.value.code == 401


def test_unknown_symbol_and_unexported_day_are_404(server: TardisServer, tmp_path: Path) -> None:
    with pytest.raises(urllib.error.HTTPError) as unknown:
        _download(server, tmp_path, symbols=["DOGE-PERPETUAL"])
    assert unknown.value.code == 404 and "DOGE-PERPETUAL" in unknown.value.msg
    with pytest.raises(urllib.error.HTTPError) as future:
        _download(server, tmp_path, from_date="2024-02-01", to_date="2024-02-02")
    assert future.value.code == 404 and "exported until 2024-02-01" in future.value.msg
    with pytest.raises(urllib.error.HTTPError) as expired:
        _download(
            server, tmp_path, symbols=["BTC-29MAR24"], from_date="2023-01-02", to_date="2023-01-03"
        )
    assert expired.value.code == 404 and "no data on 2023-01-02" in expired.value.msg


def test_429_waits_retry_after_and_recovers(server: TardisServer, tmp_path: Path) -> None:
    server.inject("429", path_contains="BTC-PERPETUAL", retry_after=1)
    started = time.monotonic()
    _download(server, tmp_path)
    assert 1 <= time.monotonic() - started < 4
    statuses = [(path, status) for _, path, status in server.requests]
    assert statuses[0][1] == 429
    assert statuses[1] == (
        "/datasets/v1/deribit/trades/2024/01/02/BTC-PERPETUAL.csv.gz?retryAttempt=1",
        200,
    )


def test_truncate_leaves_a_broken_file(server: TardisServer, tmp_path: Path) -> None:
    server.inject("truncate")
    _download(server, tmp_path)
    kept = (tmp_path / "deribit_trades_2024-01-02_BTC-PERPETUAL.csv.gz").read_bytes()
    assert (
        0 < len(kept) < len(dataset_bytes("deribit", "trades", "BTC-PERPETUAL", date(2024, 1, 2)))
    )
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(kept)


def test_truncate_with_length_is_retried(server: TardisServer, tmp_path: Path) -> None:
    server.inject("truncate_with_length")
    _download(server, tmp_path)
    kept = (tmp_path / "deribit_trades_2024-01-02_BTC-PERPETUAL.csv.gz").read_bytes()
    assert gzip.decompress(kept)
    assert len(server.requests) == 2


def test_stall_trips_the_silence_timeout_then_recovers(
    server: TardisServer, tmp_path: Path
) -> None:
    server.inject("stall", stall_seconds=30)
    started = time.monotonic()
    _download(server, tmp_path, timeout=1)
    assert time.monotonic() - started < 10
    assert [status for _, _, status in server.requests] == [0, 200]
    assert gzip.decompress(
        (tmp_path / "deribit_trades_2024-01-02_BTC-PERPETUAL.csv.gz").read_bytes()
    )


def test_close_is_fast_even_with_a_stalled_request(tmp_path: Path) -> None:
    server = TardisServer().start()
    server.inject("stall", stall_seconds=60)

    def stalled_client() -> None:
        with contextlib.suppress(Exception):
            _download(server, tmp_path, timeout=30)

    threading.Thread(target=stalled_client, daemon=True).start()
    while not server.requests:
        time.sleep(0.01)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2


def test_exchange_details_through_client(server: TardisServer) -> None:
    details = tardis_dev.get_exchange_details("deribit", endpoint=server.api_endpoint)
    assert details["datasets"]["exportedUntil"] == "2024-02-01T00:00:00.000Z"
    assert "OPTIONS" in {entry["id"] for entry in details["datasets"]["symbols"]}
    with pytest.raises(urllib.error.HTTPError) as caught:
        tardis_dev.get_exchange_details("ftx", endpoint=server.api_endpoint)
    assert caught.value.code == 404


def test_instrument_info_through_client(server: TardisServer) -> None:
    options = tardis_dev.get_instrument_info(
        "deribit",
        filter={"type": "option", "baseCurrency": ["BTC", "ETH"]},
        endpoint=server.api_endpoint,
        api_key=KEY,
    )
    assert isinstance(options, list)
    assert {item["id"] for item in options} == {
        "BTC-29MAR24-50000-C", "BTC-29MAR24-50000-P", "BTC-29MAR24-60000-C", "ETH-29MAR24-3000-C",
    }  # fmt: skip
    single = tardis_dev.get_instrument_info(
        "binance-futures", symbol="BTCUSDT", endpoint=server.api_endpoint, api_key=KEY
    )
    assert isinstance(single, dict) and single["changes"][0]["until"] == "2023-06-01T00:00:00.000Z"
    several = tardis_dev.get_instrument_info(["okex", "okex-swap"], endpoint=server.api_endpoint)
    assert {item["exchange"] for item in several} == {"okex", "okex-swap"}  # type: ignore[index]


def test_instruments_can_require_a_key() -> None:
    with TardisServer(instruments_require_key=True) as strict:
        with pytest.raises(urllib.error.HTTPError) as caught:
            tardis_dev.get_instrument_info("deribit", endpoint=strict.api_endpoint)
        assert caught.value.code == 401
        assert tardis_dev.get_instrument_info("deribit", endpoint=strict.api_endpoint, api_key=KEY)

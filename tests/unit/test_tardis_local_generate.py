"""Generated datasets: exact Tardis headers, determinism and the realism the pipeline relies on."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tardis_local import catalog, generate
from tardis_local.generate import HEADERS, US_PER_DAY, dataset_bytes, write_dataset

DAY = date(2024, 1, 10)
EXPECTED_HEADERS = {
    "trades": "exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
    "quotes": "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount",
    "book_ticker": "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,"
    "bid_amount",
    "derivative_ticker": "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
    "predicted_funding_rate,open_interest,last_price,index_price,mark_price",
    "liquidations": "exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
    "options_chain": "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,"
    "open_interest,last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,"
    "mark_iv,underlying_index,underlying_price,delta,gamma,vega,theta,rho",
    "incremental_book_L2": "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,"
    "amount",
}


def _day_us(day: date) -> int:
    return (day - date(1970, 1, 1)).days * US_PER_DAY


def _read(data: bytes) -> tuple[str, list[dict[str, str]]]:
    text = gzip.decompress(data).decode()
    header = text.split("\n", 1)[0]
    return header, list(csv.DictReader(io.StringIO(text)))


def _symbol_for(data_type: str) -> tuple[str, str]:
    if data_type == "options_chain":
        return "deribit", "OPTIONS"
    return "deribit", "BTC-PERPETUAL"


@pytest.mark.parametrize("data_type", sorted(HEADERS))
def test_header_is_exactly_tardis(data_type: str) -> None:
    exchange, symbol = _symbol_for(data_type)
    header, rows = _read(dataset_bytes(exchange, data_type, symbol, DAY))
    if data_type.startswith("book_snapshot_"):
        levels = int(data_type.rsplit("_", 1)[1])
        interleaved = [
            f"{side}[{level}].{field}"
            for level in range(levels)
            for side in ("asks", "bids")
            for field in ("price", "amount")
        ]
        assert header == ",".join(
            ["exchange", "symbol", "timestamp", "local_timestamp", *interleaved]
        )
    else:
        assert header == EXPECTED_HEADERS[data_type]
    assert rows and all(row["exchange"] == exchange for row in rows)
    assert b'"' not in gzip.decompress(dataset_bytes(exchange, data_type, symbol, DAY))


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = dataset_bytes("binance", "trades", "BTCUSDT", DAY)
    assert first == dataset_bytes("binance", "trades", "BTCUSDT", DAY)
    write_dataset(tmp_path / "a.csv.gz", "binance", "trades", "BTCUSDT", DAY)
    assert (tmp_path / "a.csv.gz").read_bytes() == first
    assert first != dataset_bytes("binance", "trades", "BTCUSDT", DAY + timedelta(days=1))
    assert first != dataset_bytes("binance", "trades", "ETHUSDT", DAY)


def test_trades_prices_amounts_sides_and_ids_are_realistic() -> None:
    _, rows = _read(dataset_bytes("binance-futures", "trades", "BTCUSDT", DAY))
    prices = [Decimal(row["price"]) for row in rows]
    assert all(Decimal(30_000) < price < Decimal(60_000) for price in prices)
    assert all(price % Decimal("0.1") == 0 for price in prices)  # tick in force in 2024
    assert all(
        Decimal(row["amount"]) > 0 and Decimal(row["amount"]) % Decimal("0.001") == 0
        for row in rows
    )
    assert {row["side"] for row in rows} == {"buy", "sell"}
    # Consecutive trades move little: a walk, not noise.
    moves = [abs(b - a) / a for a, b in itertools.pairwise(prices)]
    assert max(moves) < Decimal("0.01")
    # Ids rise in exchange order.
    by_exchange_time = sorted(rows, key=lambda row: (int(row["timestamp"]), int(row["id"])))
    ids = [int(row["id"]) for row in by_exchange_time]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_changes_history_sets_the_tick_of_old_days() -> None:
    _, rows = _read(dataset_bytes("binance-futures", "trades", "BTCUSDT", date(2023, 1, 10)))
    assert any(Decimal(row["price"]) % Decimal("0.1") != 0 for row in rows)
    assert all(Decimal(row["price"]) % Decimal("0.01") == 0 for row in rows)


def test_venue_quirks_uuid_ids_unknown_sides_and_small_prices() -> None:
    _, bybit = _read(dataset_bytes("bybit", "trades", "BTCUSDT", DAY))
    assert all(len(row["id"]) == 36 and row["id"].count("-") == 4 for row in bybit)
    _, okex = _read(dataset_bytes("okex", "trades", "BTC-USDT", DAY, rows_per_day=20_000))
    sides = [row["side"] for row in okex]
    assert 0 < sides.count("unknown") < len(sides) * 0.02
    _, pepe = _read(dataset_bytes("binance-futures", "trades", "1000PEPEUSDT", DAY))
    assert all("e" not in row["price"] and 0 < float(row["price"]) < 0.01 for row in pepe)


def test_bursts_out_of_order_timestamps_and_latency() -> None:
    _, rows = _read(dataset_bytes("binance-futures", "trades", "BTCUSDT", DAY, rows_per_day=20_000))
    ts = [int(row["timestamp"]) for row in rows]
    local = [int(row["local_timestamp"]) for row in rows]
    assert local == sorted(local)
    latency = [lo - t for t, lo in zip(ts, local, strict=True)]
    assert min(latency) >= 0 and max(latency) < 100_000  # µs: a few ms, never negative
    bursts = sum(
        1
        for a, b in itertools.pairwise(rows)
        if a["timestamp"] == b["timestamp"] and a["local_timestamp"] == b["local_timestamp"]
    )
    assert bursts > 100
    steps_back = sum(1 for a, b in itertools.pairwise(ts) if b < a)
    assert 0 < steps_back < len(ts) * 0.05


@pytest.mark.parametrize("chunk_rows", [generate.CHUNK_ROWS, 700])
def test_files_are_cut_by_local_timestamp_and_each_event_lands_once(
    chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small CHUNK_ROWS exercises the multi-chunk path (how 5M-row days are built) cheaply.
    monkeypatch.setattr(generate, "CHUNK_ROWS", chunk_rows)
    rows_per_day = 2_000
    files = {
        day: _read(dataset_bytes("binance", "trades", "ETHUSDT", day, rows_per_day=rows_per_day))[1]
        for day in (DAY, DAY + timedelta(days=1))
    }
    for day, rows in files.items():
        assert all(
            _day_us(day) <= int(row["local_timestamp"]) < _day_us(day) + US_PER_DAY for row in rows
        )
        assert [int(row["local_timestamp"]) for row in rows] == sorted(
            int(r["local_timestamp"]) for r in rows
        )
    union = files[DAY] + files[DAY + timedelta(days=1)]
    ids = [row["id"] for row in union]
    assert len(ids) == len(set(ids))
    exchange_day = [
        row for row in union if _day_us(DAY) <= int(row["timestamp"]) < _day_us(DAY) + US_PER_DAY
    ]
    assert len(exchange_day) == rows_per_day
    spill = [
        row
        for row in files[DAY + timedelta(days=1)]
        if int(row["timestamp"]) < _day_us(DAY) + US_PER_DAY
    ]
    assert 0 < len(spill) < 10


def test_empty_file_is_an_empty_gzip(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv.gz"
    write_dataset(path, "deribit", "trades", "BTC-PERPETUAL", DAY, empty=True)
    assert gzip.decompress(path.read_bytes()) == b""
    assert path.stat().st_size > 0


@pytest.mark.parametrize("data_type", ["book_snapshot_5", "book_snapshot_25"])
def test_book_levels_are_ordered_and_sides_can_be_thin(data_type: str) -> None:
    levels = int(data_type.rsplit("_", 1)[1])
    _, rows = _read(dataset_bytes("binance", data_type, "BTCUSDT", DAY))
    thin = 0
    for row in rows:
        asks = [Decimal(row[f"asks[{i}].price"]) for i in range(levels) if row[f"asks[{i}].price"]]
        bids = [Decimal(row[f"bids[{i}].price"]) for i in range(levels) if row[f"bids[{i}].price"]]
        assert asks == sorted(asks) and len(set(asks)) == len(asks)
        assert bids == sorted(bids, reverse=True) and len(set(bids)) == len(bids)
        assert asks[0] > bids[0]
        for side in ("asks", "bids"):
            present = [bool(row[f"{side}[{i}].price"]) for i in range(levels)]
            assert present == sorted(present, reverse=True)  # gaps only at the deep end
            assert all(bool(row[f"{side}[{i}].amount"]) == present[i] for i in range(levels))
        thin += len(asks) < levels or len(bids) < levels
    assert 0 < thin < len(rows) * 0.1


def test_quotes_have_ask_above_bid() -> None:
    _, rows = _read(dataset_bytes("okex-swap", "quotes", "BTC-USDT-SWAP", DAY))
    assert all(Decimal(row["ask_price"]) > Decimal(row["bid_price"]) > 0 for row in rows)


def test_derivative_ticker_is_sparse_with_funding_timestamps() -> None:
    _, rows = _read(dataset_bytes("binance-futures", "derivative_ticker", "BTCUSDT", DAY))
    assert all(row["predicted_funding_rate"] == "" for row in rows)
    assert any(row["open_interest"] == "" for row in rows)
    eight_hours = 8 * 3600 * 1_000_000
    for row in rows:
        funding = int(row["funding_timestamp"])
        assert funding % eight_hours == 0 and 0 < funding - int(row["timestamp"]) <= eight_hours
    _, future = _read(dataset_bytes("deribit", "derivative_ticker", "BTC-29MAR24", DAY))
    assert all(row["funding_rate"] == "" and row["funding_timestamp"] == "" for row in future)


def test_liquidations_have_sides_and_prices() -> None:
    _, rows = _read(dataset_bytes("bybit", "liquidations", "BTCUSDT", DAY, rows_per_day=200))
    assert {row["side"] for row in rows} == {"buy", "sell"}
    assert all(float(row["price"]) > 0 and float(row["amount"]) > 0 for row in rows)


def test_options_chain_rows_carry_each_options_own_symbol() -> None:
    _, rows = _read(dataset_bytes("deribit", "options_chain", "OPTIONS", DAY))
    alive = {
        item["datasetId"]
        for item in catalog.grouped_members("deribit", "OPTIONS")
        if catalog.is_available("deribit", item["id"], DAY)
    }
    assert {row["symbol"] for row in rows} == alive
    assert "XRP_USDC-29MAR24-0D55-C" in alive
    assert [int(r["local_timestamp"]) for r in rows] == sorted(
        int(r["local_timestamp"]) for r in rows
    )
    for row in rows:
        assert row["type"] == ("call" if row["symbol"].endswith("-C") else "put")
        assert int(row["expiration"]) == _day_us(date(2024, 3, 29)) + 8 * 3600 * 1_000_000
        assert 20 < float(row["mark_iv"]) < 200  # percent
        if row["symbol"].startswith("BTC-"):
            assert row["underlying_index"] == "BTC-29MAR24"
            assert 0 < float(row["mark_price"]) < 1  # in BTC
            assert 20_000 < float(row["underlying_price"]) < 80_000
        if row["symbol"].startswith("ETH-"):
            assert row["underlying_index"] == "SYN.ETH-29MAR24"
        assert -1 <= float(row["delta"]) <= 1
    # Before its listing the XRP option is absent.
    _, earlier = _read(dataset_bytes("deribit", "options_chain", "OPTIONS", date(2024, 1, 2)))
    assert "XRP_USDC-29MAR24-0D55-C" not in {row["symbol"] for row in earlier}


def test_incremental_book_starts_with_a_snapshot() -> None:
    _, rows = _read(dataset_bytes("deribit", "incremental_book_L2", "BTC-PERPETUAL", DAY))
    snapshot = [row for row in rows if row["is_snapshot"] == "true"]
    assert rows[: len(snapshot)] == snapshot and len(snapshot) == 50
    assert {row["side"] for row in rows} == {"bid", "ask"}
    assert any(row["amount"] == "0" for row in rows)  # deletions


def test_mid_day_listing_has_no_rows_before_it() -> None:
    _, rows = _read(dataset_bytes("binance", "trades", "SOLUSDT", date(2020, 8, 11)))
    listing = _day_us(date(2020, 8, 11)) + 6 * 3600 * 1_000_000
    assert rows and all(int(row["timestamp"]) >= listing for row in rows)


def test_unknown_or_unavailable_requests_raise() -> None:
    with pytest.raises(ValueError, match="unknown symbol"):
        dataset_bytes("binance", "trades", "NOPEUSDT", DAY)
    with pytest.raises(ValueError, match="no options_chain"):
        dataset_bytes("deribit", "options_chain", "BTC-29MAR24-50000-C", DAY)
    with pytest.raises(ValueError, match="not available"):
        dataset_bytes("binance-futures", "trades", "BTCUSDT_240329", date(2024, 4, 2))

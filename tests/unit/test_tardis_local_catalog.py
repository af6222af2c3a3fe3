"""The fake catalog answers in the shapes of Tardis' exchange-details and instruments APIs."""

from __future__ import annotations

import copy
import gzip
import io
from datetime import UTC, date, datetime

import pyarrow.csv as pacsv
import pytest

from tardis_local import catalog
from tardis_local.generate import dataset_bytes

HORIZON = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("exchange", catalog.VENUES)
def test_exchange_details_shape(exchange: str) -> None:
    details = catalog.exchange_details(exchange, HORIZON)
    assert details["id"] == exchange and details["name"]
    assert details["availableSince"].endswith(".000Z")
    assert details["datasets"]["exportedUntil"] == "2024-02-01T00:00:00.000Z"
    assert details["datasets"]["exportedFrom"] == details["availableSince"]
    report = details["incidentReports"][0]
    assert set(report) == {"from", "to", "status", "details"}
    for entry in details["availableSymbols"]:
        assert set(entry) <= {"id", "type", "availableSince", "availableTo"}
    symbols = {entry["id"]: entry for entry in details["datasets"]["symbols"]}
    for entry in symbols.values():
        assert entry["dataTypes"] == list(catalog.symbol_data_types(exchange, entry["id"]))
    grouped = [entry for entry in symbols.values() if entry["id"] in catalog.GROUPED_SYMBOLS]
    assert grouped and all(
        entry["type"].endswith("s") or entry["type"] == "spot" for entry in grouped
    )


def test_deribit_options_chain_only_under_options() -> None:
    symbols = {
        entry["id"]: entry
        for entry in catalog.exchange_details("deribit", HORIZON)["datasets"]["symbols"]
    }
    assert symbols["OPTIONS"]["type"] == "options"
    assert "options_chain" in symbols["OPTIONS"]["dataTypes"]
    assert all(
        "options_chain" not in entry["dataTypes"]
        for name, entry in symbols.items()
        if name != "OPTIONS"
    )
    assert symbols["BTC-29MAR24-50000-C"]["availableTo"] == "2024-03-29T08:00:00.000Z"


def test_symbols_listed_after_the_horizon_are_hidden() -> None:
    early = catalog.exchange_details("deribit", datetime(2024, 1, 3, tzinfo=UTC))
    assert "XRP_USDC-29MAR24-0D55-C" not in {entry["id"] for entry in early["availableSymbols"]}


def test_instruments_fields_strings_and_changes() -> None:
    okex = catalog.instruments("okex")
    assert isinstance(okex[0]["priceIncrement"], str)
    btc = catalog.instrument("binance-futures", "BTCUSDT")
    for field in ("id", "datasetId", "exchange", "baseCurrency", "quoteCurrency", "type",
                  "contractType", "active", "availableSince", "priceIncrement", "amountIncrement",
                  "minTradeAmount", "makerFee", "takerFee", "inverse", "contractMultiplier",
                  "quanto", "settlementCurrency", "changes"):  # fmt: skip
        assert field in btc
    assert (
        catalog.instrument_as_of("binance-futures", "BTCUSDT", date(2023, 5, 31))["priceIncrement"]
        == 0.01
    )
    assert (
        catalog.instrument_as_of("binance-futures", "BTCUSDT", date(2023, 6, 1))["priceIncrement"]
        == 0.1
    )
    option = catalog.instrument("deribit", "XRP_USDC-29MAR24-0d55-C")
    assert option["strikePrice"] == 0.55 and option["optionType"] == "call"
    assert option["datasetId"] == "XRP_USDC-29MAR24-0D55-C"


def test_availability_by_day() -> None:
    assert catalog.is_available("binance", "SOLUSDT", date(2020, 8, 11))
    assert not catalog.is_available("binance", "SOLUSDT", date(2020, 8, 10))
    assert catalog.is_available("binance-futures", "BTCUSDT_240329", date(2024, 3, 29))
    assert not catalog.is_available("binance-futures", "BTCUSDT_240329", date(2024, 3, 30))


def test_unknown_names_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown exchange"):
        catalog.instruments("ftx")
    with pytest.raises(ValueError, match="unknown symbol"):
        catalog.symbol_data_types("binance", "OPTIONS")


@pytest.mark.parametrize("exchange", catalog.VENUES)
def test_instrument_records_agree_with_themselves(exchange: str) -> None:
    # The records are hand-written JSON: fields Tardis derives from others must match them.
    for item in catalog.instruments(exchange):
        assert item["exchange"] == exchange
        assert item["datasetId"] == item["id"].replace(":", "-").replace("/", "-").upper()
        assert item["active"] == ("expiry" not in item)
        assert item.get("availableTo") == item.get("expiry")
        assert item["minTradeAmount"] == item["amountIncrement"]
        if item["type"] == "spot":
            assert item["contractType"] == "spot" and "quanto" not in item
        elif item["type"] == "option":
            assert item["contractType"] == f"{item['optionType']}_option"
        else:
            kind = "inverse" if item["inverse"] else "linear"
            assert item["contractType"] == f"{kind}_{item['type']}"


def test_a_busy_venue_lists_liquid_perpetuals_that_generate_like_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        catalog._INSTRUMENTS,
        "binance-futures",
        copy.deepcopy(catalog._INSTRUMENTS["binance-futures"]),
    )
    listed = catalog.list_liquid_perpetuals("binance-futures", 40)

    assert len(listed) == len(set(listed)) == 40
    assert listed[:3] == ["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"]  # its own first
    assert catalog.list_liquid_perpetuals("binance-futures", 40) == listed  # idempotent
    sui = catalog.instrument("binance-futures", "SUIUSDT")
    assert (sui["type"], sui["contractType"], sui["baseCurrency"]) == (
        "perpetual",
        "linear_perpetual",
        "SUI",
    )
    details = catalog.exchange_details("binance-futures", datetime(2024, 3, 10, tzinfo=UTC))
    assert {"SUIUSDT", "CRVUSDT"} <= {s["id"] for s in details["datasets"]["symbols"]}
    body = dataset_bytes(
        "binance-futures", "trades", "SUIUSDT", date(2024, 3, 1), rows_per_day=5_000
    )
    trades = pacsv.read_csv(io.BytesIO(gzip.decompress(body))).to_pandas()
    assert set(trades["symbol"]) == {"SUIUSDT"}
    # Near SUI's reference price, on its 0.0001 tick and 0.1 lot.
    assert 1.0 < trades["price"].median() < 2.2
    assert ((trades["price"] * 10_000).round() - trades["price"] * 10_000).abs().max() < 1e-6
    assert ((trades["amount"] * 10).round() - trades["amount"] * 10).abs().max() < 1e-6
    with pytest.raises(ValueError, match="can list 40 linear USDT perpetuals, not 41"):
        catalog.list_liquid_perpetuals("binance-futures", 41)

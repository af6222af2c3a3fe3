"""Canonical instrument keys and the definitions of one (venue, day)."""

from datetime import UTC, date, datetime

import pytest

from market_assets.instruments.keys import (
    Terms,
    definitions_for_day,
    instrument_key,
    terms_from_instrument,
    terms_from_symbol,
)


@pytest.mark.parametrize(
    ("venue", "kind", "symbol", "key"),
    [
        ("binance", "spot", "BTCUSDT", "BINANCE:SPOT_PAIR:BTC-USDT"),
        ("binance-futures", "perpetual", "1000PEPEUSDT", "BINANCE-FUTURES:PERPETUAL:1000PEPE-USDT"),
        ("binance-futures", "future", "BTCUSDT_240329", "BINANCE-FUTURES:FUTURE:BTC-USDT-240329"),
        ("deribit", "perpetual", "BTC-PERPETUAL", "DERIBIT:PERPETUAL:BTC-USD"),
        ("deribit", "spot", "BTC_USDC", "DERIBIT:SPOT_PAIR:BTC-USDC"),
        ("deribit", "future", "BTC-29MAR24", "DERIBIT:FUTURE:BTC-USD-240329"),
        ("deribit", "option", "BTC-29MAR24-50000-C", "DERIBIT:OPTION:BTC-USD-240329-50000-CALL"),
        ("deribit", "option", "XRP_USDC-29MAR24-0d55-P", "DERIBIT:OPTION:XRP-USDC-240329-0.55-PUT"),
        ("okex-swap", "perpetual", "BTC-USDT-SWAP", "OKEX-SWAP:PERPETUAL:BTC-USDT"),
        ("okex-futures", "future", "BTC-USD-240329", "OKEX-FUTURES:FUTURE:BTC-USD-240329"),
    ],
)
def test_keys_from_symbol_names(venue: str, kind: str, symbol: str, key: str) -> None:
    assert instrument_key(venue, kind, symbol, terms_from_symbol(venue, kind, symbol)) == key


def test_metadata_wins_and_numbers_may_be_strings() -> None:
    terms = terms_from_instrument(
        {
            "baseCurrency": "btc",
            "quoteCurrency": "usd",
            "expiry": "2024-03-29T08:00:00.000Z",
            "strikePrice": "65000",
            "optionType": "put",
        }
    )
    assert terms == Terms("BTC", "USD", datetime(2024, 3, 29, 8, tzinfo=UTC), 65000.0, "PUT")
    key = instrument_key("deribit", "option", "BTC-29MAR24-65000-P", terms)
    assert key == "DERIBIT:OPTION:BTC-USD-240329-65000-PUT"


def test_unknown_quote_falls_back_to_the_symbol() -> None:
    terms = terms_from_symbol("binance", "spot", "WEIRDXYZ")
    assert terms.base is None
    assert instrument_key("binance", "spot", "WEIRDXYZ", terms) == "BINANCE:SPOT_PAIR:WEIRDXYZ"


def test_definitions_keep_instruments_alive_that_day_and_skip_grouped_symbols() -> None:
    details = {
        "datasets": {
            "symbols": [
                {
                    "id": "BTCUSDT",
                    "type": "spot",
                    "availableSince": "2019-03-30T00:00:00.000Z",
                    "dataTypes": ["trades"],
                },
                # Listed during the day: it belongs to that day.
                {
                    "id": "SOLUSDT",
                    "type": "spot",
                    "availableSince": "2024-01-02T06:00:00.000Z",
                    "dataTypes": ["trades"],
                },
                {
                    "id": "LUNAUSDT",
                    "type": "spot",
                    "availableSince": "2019-03-30T00:00:00.000Z",
                    "availableTo": "2024-01-02T00:00:00.000Z",
                    "dataTypes": ["trades"],
                },
                {"id": "SPOT", "type": "spot_grouped", "dataTypes": ["trades"]},
            ]
        }
    }
    instruments = [{"id": "BTCUSDT", "baseCurrency": "BTC", "quoteCurrency": "USDT"}]

    table = definitions_for_day("binance", date(2024, 1, 2), details, instruments)

    rows = {r["symbol"]: r for r in table.to_pylist()}
    assert set(rows) == {"BTCUSDT", "SOLUSDT"}
    assert rows["BTCUSDT"]["metadata_source"] == "instruments"
    assert rows["SOLUSDT"]["metadata_source"] == "symbol"
    assert rows["SOLUSDT"]["instrument_key"] == "BINANCE:SPOT_PAIR:SOL-USDT"
    assert rows["BTCUSDT"]["available_since"].tzinfo is not None
    assert rows["BTCUSDT"]["data_types"] == ["trades"]

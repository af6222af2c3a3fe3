"""Canonical instrument keys and complete definitions of one (venue, day)."""

from datetime import UTC, date, datetime

import pytest

from market_assets.instruments.definitions import as_of, definitions_for_day
from market_assets.instruments.keys import Terms, instrument_key, terms_from_symbol


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
        # A month code gives no expiry day: the key keeps the symbol rather than guess.
        ("bybit", "future", "BTCUSDH24", "BYBIT:FUTURE:BTCUSDH24"),
        ("coinbase", "spot", "BTC-USD", "COINBASE:SPOT_PAIR:BTC-USD"),
        # A venue whose naming scheme is not known here: the symbol is the name.
        ("bitmex", "perpetual", "XBTUSD", "BITMEX:PERPETUAL:XBTUSD"),
    ],
)
def test_keys_come_from_venue_and_symbol(venue: str, kind: str, symbol: str, key: str) -> None:
    assert instrument_key(venue, kind, symbol) == key


def test_the_naming_scheme_gives_the_terms_with_expiries_at_eight_utc() -> None:
    assert terms_from_symbol("deribit", "option", "BTC-9JUN20-9875-P") == Terms(
        "BTC", "USD", datetime(2020, 6, 9, 8, tzinfo=UTC), 9875.0, "PUT"
    )
    assert terms_from_symbol("binance-futures", "future", "BTCUSDT_240329") == Terms(
        "BTC", "USDT", datetime(2024, 3, 29, 8, tzinfo=UTC)
    )
    assert terms_from_symbol("bybit", "future", "BTCUSDH24") == Terms(None, None)
    assert terms_from_symbol("bitmex", "perpetual", "XBTUSD") == Terms(None, None)


def test_metadata_fills_columns_never_the_key() -> None:
    # Deribit's inverse options are quoted in BTC by the instruments API: the key keeps
    # the contract's form, the quote column says what the API says.
    details = {
        "datasets": {
            "symbols": [
                {"id": "BTC-9JUN20-9875-P", "type": "option", "dataTypes": ["trades"]},
                {"id": "BTCUSDH24", "type": "future", "dataTypes": ["trades"]},
            ]
        }
    }
    instruments = [
        {
            "id": "BTC-9JUN20-9875-P",
            "baseCurrency": "btc",
            "quoteCurrency": "BTC",
            "expiry": "2020-06-09T08:00:00.000Z",
            "strikePrice": "9875",  # numbers may arrive as strings
            "optionType": "put",
            "takerFee": "0.0003",
        },
        {
            "id": "BTCUSDH24",
            "baseCurrency": "BTC",
            "quoteCurrency": "USD",
            "expiry": "2024-03-29T08:00:00.000Z",
        },
    ]
    day = date(2020, 6, 1)
    with_api = {
        r["symbol"]: r for r in definitions_for_day("x", day, details, instruments).to_pylist()
    }
    without = {r["symbol"]: r for r in definitions_for_day("x", day, details, None).to_pylist()}
    assert {s: r["instrument_key"] for s, r in with_api.items()} == {
        s: r["instrument_key"] for s, r in without.items()
    }
    with_api = {
        r["symbol"]: r
        for r in definitions_for_day("deribit", day, details, instruments).to_pylist()
    }
    without = {
        r["symbol"]: r for r in definitions_for_day("deribit", day, details, None).to_pylist()
    }
    option, bare = with_api["BTC-9JUN20-9875-P"], without["BTC-9JUN20-9875-P"]
    assert (
        option["instrument_key"]
        == bare["instrument_key"]
        == "DERIBIT:OPTION:BTC-USD-200609-9875-PUT"
    )
    assert (option["quote"], bare["quote"]) == ("BTC", "USD")
    expiry = datetime(2020, 6, 9, 8, tzinfo=UTC)
    for row in (option, bare):
        assert (row["base"], row["expiry"], row["strike"], row["option_type"]) == (
            "BTC",
            expiry,
            9875.0,
            "PUT",
        )
    assert (option["taker_fee"], bare["taker_fee"]) == (0.0003, None)
    assert (option["metadata_source"], bare["metadata_source"]) == (
        "instruments",
        "exchange_details",
    )
    # A month-coded future keeps its symbol as the name; the API's expiry fills the column.
    assert with_api["BTCUSDH24"]["instrument_key"] == without["BTCUSDH24"]["instrument_key"]
    assert with_api["BTCUSDH24"]["expiry"] == datetime(2024, 3, 29, 8, tzinfo=UTC)
    assert without["BTCUSDH24"]["expiry"] is None


def test_changes_give_the_values_in_force_that_day() -> None:
    info = {
        "priceIncrement": 0.1,
        "takerFee": 0.0004,
        "changes": [
            {"until": "2023-06-01T00:00:00.000Z", "priceIncrement": 0.01, "takerFee": 0.0005},
            {"until": "2022-01-01T00:00:00.000Z", "priceIncrement": "1"},
        ],
    }
    at = lambda day: as_of(info, datetime.combine(day, datetime.min.time(), tzinfo=UTC))  # noqa: E731
    assert at(date(2023, 6, 1))["priceIncrement"] == 0.1
    assert at(date(2023, 5, 31)) == {"priceIncrement": 0.01, "takerFee": 0.0005}
    assert at(date(2021, 12, 31))["priceIncrement"] == "1"
    assert at(date(2021, 12, 31))["takerFee"] == 0.0005


DETAILS = {
    "datasets": {
        "symbols": [
            {
                "id": "BTCUSDT",
                "type": "perpetual",
                "availableSince": "2019-11-17T00:00:00.000Z",
                "dataTypes": ["trades", "derivative_ticker"],
            },
            # Listed during the day: it belongs to that day.
            {
                "id": "SOLUSDT",
                "type": "perpetual",
                "availableSince": "2024-01-02T06:00:00.000Z",
                "dataTypes": ["trades"],
            },
            # Gone before the day began.
            {
                "id": "LUNAUSDT",
                "type": "perpetual",
                "availableSince": "2019-11-17T00:00:00.000Z",
                "availableTo": "2024-01-02T00:00:00.000Z",
                "dataTypes": ["trades"],
            },
            {"id": "PERPETUALS", "type": "perpetual", "dataTypes": ["trades"]},
        ]
    }
}
INSTRUMENTS = [
    {
        "id": "BTCUSDT",
        "datasetId": "BTCUSDT",
        "baseCurrency": "BTC",
        "quoteCurrency": "USDT",
        "type": "perpetual",
        "contractType": "linear_perpetual",
        "settlementCurrency": "USDT",
        "inverse": "false",
        "contractMultiplier": "1",
        "priceIncrement": 0.1,
        "amountIncrement": "0.001",
        "minTradeAmount": 0.001,
        "minNotional": "5",
        "makerFee": 0.0002,
        "takerFee": 0.0004,
        "availableSince": "2019-09-08T00:00:00.000Z",
        "changes": [{"until": "2024-01-02T12:00:00.000Z", "priceIncrement": 0.01}],
    },
]


def test_definitions_with_the_instruments_api_are_complete_and_as_of_the_day() -> None:
    table = definitions_for_day("binance-futures", date(2024, 1, 2), DETAILS, INSTRUMENTS)

    rows = {r["symbol"]: r for r in table.to_pylist()}
    assert set(rows) == {"BTCUSDT", "SOLUSDT"}
    btc = rows["BTCUSDT"]
    assert btc["instrument_key"] == "BINANCE-FUTURES:PERPETUAL:BTC-USDT"
    assert btc["metadata_source"] == "instruments"
    assert btc["tick_size"] == 0.01  # the change at noon had not happened at 00:00
    assert (btc["lot_size"], btc["min_notional"], btc["contract_multiplier"]) == (0.001, 5.0, 1.0)
    assert (btc["inverse"], btc["settlement"]) == (False, "USDT")
    assert btc["listing_time"] == datetime(2019, 9, 8, tzinfo=UTC)
    assert btc["data_types"] == ["trades", "derivative_ticker"]
    assert btc["available_since"].tzinfo is not None
    later = definitions_for_day("binance-futures", date(2024, 1, 3), DETAILS, INSTRUMENTS)
    assert later.to_pylist()[0]["tick_size"] == 0.1


def test_definitions_without_the_instruments_api_fill_what_the_symbol_says() -> None:
    table = definitions_for_day("binance-futures", date(2024, 1, 2), DETAILS, None)
    sol = next(r for r in table.to_pylist() if r["symbol"] == "SOLUSDT")
    assert sol["instrument_key"] == "BINANCE-FUTURES:PERPETUAL:SOL-USDT"
    assert sol["metadata_source"] == "exchange_details"
    assert (sol["base"], sol["quote"]) == ("SOL", "USDT")
    assert sol["tick_size"] is None and sol["taker_fee"] is None and sol["settlement"] is None
    assert sol["available_since"] == datetime(2024, 1, 2, 6, tzinfo=UTC)

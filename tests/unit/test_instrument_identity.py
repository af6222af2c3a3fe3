"""An instrument's key depends on its venue and symbol alone: every venue and instrument
type of the local Tardis gets the same keys from the instruments API as from exchange
details, and the naming scheme's terms agree with what the API says."""

from datetime import UTC, date, datetime

import pytest

from market_assets.instruments.definitions import definitions_for_day
from tardis_local.catalog import VENUES, exchange_details, instruments

# A day on which every instrument of the catalogue is listed, dated contracts included.
DAY = date(2024, 1, 10)
EXPORTED = datetime(2024, 2, 1, tzinfo=UTC)
TERMS = ("base", "expiry", "strike", "option_type")


@pytest.mark.parametrize("venue", VENUES)
def test_keys_are_equal_with_and_without_the_instruments_api(venue: str) -> None:
    details = exchange_details(venue, EXPORTED)
    with_api = definitions_for_day(venue, DAY, details, instruments(venue)).to_pylist()
    without = definitions_for_day(venue, DAY, details, None).to_pylist()

    assert [r["instrument_key"] for r in with_api] == [r["instrument_key"] for r in without]
    assert [r["symbol"].upper() for r in with_api] == [r["symbol"].upper() for r in without]
    assert {r["metadata_source"] for r in with_api} == {"instruments"}
    assert {r["metadata_source"] for r in without} == {"exchange_details"}
    for api, bare in zip(with_api, without, strict=True):
        # What the naming scheme says, it says as the API does (the quote of an inverse
        # contract aside: the key keeps the contract's form, the column the API's).
        for column in TERMS:
            if bare[column] is not None:
                assert bare[column] == api[column], (bare["instrument_key"], column)


def test_every_instrument_type_of_the_catalogue_is_covered() -> None:
    types = set()
    for venue in VENUES:
        rows = definitions_for_day(venue, DAY, exchange_details(venue, EXPORTED), None)
        types |= set(rows["type"].to_pylist())
    assert types == {"SPOT_PAIR", "PERPETUAL", "FUTURE", "OPTION"}


def test_the_scheme_fills_base_quote_and_contract_terms_without_a_key() -> None:
    rows = {
        r["symbol"]: r
        for r in definitions_for_day(
            "deribit", DAY, exchange_details("deribit", EXPORTED), None
        ).to_pylist()
    }
    option = rows["BTC-29MAR24-50000-C"]
    assert option["instrument_key"] == "DERIBIT:OPTION:BTC-USD-240329-50000-CALL"
    assert (option["base"], option["quote"], option["strike"], option["option_type"]) == (
        "BTC",
        "USD",
        50000.0,
        "CALL",
    )
    assert option["expiry"] == datetime(2024, 3, 29, 8, tzinfo=UTC)

"""The universe file: the bundled default, selection rules, and errors that point at a line."""

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from market_assets.instruments.columns import DEFINITIONS
from market_assets.universe import UniverseError, load_universe, parse_universe


def definitions(*rows: dict) -> pa.Table:
    base = {"metadata_source": "instruments", "data_types": ["trades"]}
    full = [{**base, "dataset_id": r["symbol"].upper(), **r} for r in rows]
    return pa.Table.from_pylist(full, schema=DEFINITIONS.schema)


DAY = date(2024, 1, 5)
OPTIONS = definitions(
    {
        "instrument_key": "D:OPTION:BTC-1",
        "symbol": "BTC-9FEB24-50000-C",
        "type": "OPTION",
        "base": "BTC",
        "quote": "USD",
        "expiry": datetime(2024, 2, 9, 8, tzinfo=UTC),
    },
    {
        "instrument_key": "D:OPTION:BTC-2",
        "symbol": "BTC-27DEC24-50000-C",
        "type": "OPTION",
        "base": "BTC",
        "quote": "USD",
        "expiry": datetime(2024, 12, 27, 8, tzinfo=UTC),
    },
    {
        "instrument_key": "D:OPTION:SOL-1",
        "symbol": "SOL_USDC-9FEB24-100-C",
        "type": "OPTION",
        "base": "SOL",
        "quote": "USDC",
        "underlying": "SYN.SOL_USDC-9FEB24",
        "expiry": datetime(2024, 2, 9, 8, tzinfo=UTC),
    },
    {
        "instrument_key": "D:PERPETUAL:BTC-USD",
        "symbol": "BTC-PERPETUAL",
        "type": "PERPETUAL",
        "base": "BTC",
        "quote": "USD",
    },
)


def test_bundled_universe_has_btc_and_eth_spot_and_perpetuals_and_options() -> None:
    universe = load_universe()
    assert set(universe.venues) == {"binance", "binance-futures", "deribit"}
    assert universe.for_venue("binance").symbols == ("BTCUSDT", "ETHUSDT")
    deribit = universe.for_venue("deribit")
    assert "BTC-PERPETUAL" in deribit.symbols
    assert deribit.filters[0].instrument_type == "OPTION"
    assert deribit.filters[0].data_types == ("options_chain",)
    assert universe.for_venue("okex").symbols == ()


def test_a_file_chooses_any_tardis_venue(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text("venues:\n  okex:\n    symbols: [BTC-USDT]\n    data_types: [trades]\n")
    assert load_universe(path).for_venue("okex").symbols == ("BTC-USDT",)
    assert load_universe(path).venue_ids == ["okex"]
    assert load_universe(None).venue_ids == ["binance", "binance-futures", "deribit"]


def test_filters_select_by_type_underlying_and_expiry_horizon() -> None:
    universe = parse_universe(
        """
venues:
  deribit:
    data_types: [trades]
    symbols: [btc-perpetual]
    filters:
      - {type: option, underlyings: [BTC, SOL], expiry_within_days: 60, data_types: [options_chain]}
""",
        source="u.yaml",
    ).for_venue("deribit")

    chain = {r["instrument_key"] for r in universe.select(OPTIONS, DAY, "options_chain")}
    trades = {r["instrument_key"] for r in universe.select(OPTIONS, DAY, "trades")}

    assert chain == {"D:OPTION:BTC-1", "D:OPTION:SOL-1"}  # the December BTC option is too far
    assert trades == {"D:PERPETUAL:BTC-USD"}  # explicit symbols match case-insensitively


def test_base_and_quote_filters() -> None:
    universe = parse_universe(
        "venues:\n  deribit:\n    data_types: [trades]\n    filters:\n"
        "      - {type: option, base: [sol], quote: [USDC]}\n",
        source="u.yaml",
    ).for_venue("deribit")
    assert [r["instrument_key"] for r in universe.select(OPTIONS, DAY, "trades")] == [
        "D:OPTION:SOL-1"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "venues:\n  Kraken Spot:\n    symbols: [X]\n    data_types: [trades]\n",
            "u.yaml:2: venues.Kraken Spot: not a Tardis exchange id",
        ),
        (
            "venues:\n  binance:\n    symbols: [A]\n    data_types: []\n",
            "u.yaml:4: venues.binance.data_types: expected a non-empty list",
        ),
        (
            "venues:\n  binance:\n    symbols: [A]\n    data_types: [trades, candles]\n",
            "u.yaml:4: venues.binance.data_types: 'candles' is not one of",
        ),
        (
            "venues:\n  binance:\n    symbol: [A]\n    data_types: [trades]\n",
            "u.yaml:2: venues.binance: unknown keys \\['symbol'\\]",
        ),
        (
            "venues:\n  deribit:\n    data_types: [trades]\n    filters:\n      - type: opton\n",
            "u.yaml:5: venues.deribit.filters.0.type: 'opton' is not one of",
        ),
        (
            "venues:\n  deribit:\n    data_types: [trades]\n    filters:\n"
            "      - type: perpetual\n        expiry_within_days: 30\n",
            "u.yaml:6: venues.deribit.filters.0.expiry_within_days: only futures and options",
        ),
        (
            "venues:\n  deribit:\n    data_types: [trades]\n",
            "u.yaml:2: venues.deribit: selects nothing",
        ),
        ("venue: {}\n", "u.yaml:1: top level: expected a mapping with a 'venues' mapping"),
        ("venues: [\n", "u.yaml: not valid YAML"),
    ],
)
def test_invalid_universe_points_at_the_line(text: str, message: str) -> None:
    with pytest.raises(UniverseError, match=message):
        parse_universe(text, source="u.yaml")

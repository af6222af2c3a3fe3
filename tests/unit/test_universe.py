"""The universe file: the bundled default and errors that point at the entry at fault."""

from pathlib import Path

import pytest

from market_assets.universe import UniverseError, load_universe, parse_universe


def test_bundled_universe_has_btc_and_eth_spot_and_perpetuals() -> None:
    universe = load_universe()
    assert set(universe.venues) == {"binance", "binance-futures", "deribit"}
    assert universe.for_venue("binance").symbols == ("BTCUSDT", "ETHUSDT")
    assert "BTC-PERPETUAL" in universe.for_venue("deribit").symbols
    assert universe.for_venue("okex").symbols == ()


def test_environment_variable_chooses_the_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "u.yaml"
    path.write_text("venues:\n  okex:\n    symbols: [BTC-USDT]\n    data_types: [trades]\n")
    monkeypatch.setenv("MARKET_DATA_UNIVERSE", str(path))
    assert load_universe().for_venue("okex").symbols == ("BTC-USDT",)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"venues": {"kraken": {"symbols": ["X"], "data_types": ["trades"]}}},
            "venues.kraken: unknown venue",
        ),
        (
            {"venues": {"binance": {"symbols": [], "data_types": ["trades"]}}},
            "venues.binance.symbols",
        ),
        (
            {"venues": {"binance": {"symbols": ["A"], "data_types": ["candles"]}}},
            "'candles' is not one of",
        ),
        (
            {"venues": {"binance": {"symbols": ["A"], "data_types": ["trades"], "x": 1}}},
            "unknown keys",
        ),
        ({"venue": {}}, "'venues' mapping"),
    ],
)
def test_invalid_universe_names_the_entry(document: dict, message: str) -> None:
    with pytest.raises(UniverseError, match=message):
        parse_universe(document, source="u.yaml")

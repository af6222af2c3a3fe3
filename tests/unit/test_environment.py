"""The environment contract read once (resources/environment.py): the live service's
variables, and secrets that stay out of the object's repr."""

import pytest

from resources.environment import DEFAULT_LIVE_ADDRESS, Environment


def test_live_defaults_are_the_embedded_setup() -> None:
    environment = Environment.read({})
    assert environment.live_address == DEFAULT_LIVE_ADDRESS == "tcp://127.0.0.1:7878"
    assert environment.live_warehouse_url == ""
    assert environment.deribit_credentials is None


def test_deribit_credentials_need_both_and_stay_out_of_the_repr() -> None:
    only_id = Environment.read({"DERIBIT_CLIENT_ID": "abc"})
    assert only_id.deribit_credentials is None
    both = Environment.read({"DERIBIT_CLIENT_ID": "abc", "DERIBIT_CLIENT_SECRET": "s3cr3t-value"})
    assert both.deribit_credentials == ("abc", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(both)


def test_a_grace_that_is_not_whole_milliseconds_names_the_variable_and_the_fix() -> None:
    with pytest.raises(ValueError, match=r"MARKET_DATA_LIVE_GRACE_MS='2s'.*=2000"):
        Environment.read({"MARKET_DATA_LIVE_GRACE_MS": "2s"})


def test_live_timeframes_are_all_by_default_or_those_listed_shortest_first() -> None:
    assert Environment.read({}).live_timeframes == ("15s", "1m", "5m", "15m", "1h", "4h", "1d")
    chosen = Environment.read({"MARKET_DATA_LIVE_TIMEFRAMES": " 1m,15s ,5m"})
    assert chosen.live_timeframes == ("15s", "1m", "5m")


def test_an_unknown_live_timeframe_names_the_variable_and_the_choices() -> None:
    with pytest.raises(ValueError, match=r"MARKET_DATA_LIVE_TIMEFRAMES='1m,2m': 2m .*15s,1m,5m"):
        Environment.read({"MARKET_DATA_LIVE_TIMEFRAMES": "1m,2m"})
    with pytest.raises(ValueError, match="no timeframe"):
        Environment.read({"MARKET_DATA_LIVE_TIMEFRAMES": ","})

"""The reader as a package: importable without Dagster and fast, its names and errors."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import market_reader
from market_reader.errors import MissingPartitionError
from market_reader.layout import (
    CANDLE_TIMEFRAMES,
    FEATURE_TIMEFRAMES,
    asset_named,
    candle_asset,
    tick_asset,
    tick_file,
    venue_of,
)
from market_reader.output import deliver

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys, time
started = time.perf_counter()
import market_reader
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "dagster": "dagster" in sys.modules,
                  "definitions": "market_assets.definitions" in sys.modules}))
"""


def test_importing_the_reader_brings_no_dagster_and_takes_well_under_a_second() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert not found["dagster"] and not found["definitions"]
    assert found["seconds"] < 0.8


def test_the_contract_names_are_exported() -> None:
    names = ("instruments", "candles", "features", "ticks", "ticks_batches", "windows", "coverage")
    assert all(callable(getattr(market_reader.Lake, name)) for name in names)
    assert "Lake" in market_reader.__all__


def test_the_timeframes_are_those_the_graph_builds() -> None:
    from partitions import FEATURE_TIMEFRAMES as BUILT_FEATURES
    from partitions import TIMEFRAMES

    assert tuple(TIMEFRAMES) == CANDLE_TIMEFRAMES
    assert BUILT_FEATURES == FEATURE_TIMEFRAMES


def test_keys_give_their_venue_and_files() -> None:
    assert venue_of("BINANCE-FUTURES:PERPETUAL:BTC-USDT") == "binance-futures"
    with pytest.raises(ValueError, match="not an instrument key"):
        venue_of("btcusdt")
    assert tick_file("trades", "BINANCE:SPOT_PAIR:BTC-USDT") == (
        "BINANCE__SPOT_PAIR__BTC-USDT",
        False,
    )
    assert tick_file("options_chain", "DERIBIT:OPTION:BTC-USD-240329-50000-CALL") == (
        "OPTIONS",
        True,
    )
    assert asset_named("features/mft_1h").path == ("features", "mft_1h")


def test_unknown_data_types_timeframes_and_assets_name_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no tick data type 'trade'.*trades"):
        tick_asset("trade")
    with pytest.raises(ValueError, match=r"no candles timeframe '2m'.*15s, 1m"):
        candle_asset("2m")
    with pytest.raises(ValueError, match="no asset 'bars/1m'"):
        asset_named("bars/1m")


def test_a_missing_partition_names_the_asset_days_venue_and_both_fixes() -> None:
    error = MissingPartitionError(
        tick_asset("trades"), [("2024-01-03", "binance"), ("2024-01-02", "binance")], "data"
    )
    message = str(error)
    assert message.startswith(
        "ticks/trades has no partitions 2024-01-02|binance, 2024-01-03|binance in the lake at data"
    )
    assert (
        "dagster asset materialize -m market_assets --select 'instrument_definitions,"
        "ticks/trades' --partition '2024-01-02|binance'" in message
    )
    assert "-j daily_ingest --partitions '2024-01-02|binance,2024-01-03|binance'" in message
    assert error.asset == "ticks/trades"


def test_polars_output_says_it_needs_polars_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match="only with its dev extras: pip install polars"):
        deliver(pa.table({"a": [1]}), "polars")
    with pytest.raises(ValueError, match="one of pandas, arrow, polars"):
        deliver(pa.table({"a": [1]}), "numpy")  # type: ignore[arg-type]

"""The candle checks' invariants: sound bars pass, each kind of damage is named."""

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_assets.candles.bars import TIMESTAMP, midnight_us
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.invariants import (
    alignment_violations,
    count_violations,
    cross_timeframe_violations,
    duplicate_violations,
    ohlc_violations,
    volume_violations,
)
from market_assets.ticks.columns import TICK_DATASETS
from partitions import TIMEFRAMES

DAY = date(2024, 3, 1)
START = midnight_us(DAY)
KEY = "BINANCE:SPOT_PAIR:BTC-USDT"


def trades(n: int = 3_000, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    stamps = np.sort(rng.integers(START, START + 86_400_000_000, n))
    columns = {
        "instrument_key": pa.array([KEY] * n).dictionary_encode(),
        "symbol": pa.array(["BTCUSDT"] * n).dictionary_encode(),
        "timestamp": pa.array(stamps).cast(TIMESTAMP),
        "local_timestamp": pa.array(stamps + rng.integers(500, 9_000, n)).cast(TIMESTAMP),
        "id": pa.array([str(i) for i in range(n)]),
        "side": pa.array(rng.choice(["buy", "sell", "unknown"], n)).dictionary_encode(),
        "price": 40_000 + np.cumsum(rng.normal(0, 5, n)),
        "amount": rng.exponential(0.2, n) + 0.001,
    }
    return pa.table(columns).cast(TICK_DATASETS["trades"].schema)


@pytest.fixture(scope="module")
def bars() -> dict[str, pa.Table]:
    return instrument_candles(InstrumentDay(KEY, trades=trades()), START, TIMEFRAMES)


def replace(table: pa.Table, name: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, table.schema.field(name).type))


def test_sound_bars_pass_every_invariant(bars: dict[str, pa.Table]) -> None:
    names = list(TIMEFRAMES)
    for n, timeframe in enumerate(names):
        table = bars[timeframe]
        assert ohlc_violations(table) == []
        assert volume_violations(table) == []
        assert alignment_violations(table, START, TIMEFRAMES[timeframe]) == []
        assert duplicate_violations(table) == []
        assert count_violations(table, {KEY: 3_000}) == []
        if n:
            coarse, fine = table, bars[names[n - 1]]
            assert cross_timeframe_violations(coarse, fine, TIMEFRAMES[timeframe]) == []


def test_a_high_below_the_close_is_named(bars: dict[str, pa.Table]) -> None:
    table = bars["1h"]
    highs = table["high"].to_pylist()
    highs[3] = table["close"][3].as_py() - 1
    [problem] = ohlc_violations(replace(table, "high", highs))
    assert problem.startswith(f"{KEY} 2024-03-01T03:00:00+00:00")


def test_volume_that_does_not_add_up_is_named(bars: dict[str, pa.Table]) -> None:
    table = bars["1h"]
    volumes = table["volume"].to_pylist()
    volumes[0] += 1
    assert len(volume_violations(replace(table, "volume", volumes))) == 1


def test_a_missing_or_misaligned_bar_is_named(bars: dict[str, pa.Table]) -> None:
    table = bars["1h"]
    assert alignment_violations(table.slice(1), START, 3_600) == [
        f"{KEY}: 23 distinct bars, expected 24"
    ]
    shifted = pc.add(table["timestamp"], pa.scalar(1_000_000, pa.duration("us")))
    assert alignment_violations(table.set_column(1, "timestamp", shifted), START, 3_600)


def test_a_bar_twice_is_named(bars: dict[str, pa.Table]) -> None:
    doubled = pa.concat_tables([bars["1d"], bars["1d"]])
    assert duplicate_violations(doubled) == [f"{KEY} 2024-03-01T00:00:00+00:00: 2 rows"]


def test_lost_trades_are_named(bars: dict[str, pa.Table]) -> None:
    assert count_violations(bars["1h"], {KEY: 3_001}) == [
        f"{KEY}: bars count 3000 trades, the ticks hold 3001"
    ]


def test_a_coarse_bar_that_disagrees_with_its_fine_bars_is_named(
    bars: dict[str, pa.Table],
) -> None:
    coarse = bars["1h"]
    opens = coarse["open"].to_pylist()
    opens[5] += 0.5
    [problem] = cross_timeframe_violations(replace(coarse, "open", opens), bars["15m"], 3_600)
    assert problem.startswith(f"{KEY} 2024-03-01T05:00:00+00:00")

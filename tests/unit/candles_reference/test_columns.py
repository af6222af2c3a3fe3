"""Every candle column of every timeframe and instrument against the pandas reference."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_assets.candles.bars import in_source_order
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.columns import CANDLES
from market_assets.candles.options import option_grids
from market_assets.ticks.columns import TICK_DATASETS
from partitions import TIMEFRAMES
from tests.unit.candles_reference.compare import column_problems
from tests.unit.candles_reference.day import BTC, DAY_US, END, HOUR, INSTRUMENTS, MS, SOL, US, D
from tests.unit.candles_reference.reference import (
    LIQUIDATION_COLUMNS,
    OPTION_COLUMNS,
    TRADE_COLUMNS,
    frame,
    ref_liquidations,
    ref_options,
    ref_trades,
    reference,
)
from tests.unit.candles_reference.ticks import option_chain_rows, tardis_files
from tests.unit.candles_reference.world import World


@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_every_bar_of_the_day_is_present(world: World, timeframe: str) -> None:
    seconds = TIMEFRAMES[timeframe]
    for key in INSTRUMENTS:
        table = world.candles[key][timeframe]
        assert table.schema == CANDLES.schema
        assert table.num_rows == 86_400 // seconds
        assert set(table["instrument_key"].to_pylist()) == {key}
        starts = table["timestamp"].cast(pa.int64()).to_numpy()
        assert np.array_equal(starts, D + np.arange(86_400 // seconds) * seconds * US)


@pytest.mark.parametrize("key", INSTRUMENTS)
@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_every_column_matches_the_reference(world: World, timeframe: str, key: str) -> None:
    seconds = TIMEFRAMES[timeframe]
    table = world.candles[key][timeframe]
    expected = reference(world, key, seconds)
    assert set(expected) == set(CANDLES.schema.names[2:])
    problems = [
        problem
        for name in CANDLES.schema.names[2:]
        for problem in column_problems(name, table[name], expected[name], seconds)
    ]
    assert not problems, f"{key} {timeframe}:\n" + "\n".join(problems)


@pytest.mark.parametrize("timeframe", list(TIMEFRAMES))
def test_no_trade_is_lost_or_counted_twice(world: World, timeframe: str) -> None:
    for key in INSTRUMENTS:
        trades = world.ticks[key]["trades"]
        stamped = 0
        volume = 0.0
        for file in (trades.today, trades.next_day):
            df = frame(file, ["timestamp", "amount"])
            inside = (df.timestamp >= D) & (df.timestamp < END)
            stamped += int(inside.sum())
            volume += float(df.amount[inside].sum())
        table = world.candles[key][timeframe]
        assert pc.sum(table["trade_count"]).as_py() == stamped
        assert pc.sum(table["volume"]).as_py() == pytest.approx(volume, rel=1e-12)
        sides = sum(pc.sum(table[f"{s}_count"]).as_py() for s in ("buy", "sell", "unknown"))
        assert sides == stamped


def test_option_expiry_is_chosen_among_listed_expiries() -> None:
    """An expiry listed at noon cannot be the chosen one before noon: until it is listed
    the nearest expiry at least seven days out is the one listed earlier, with its values
    (the brief's "each option of that expiry's last row stamped before t"; choosing an
    expiry nobody has seen yet would look ahead and leave the features null)."""
    rng = np.random.default_rng(7)
    new, old = D + 10 * DAY_US, D + 20 * DAY_US
    strikes = [float(k) for k in range(58_000, 62_001, 1_000)]
    rows = option_chain_rows(
        rng,
        base="BTC",
        spot=60_000,
        expiries={new: strikes, old: strikes},
        updates=20,
        listed_from={new: 12 * HOUR + 500 * MS},
    )
    chain = tardis_files("options_chain", rows, "", "").source_order
    grid = option_grids(chain, D)["BTC"]
    ticks = InstrumentDay(BTC)
    got = instrument_candles(ticks, D, {"1h": 3_600}, grid)["1h"]
    expected = ref_options(chain, "BTC", 3_600)
    expiry = got["option_expiry"].cast(pa.int64()).to_pylist()
    assert expected["option_expiry"].iloc[11] == old and expected["option_expiry"].iloc[12] == new
    problems = [
        problem
        for name in OPTION_COLUMNS
        for problem in column_problems(name, got[name], expected[name], 3_600)
    ]
    assert not problems, f"chosen expiries by hour {expiry}:\n" + "\n".join(problems)


def test_a_day_without_rows_is_data_without_events() -> None:
    """A Tardis file that is an empty gzip ("no data that day") lands in the lake as a
    file without rows, so the instrument has a table, not None: counts and volumes are
    zero (no trade, no liquidation that day), prices null."""
    trades = in_source_order([TICK_DATASETS["trades"].schema.empty_table()] * 2)
    liquidations = in_source_order([TICK_DATASETS["liquidations"].schema.empty_table()] * 2)
    ticks = InstrumentDay(SOL, trades=trades, liquidations=liquidations)
    got = instrument_candles(ticks, D, {"1h": 3_600})["1h"]
    expected = {**ref_trades(trades, 3_600), **ref_liquidations(liquidations, 3_600)}
    assert expected["trade_count"].eq(0).all() and expected["open"].isna().all()
    problems = [
        problem
        for name in (*TRADE_COLUMNS, *LIQUIDATION_COLUMNS)
        for problem in column_problems(name, got[name], expected[name], 3_600)
    ]
    assert not problems, "\n".join(problems)

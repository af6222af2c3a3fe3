"""``day_features`` against the independent reference, feature by feature, on 1m, 1h, 4h
and 1d worlds; and the guard that the generated worlds hold the cases meant to be tested."""

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_assets.candles.columns import BOOK_COLUMNS, OPTION_COLUMNS, TICKER_COLUMNS
from market_assets.features.build import day_features, lookback_days
from market_assets.features.columns import FEATURES, MFT, PRICE_FEATURES, WINDOWS
from tests.unit.features_reference.candles import (
    BTC,
    ETH,
    NEW,
    OLD,
    PEPE,
    SOL,
    World,
    emptied,
    world,
)
from tests.unit.features_reference.compare import feature_problems
from tests.unit.features_reference.grid import (
    ABSENT,
    DAY_US,
    HISTORY,
    NO_TRADE,
    UNDEFINED,
    US,
    look_back_days,
)
from tests.unit.features_reference.reference import FORMULAS, reference

TIMEFRAMES = ("1m", "1h", "4h", "1d")
NAMES = [column.name for column, _ in FEATURES]


@cache
def computed(name: str) -> tuple[World, pa.Table, pd.DataFrame, pd.DataFrame]:
    """(world, day_features, reference values, reference null reasons), once per timeframe."""
    w = world(name)
    got = day_features(w.candles, w.day_start_us, w.seconds)
    want, why = reference(w.candles, w.day_start_us, w.seconds)
    return w, got, want, why


def _rows(table: pa.Table, key: str | None = None) -> pd.DataFrame:
    """A candle table as pandas, times as µs integers."""
    if key is not None:
        table = table.filter(pc.equal(table["instrument_key"], key))
    columns = {
        name: pc.cast(table[name], pa.int64())
        if pa.types.is_timestamp(table[name].type)
        else table[name]
        for name in table.column_names
    }
    return pa.table(columns).to_pandas()


def test_reference_reads_the_specified_windows() -> None:
    """The reference's formulas, in the specification's order, read exactly the bars of
    history ``WINDOWS`` declares, for every bar of 1m, 1h, 4h and 1d days."""
    assert list(FORMULAS) == NAMES
    for n in (1_440, 24, 6, 1):
        for j in range(n):
            for name in NAMES:
                assert FORMULAS[name][0](n, j) == WINDOWS[name](n, j), (name, n, j)


@pytest.mark.parametrize("seconds", [15, 60, 300, 900, 3_600, 14_400, 86_400])
def test_look_back_days(seconds: int) -> None:
    """20 days for the same-bar-of-day windows, more when a day holds < 13 bars: ≥ 250 bars."""
    assert lookback_days(seconds) == look_back_days(seconds)
    assert lookback_days(seconds) * 86_400 // seconds >= 250


@pytest.mark.parametrize("name", TIMEFRAMES)
def test_rows_keys_and_times(name: str) -> None:
    """One row per bar of the day for each instrument with candles on the day (not OLD,
    whose candles end before it), sorted; ``known_at`` = max(bar close, timestamp_out);
    ``history_bars`` counted across empty bars and reset by the missing day;
    ``price_bars`` counted from the run's first trade (0 before it)."""
    _, got, want, _ = computed(name)
    assert got.schema == MFT.schema
    assert sorted(set(got["instrument_key"].to_pylist())) == sorted({BTC, ETH, SOL, PEPE, NEW})
    assert got["instrument_key"].to_pylist() == want["instrument_key"].tolist()
    for column in ("timestamp", "known_at"):
        stamps = pc.cast(got[column], pa.int64()).to_numpy()
        np.testing.assert_array_equal(stamps, want[column].to_numpy(), err_msg=column)
    for column in ("history_bars", "price_bars"):
        np.testing.assert_array_equal(got[column].to_numpy(), want[column], err_msg=column)
    assert (want.price_bars <= want.history_bars).all()


@pytest.mark.parametrize("name", TIMEFRAMES)
def test_price_features_are_those_null_before_the_first_trade(name: str) -> None:
    """The specification's ``PRICE_FEATURES`` (windows also counted in ``price_bars``)
    are the features the reference finds null for want of a trade: a price feature is
    null where ``price_bars`` is short of its window, and no other feature ever is null
    for that reason."""
    w, _, want, why = computed(name)
    n = w.bars_per_day
    j = ((want.timestamp - w.day_start_us) // (w.seconds * US)).to_numpy()
    for feature in NAMES:
        needed = np.array([WINDOWS[feature](n, int(i)) for i in j])
        no_trade = (why[feature] == NO_TRADE).to_numpy()
        if feature in PRICE_FEATURES:
            short = (want.history_bars >= needed) & (want.price_bars < needed)
            np.testing.assert_array_equal(no_trade, short.to_numpy(), err_msg=feature)
        else:
            assert not no_trade.any(), feature


@pytest.mark.parametrize("feature", NAMES)
@pytest.mark.parametrize("name", TIMEFRAMES)
def test_feature_matches_reference(name: str, feature: str) -> None:
    """Values to 1e-9 relative (recursive ones too: they follow the same seeds), nulls
    exactly where the reference says, and never a NaN stored as a value."""
    _, got, want, why = computed(name)
    problems = feature_problems(feature, got[feature], want[feature], why[feature], want)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", TIMEFRAMES)
def test_world_holds_the_awkward_cases(name: str) -> None:
    """Guard on the generator and the reference: the cases the comparison must cover."""
    w, _, want, why = computed(name)
    n, day = w.bars_per_day, w.day_start_us
    frame = _rows(w.candles)
    on_day = frame[(frame.timestamp >= day) & (frame.timestamp < day + DAY_US)]
    reasons = set(why.to_numpy().ravel()) - {""}
    assert reasons == {HISTORY, NO_TRADE, ABSENT, UNDEFINED}
    assert (on_day.trade_count == 0).any(), "empty bars on the day"
    grid_start = day - w.look_back * DAY_US
    first = pd.Timestamp(grid_start, unit="us")
    assert first.month != pd.Timestamp(day, unit="us").month, "a month boundary in the look-back"
    assert frame.timestamp.min() < grid_start, "rows older than the look-back (ignored)"
    assert frame.timestamp.max() >= day + DAY_US, "rows of later days (ignored)"
    eth = frame[frame.instrument_key == ETH].timestamp
    gap = day - w.setting.missing_day * DAY_US
    assert grid_start < gap and not ((eth >= gap) & (eth < gap + DAY_US)).any()
    assert ((eth >= gap - DAY_US) & (eth < gap)).any(), "ETH trades the day before its gap"
    new = _rows(w.candles, NEW).sort_values("timestamp")
    assert new.timestamp.iat[0] > grid_start and new.trade_count.iat[0] == 0
    longest = max(WINDOWS[c](n, n - 1) for c in NAMES)
    assert want[want.instrument_key == NEW].history_bars.min() < longest
    sol = _rows(w.candles, SOL)
    state = [c.name for c in (*TICKER_COLUMNS, *BOOK_COLUMNS, *OPTION_COLUMNS)]
    assert sol[[*state, "liquidation_buy_volume"]].isna().all().all(), "SOL has no such data"
    btc = _rows(w.candles, BTC)
    assert btc[state].notna().mean().gt(0.8).all(), "BTC has all of them"
    funding = btc.sort_values("timestamp").funding_rate
    assert funding.isna().any() and funding.dropna().diff().ne(0).sum() > 3
    assert (frame[frame.instrument_key == OLD].timestamp < day).all()
    # Two rows per instrument per bar would make a bar ambiguous.
    assert not frame.duplicated(["instrument_key", "timestamp"]).any()


@pytest.mark.parametrize("name", TIMEFRAMES)
def test_candles_are_consistent(name: str) -> None:
    """The generated candles keep the candle invariants the features rely on."""
    frame = _rows(world(name).candles)
    traded = frame[frame.trade_count > 0]
    empty = frame[frame.trade_count == 0]
    assert (traded.low <= traded[["open", "close"]].min(axis=1)).all()
    assert (traded.high >= traded[["open", "close"]].max(axis=1)).all()
    assert (traded.low <= traded.vwap).all() and (traded.vwap <= traded.high).all()
    assert (traded.buy_volume + traded.sell_volume <= traded.volume * (1 + 1e-12)).all()
    np.testing.assert_allclose(traded.quote_volume, traded.vwap * traded.volume, rtol=1e-12)
    assert empty[["open", "high", "low", "close", "vwap", "timestamp_out"]].isna().all().all()
    assert (empty[["volume", "quote_volume", "buy_volume", "sell_volume"]] == 0).all().all()
    imbalance = frame.imbalance_5.dropna()
    assert imbalance.between(-1, 1).all() and (frame.spread_bps.dropna() > 0).all()


def test_rsi_after_a_flat_seed_is_null() -> None:
    """NEW trades once, then not until 06:00 of the day: every change since its first
    trade is 0 until then, so RSI = 100·G/(G+L) is 0/0 (null) at the day's first bars."""
    w = world("1h")
    first_trade = w.bar_us(w.setting.first_trade, -w.setting.new_days)
    candles = emptied(w.candles, NEW, first_trade + w.seconds * US, w.bar_us(6))
    got = day_features(candles, w.day_start_us, w.seconds)
    want, why = reference(candles, w.day_start_us, w.seconds)
    rows = (want.instrument_key == NEW).to_numpy()
    assert (why.rsi_14[rows].iloc[:6] == UNDEFINED).all(), "the case is in the world"
    chosen = pc.equal(got["instrument_key"], NEW)
    problems = feature_problems(
        "rsi_14",
        got.filter(chosen)["rsi_14"],
        want.rsi_14[rows],
        why.rsi_14[rows],
        want[rows],
    )
    assert not problems, "\n".join(problems)

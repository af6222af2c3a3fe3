"""Causality and look-back: a bar's features depend on that bar and earlier ones only, and
on no more history than the look-back, to within the seed weight of a recursion."""

from functools import cache
from unittest.mock import patch

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_assets.candles.columns import CANDLES
from market_assets.features import build
from market_assets.features.build import day_features
from market_assets.features.columns import FEATURES, MFT
from tests.unit.features_reference.candles import EXTRA_DAYS, PEPE, World, world
from tests.unit.features_reference.compare import floats, identical_problems
from tests.unit.features_reference.grid import DAY_US

# Bars t of the day to cut at (index in the day): its first, one inside, its next to last.
CUTS = {"1m": (0, 725, 1_438), "1h": (0, 13, 22), "4h": (0, 3, 4), "1d": (0,)}
CASES = [(name, j) for name, cuts in CUTS.items() for j in cuts]
NAMES = [column.name for column, _ in FEATURES]
RECURSIVE = ("rsi_14", "macd", "macd_signal", "macd_hist", "atr_14", "ema_12_gap", "ema_26_gap")
# Window aggregates: an implementation may keep running sums whose last bits depend on
# where the series starts; a longer look-back may move them by float rounding only.
AGGREGATES = (
    *("realized_vol_20", "realized_vol_60", "parkinson_vol_20", "garman_klass_vol_20"),
    *("rogers_satchell_vol_20", "yang_zhang_vol_20", "bollinger_pct_b_20"),
    *("signed_volume_imbalance_20", "kyle_lambda_60", "amihud_20", "funding_rate_z_7d"),
    *("liquidation_intensity_20", "spread_bps_mean_20", "imbalance_5_mean_20"),
    "iv_minus_realized_20",
)
EXACT = tuple(name for name in NAMES if name not in (*RECURSIVE, *AGGREGATES))
AGGREGATE_RTOL = 1e-10
SEED_TOL = 1e-6


def _opens(table: pa.Table) -> pa.ChunkedArray:
    return pc.cast(table["timestamp"], pa.int64())


def _changed_after(candles: pa.Table, cut_us: int) -> pa.Table:
    """Every candle opening after ``cut_us`` (in the day and later days) changed: prices
    and book ×1.37, volumes and counts ×3, ticker and option values shifted, imbalances
    negated, timestamp_out 1 s later; the invariants (low ≤ close ≤ high, ...) still hold."""
    later = pc.greater(_opens(candles), cut_us)
    columns = []
    for field in CANDLES.schema:
        column = candles[field.name]
        if field.name in ("instrument_key", "timestamp", "option_expiry"):
            changed = column
        elif field.name == "timestamp_out":
            changed = pc.cast(pc.add(pc.cast(column, pa.int64()), 1_000_000), field.type)
        elif field.name.startswith("imbalance"):
            changed = pc.negate(column)
        elif field.name in ("funding_rate", "predicted_funding_rate", "basis"):
            changed = pc.add(column, 3e-4)
        elif field.name in ("risk_reversal_25d", "open_interest_change"):
            changed = pc.add(column, 1.5)
        elif pa.types.is_integer(field.type):
            changed = pc.multiply(column, 3)
        elif field.name == "atm_iv":
            changed = pc.add(column, 7.0)
        else:
            changed = pc.multiply(column, 3.0 if "volume" in field.name else 1.37)
        columns.append(pc.if_else(later, changed, column).cast(field.type))
    return pa.Table.from_arrays(columns, schema=CANDLES.schema)


def _removed_after(candles: pa.Table, cut_us: int) -> pa.Table:
    return candles.filter(pc.less_equal(_opens(candles), cut_us))


def _until(table: pa.Table, cut_us: int) -> pa.Table:
    return table.filter(pc.less_equal(_opens(table), cut_us))


def _assert_identical(a: pa.Table, b: pa.Table) -> None:
    assert a.num_rows == b.num_rows
    problems = [p for name in MFT.names for p in identical_problems(name, a[name], b[name])]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("name", "j"), CASES)
def test_later_candles_do_not_change_earlier_features(name: str, j: int) -> None:
    """Changing every candle after bar t (the rest of the day and the later days) leaves
    every column of every row up to t bit-identical."""
    w = world(name)
    cut = w.bar_us(j)
    standard = _standard(name)
    changed = day_features(_changed_after(w.candles, cut), w.day_start_us, w.seconds)
    _assert_identical(_until(standard, cut), _until(changed, cut))
    # The change reaches the features after t (the test would be empty otherwise).
    if j < w.bars_per_day - 1:
        after = pc.greater(_opens(standard), cut)
        assert not standard.filter(after).equals(changed.filter(after))


@pytest.mark.parametrize(("name", "j"), CASES)
def test_removing_later_candles_does_not_change_earlier_features(name: str, j: int) -> None:
    """Without any candle after bar t, every row up to t is bit-identical."""
    w = world(name)
    cut = w.bar_us(j)
    standard = _standard(name)
    removed = day_features(_removed_after(w.candles, cut), w.day_start_us, w.seconds)
    _assert_identical(_until(standard, cut), _until(removed, cut))


@pytest.mark.parametrize("name", CUTS)
def test_rows_older_than_the_look_back_are_ignored(name: str) -> None:
    """The world's days before the look-back change nothing: same table without them."""
    w = world(name)
    start = w.day_start_us - w.look_back * DAY_US
    trimmed = w.candles.filter(pc.greater_equal(_opens(w.candles), start))
    assert trimmed.num_rows < w.candles.num_rows
    _assert_identical(_standard(name), day_features(trimmed, w.day_start_us, w.seconds))


@cache
def _standard(name: str) -> pa.Table:
    w = world(name)
    return day_features(w.candles, w.day_start_us, w.seconds)


@cache
def _longer(name: str) -> tuple[pa.Table, pa.Table]:
    """The day's features with the standard look-back and with ``EXTRA_DAYS`` more (the
    product's own look-back lengthened, so that it reads the world's older days)."""
    w = world(name)
    older = pc.less(_opens(w.candles), w.day_start_us - w.look_back * DAY_US)
    assert w.candles.filter(older).num_rows > 0, "the world has the older days"
    usual = build.lookback_days
    with patch.object(build, "lookback_days", lambda seconds: usual(seconds) + EXTRA_DAYS):
        longer = day_features(w.candles, w.day_start_us, w.seconds)
    return _standard(name), longer


def _price_scale(w: World, keys: list[str]) -> np.ndarray:
    """Per row, the instrument's mean close (over the world: PEPE does not trade on some
    days under test): the scale of its quote-currency values."""
    frame = w.candles.select(["instrument_key", "close"]).to_pandas()
    means = frame.groupby("instrument_key").close.mean()
    return pd.Series(keys).map(means).to_numpy(dtype=float)


RECURSIVE_CASES = [(name, feature) for name in CUTS for feature in RECURSIVE]


@pytest.mark.parametrize(("name", "feature"), RECURSIVE_CASES)
def test_a_longer_look_back_moves_recursive_features_by_the_seed_weight_only(
    name: str, feature: str
) -> None:
    """Seeded 3 days earlier, a recursion differs at the day's bars by < 1e-6 of the
    scale of its values: the instrument's price for quote-currency ones (MACD, ATR: a
    difference of EMAs crosses 0, so relative to itself means nothing), 1 for the EMA
    gaps (fractions), 100 for RSI. Nulls are the same."""
    w = world(name)
    standard, longer = _longer(name)
    (a, null_a), (b, null_b) = floats(standard[feature]), floats(longer[feature])
    np.testing.assert_array_equal(null_a, null_b)
    keys = standard["instrument_key"].to_pylist()
    if feature in ("macd", "macd_signal", "macd_hist", "atr_14"):
        scale = _price_scale(w, keys)
    else:
        scale = np.full(len(keys), 100.0 if feature == "rsi_14" else 1.0)
    gap = np.where(null_a, 0.0, np.abs(a - b)) / scale
    worst = int(np.argmax(gap))
    assert gap[worst] < SEED_TOL, (
        f"{feature} of {keys[worst]} at row {worst}: {a[worst]!r} vs {b[worst]!r}"
    )


@pytest.mark.parametrize("name", CUTS)
def test_a_longer_look_back_leaves_windowed_features(name: str) -> None:
    """Windows end inside the standard look-back: features of a few bars are
    bit-identical, window aggregates agree to float rounding (1e-10 relative, or of 1
    where the value is a fraction near 0), nulls are the same."""
    standard, longer = _longer(name)
    problems = [
        p
        for feature in EXACT
        for p in identical_problems(feature, standard[feature], longer[feature])
    ]
    for feature in AGGREGATES:
        (a, null_a), (b, null_b) = floats(standard[feature]), floats(longer[feature])
        if (null_a != null_b).any():
            problems.append(f"{feature}: nulls differ at rows {np.flatnonzero(null_a != null_b)}")
        floor = 1.0 if feature in ("bollinger_pct_b_20", "signed_volume_imbalance_20") else 0.0
        off = ~null_a & ~np.isclose(a, b, rtol=AGGREGATE_RTOL, atol=AGGREGATE_RTOL * floor)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            problems.append(
                f"{feature}: {off.sum()} rows beyond rounding, e.g. {a[i]!r} vs {b[i]!r}"
            )
    assert not problems, "\n".join(problems)
    # PEPE's history beyond the look-back is what the longer one adds.
    keys = np.array(standard["instrument_key"].to_pylist())
    assert (
        longer["history_bars"].to_numpy()[keys == PEPE]
        > standard["history_bars"].to_numpy()[keys == PEPE]
    ).all()

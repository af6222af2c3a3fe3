"""What must hold of a day's candle table: pure functions that list the violations.

Each returns a list of human-readable problems (empty when the table is sound), at
most ``LIMIT`` of them, each naming the instrument and the bar.
"""

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.candles.bars import SIDES, US_PER_DAY, US_PER_SECOND, micros

LIMIT = 20
# Sums of floats in another order differ in the last bits, never more.
RELATIVE_TOLERANCE = 1e-9


def _problems(table: pa.Table, bad: np.ndarray, what: str) -> list[str]:
    rows = np.flatnonzero(bad)[:LIMIT]
    keys = table["instrument_key"].take(pa.array(rows)).to_pylist()
    stamps = table["timestamp"].take(pa.array(rows)).to_pylist()
    return [f"{key} {stamp.isoformat()}: {what}" for key, stamp in zip(keys, stamps, strict=True)]


def _values(table: pa.Table, name: str) -> np.ndarray:
    return table[name].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isclose(a, b, rtol=RELATIVE_TOLERANCE, atol=0.0, equal_nan=True)


def ohlc_violations(table: pa.Table) -> list[str]:
    """low ≤ open, close, vwap ≤ high; prices present exactly when something traded."""
    o, h, low, c, vwap = (_values(table, n) for n in ("open", "high", "low", "close", "vwap"))
    traded = _values(table, "trade_count") > 0
    problems = []
    priced = ~np.isnan(np.stack([o, h, low, c, vwap]))
    problems += _problems(table, traded & ~priced.all(0), "traded bar without prices")
    problems += _problems(table, ~traded & priced.any(0), "prices on a bar without trades")
    slack = RELATIVE_TOLERANCE * np.abs(h)
    with np.errstate(invalid="ignore"):
        outside = (
            (low > np.minimum(o, c) + slack)
            | (h < np.maximum(o, c) - slack)
            | (vwap < low - slack)
            | (vwap > h + slack)
        )
    return problems + _problems(table, outside, "open/close/vwap outside [low, high]")


def volume_violations(table: pa.Table) -> list[str]:
    """volume = buy + sell + unknown volume; trade_count = the side counts' sum."""
    volume = _values(table, "volume")
    sides = sum(_values(table, f"{side}_volume") for side in SIDES)
    count = _values(table, "trade_count")
    side_counts = sum(_values(table, f"{side}_count") for side in SIDES)
    problems = _problems(table, ~_close(volume, sides), "volume is not buy + sell + unknown")
    return problems + _problems(
        table, ~_close(count, side_counts), "trade_count is not the side counts' sum"
    )


def alignment_violations(table: pa.Table, day_start_us: int, seconds: int) -> list[str]:
    """Every bar starts on the timeframe's grid inside the day, and every instrument has
    every bar of the day."""
    stamps = micros(table["timestamp"])
    offset = stamps - day_start_us
    step = seconds * US_PER_SECOND
    problems = _problems(
        table,
        (offset < 0) | (offset >= US_PER_DAY) | (offset % step != 0),
        f"bar not on the {seconds} s grid of the day",
    )
    expected = US_PER_DAY // step
    counts = table.group_by("instrument_key").aggregate([("timestamp", "count_distinct")])
    for key, found in zip(
        counts["instrument_key"].to_pylist(),
        counts["timestamp_count_distinct"].to_pylist(),
        strict=True,
    ):
        if found != expected:
            problems.append(f"{key}: {found} distinct bars, expected {expected}")
    return problems[:LIMIT]


def duplicate_violations(table: pa.Table) -> list[str]:
    """No (instrument_key, timestamp) appears twice."""
    counted = table.group_by(["instrument_key", "timestamp"]).aggregate([([], "count_all")])
    twice = counted.filter(pc.greater(counted["count_all"], 1))
    return [
        f"{row['instrument_key']} {row['timestamp'].isoformat()}: {row['count_all']} rows"
        for row in twice.slice(0, LIMIT).to_pylist()
    ]


def count_violations(table: pa.Table, ticks_in_day: dict[str, int]) -> list[str]:
    """Per instrument, the bars' trade counts add up to the trades stamped in the day."""
    totals = table.group_by("instrument_key").aggregate([("trade_count", "sum")])
    found = dict(
        zip(
            totals["instrument_key"].to_pylist(), totals["trade_count_sum"].to_pylist(), strict=True
        )
    )
    problems = []
    for key in sorted(set(found) | set(ticks_in_day)):
        bars, ticks = found.get(key), ticks_in_day.get(key, 0)
        if bars is None and ticks:
            problems.append(f"{key}: {ticks} trades in the day but no bars")
        elif bars is not None and (bars or 0) != ticks:
            problems.append(f"{key}: bars count {bars} trades, the ticks hold {ticks}")
    return problems[:LIMIT]


# How a coarse bar follows from the finer bars inside it.
_SUMMED = (
    "volume",
    "quote_volume",
    "trade_count",
    *(f"{side}_volume" for side in SIDES),
    *(f"{side}_count" for side in SIDES),
)


def _first(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return present[0] if present.size else np.nan


def _last(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return present[-1] if present.size else np.nan


def _nanmax(values: np.ndarray) -> float:
    return np.nan if np.isnan(values).all() else float(np.nanmax(values))


def _nanmin(values: np.ndarray) -> float:
    return np.nan if np.isnan(values).all() else float(np.nanmin(values))


_FOLDED: dict[str, Callable[[np.ndarray], float]] = {
    "open": _first,
    "close": _last,
    "high": _nanmax,
    "low": _nanmin,
}


def cross_timeframe_violations(coarse: pa.Table, fine: pa.Table, seconds: int) -> list[str]:
    """Each coarse bar agrees with the finer bars inside it: sums add up, open is the
    first open, close the last close, high the highest high, low the lowest low."""
    coarse = coarse.sort_by([("instrument_key", "ascending"), ("timestamp", "ascending")])
    fine = fine.sort_by([("instrument_key", "ascending"), ("timestamp", "ascending")])
    if set(coarse["instrument_key"].to_pylist()) != set(fine["instrument_key"].to_pylist()):
        return ["the two timeframes hold different instruments"]
    stamps = micros(coarse["timestamp"])
    fine_stamps = micros(fine["timestamp"])
    keys = coarse["instrument_key"].to_numpy(zero_copy_only=False)
    fine_keys = fine["instrument_key"].to_numpy(zero_copy_only=False)
    step = seconds * US_PER_SECOND
    bad = np.zeros(coarse.num_rows, dtype=bool)
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        inside = np.flatnonzero(fine_keys == key)
        # The coarse bar each fine bar falls into.
        owner = np.searchsorted(stamps[rows], fine_stamps[inside], side="right") - 1
        if np.any(owner < 0) or np.any(fine_stamps[inside] >= stamps[rows][owner] + step):
            bad[rows] = True
            continue
        for name in _SUMMED:
            folded = np.bincount(owner, _values(fine, name)[inside], minlength=rows.size)
            bad[rows] |= ~_close(_values(coarse, name)[rows], folded)
        for name, fold in _FOLDED.items():
            values = _values(fine, name)[inside]
            folded = np.array([fold(values[owner == n]) for n in range(rows.size)])
            bad[rows] |= ~_close(_values(coarse, name)[rows], folded)
    return _problems(coarse, bad, "disagrees with the finer bars inside it")

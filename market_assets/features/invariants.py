"""What every stored MFT feature partition must satisfy, as pure checks over its table.

Each returns a list of problems (empty when the invariant holds), at most ``LIMIT``.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.features.columns import (
    FEATURES,
    PRICE_FEATURES,
    UNDEFINED_WHEN_FLAT,
    WINDOWS,
)

LIMIT = 20
# Groups whose inputs the candles always carry once a bar has a price: a null there
# with a full window is a hole, not an absent input.
ALWAYS_KNOWN = (PRICE_FEATURES - {"iv_minus_realized_20"}) | {
    "dollar_volume",
    "trade_intensity",
    "cumulative_delta",
    "relative_volume_20d",
    "signed_volume_imbalance_20",
}


def _needed(table: pa.Table, name: str, bars_per_day: int, day_start_us: int, seconds: int):
    opens = table["timestamp"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    index_in_day = (opens - day_start_us) // (seconds * 1_000_000)
    needed = WINDOWS[name](bars_per_day, index_in_day)
    return np.broadcast_to(np.asarray(needed, dtype=np.int64), index_in_day.shape)


def _where(table: pa.Table, bad: np.ndarray, what: str) -> list[str]:
    rows = np.flatnonzero(bad)[:LIMIT]
    keys = table["instrument_key"].take(pa.array(rows)).to_pylist()
    stamps = table["timestamp"].take(pa.array(rows)).to_pylist()
    return [f"{key} {stamp.isoformat()}: {what}" for key, stamp in zip(keys, stamps, strict=True)]


def finite_violations(table: pa.Table) -> list[str]:
    """No NaN or infinity in a non-null feature value."""
    problems: list[str] = []
    for column, _ in FEATURES:
        values = table[column.name].to_numpy(zero_copy_only=False)
        present = ~pc.is_null(table[column.name]).to_numpy(zero_copy_only=False)
        problems += _where(table, present & ~np.isfinite(values), f"{column.name} not finite")
    return problems[:LIMIT]


def warmup_violations(table: pa.Table, day_start_us: int, seconds: int) -> list[str]:
    """A feature has no value where ``history_bars`` (for price features also
    ``price_bars``) is short of its window; and where the window is full, a feature of
    prices or volumes has one, unless it is a ratio whose denominator is 0."""
    bars_per_day = 86_400 // seconds
    history = table["history_bars"].to_numpy()
    priced = table["price_bars"].to_numpy()
    problems: list[str] = []
    for column, _ in FEATURES:
        name = column.name
        needed = _needed(table, name, bars_per_day, day_start_us, seconds)
        enough = (np.minimum(history, priced) if name in PRICE_FEATURES else history) >= needed
        null = pc.is_null(table[name]).to_numpy(zero_copy_only=False)
        problems += _where(table, ~null & ~enough, f"{name} from a partial window")
        if name in ALWAYS_KNOWN and name not in UNDEFINED_WHEN_FLAT:
            problems += _where(table, null & enough, f"{name} missing with a full window")
    return problems[:LIMIT]


def range_violations(table: pa.Table) -> list[str]:
    """Every value within its column's declared bounds (RSI in [0, 100], volatilities
    ≥ 0, imbalances in [−1, 1], ...)."""
    problems: list[str] = []
    for column, _ in FEATURES:
        values = table[column.name].to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            bad = np.zeros(values.size, dtype=bool)
            if column.ge is not None:
                bad |= values < column.ge
            if column.le is not None:
                bad |= values > column.le
        bounds = f"[{column.ge}, {column.le}]"
        problems += _where(table, bad, f"{column.name} outside {bounds}")
    return problems[:LIMIT]

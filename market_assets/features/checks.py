"""The checks of every partition of every MFT feature timeframe.

They run inside the feature step, on the very table the step hands to the lake (one
step, not five that would each read the partition back): blocking, so a failure keeps
the warehouse table from loading it.
"""

from collections.abc import Callable, Iterator

import pyarrow as pa
from dagster import AssetCheckResult, AssetCheckSpec, AssetKey, MetadataValue

from market_assets.candles.invariants import alignment_violations, duplicate_violations
from market_assets.features.invariants import (
    finite_violations,
    range_violations,
    warmup_violations,
)

# (name, description, problems of the table for the partition's midnight and timeframe)
INVARIANTS: tuple[tuple[str, str, Callable[[pa.Table, int, int], list[str]]], ...] = (
    ("unique", "No (instrument_key, timestamp) twice.", lambda t, d, s: duplicate_violations(t)),
    (
        "aligned",
        "Every row is a bar of the candles' grid of its day; every instrument has every bar.",
        alignment_violations,
    ),
    ("finite", "No NaN or infinity in a non-null value.", lambda t, d, s: finite_violations(t)),
    (
        "warmup",
        "Nulls only where history_bars (price_bars for price features) is short of the "
        "window, or where the input is absent or the ratio undefined; no value from a "
        "partial window.",
        warmup_violations,
    ),
    (
        "ranges",
        "Every value within its declared bounds: RSI in [0, 100], volatilities ≥ 0, "
        "imbalances in [−1, 1].",
        lambda t, d, s: range_violations(t),
    ),
)


def feature_check_specs(key: AssetKey) -> list[AssetCheckSpec]:
    """The blocking checks of the feature asset ``key``."""
    return [
        AssetCheckSpec(name, asset=key, blocking=True, description=description)
        for name, description, _ in INVARIANTS
    ]


def check_results(table: pa.Table, day_start_us: int, seconds: int) -> Iterator[AssetCheckResult]:
    """Every invariant's verdict on ``table``, the features of the day at midnight
    ``day_start_us`` (µs UTC) of a ``seconds`` timeframe."""
    for name, _, find in INVARIANTS:
        problems = find(table, day_start_us, seconds)
        yield AssetCheckResult(
            check_name=name,
            passed=not problems,
            metadata={"problems": MetadataValue.json(problems), "rows": table.num_rows},
        )

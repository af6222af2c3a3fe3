"""Asset checks on every partition of every MFT feature timeframe."""

from collections.abc import Callable

import pyarrow as pa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    MetadataValue,
    PartitionsDefinition,
    asset_check,
)

from market_assets.candles.bars import midnight_us
from market_assets.candles.invariants import alignment_violations, duplicate_violations
from market_assets.features.assets import feature_key
from market_assets.features.invariants import (
    finite_violations,
    range_violations,
    warmup_violations,
)
from market_assets.runs import day_and_venue
from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES

# (name, description, problems of the table for the partition's day and timeframe)
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


def build_feature_checks(
    timeframe: str, partitions: PartitionsDefinition
) -> list[AssetChecksDefinition]:
    """The blocking checks of ``features/mft_{timeframe}``."""
    seconds = TIMEFRAMES[timeframe]

    def check_of(name: str, description: str, find) -> AssetChecksDefinition:
        @asset_check(
            asset=feature_key(timeframe),
            name=name,
            partitions_def=partitions,
            blocking=True,
            description=description,
        )
        def check(context: AssetCheckExecutionContext, features: pa.Table) -> AssetCheckResult:
            day, _ = day_and_venue(context)
            problems = find(features, midnight_us(day), seconds)
            return AssetCheckResult(
                passed=not problems,
                metadata={"problems": MetadataValue.json(problems), "rows": features.num_rows},
            )

        return check

    return [check_of(*invariant) for invariant in INVARIANTS]


def build_all_feature_checks(partitions: PartitionsDefinition) -> list[AssetChecksDefinition]:
    return [
        check
        for timeframe in FEATURE_TIMEFRAMES
        for check in build_feature_checks(timeframe, partitions)
    ]

"""Asset checks on every partition of every candle timeframe."""

from collections.abc import Callable

import pyarrow as pa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetIn,
    MetadataValue,
    PartitionsDefinition,
    asset_check,
)

from market_assets.candles.assets import candle_key
from market_assets.candles.bars import midnight_us
from market_assets.candles.invariants import (
    alignment_violations,
    count_violations,
    cross_timeframe_violations,
    duplicate_violations,
    ohlc_violations,
    volume_violations,
)
from market_assets.runs import day_and_venue
from partitions import TIMEFRAMES
from resources.lake_handles import DayWindow, LakePartition

OHLC_CHECK = "ohlc"
VOLUME_CHECK = "volume_sums"
ALIGNMENT_CHECK = "aligned"
DUPLICATE_CHECK = "unique"
COUNT_CHECK = "trade_counts"
CROSS_TIMEFRAME_CHECK = "cross_timeframe"


def _result(problems: list[str], **metadata: object) -> AssetCheckResult:
    return AssetCheckResult(
        passed=not problems,
        metadata={"problems": MetadataValue.json(problems), **metadata},
    )


def build_candle_checks(
    timeframe: str, finer: str | None, partitions: PartitionsDefinition
) -> list[AssetChecksDefinition]:
    """The checks of ``candles/{timeframe}``; ``finer`` is the timeframe its bars are
    compared with (None for the finest)."""
    seconds = TIMEFRAMES[timeframe]
    key = candle_key(timeframe)

    def table_check(
        name: str, description: str, find: Callable[[pa.Table], list[str]]
    ) -> AssetChecksDefinition:
        @asset_check(
            asset=key,
            name=name,
            partitions_def=partitions,
            blocking=True,
            description=description,
        )
        def check(context: AssetCheckExecutionContext, candles: pa.Table) -> AssetCheckResult:
            return _result(find(candles), bars=candles.num_rows)

        return check

    checks = [
        table_check(
            OHLC_CHECK,
            "low ≤ open, close, vwap ≤ high; prices exactly on bars with trades.",
            ohlc_violations,
        ),
        table_check(
            VOLUME_CHECK,
            "volume = buy + sell + unknown volume; trade_count = the side counts' sum.",
            volume_violations,
        ),
        table_check(DUPLICATE_CHECK, "No (instrument_key, timestamp) twice.", duplicate_violations),
    ]

    @asset_check(
        asset=key,
        name=ALIGNMENT_CHECK,
        partitions_def=partitions,
        blocking=True,
        description=f"Every bar starts on the {timeframe} grid of its day; every instrument "
        "has every bar of the day.",
    )
    def aligned(context: AssetCheckExecutionContext, candles: pa.Table) -> AssetCheckResult:
        day, _ = day_and_venue(context)
        return _result(alignment_violations(candles, midnight_us(day), seconds))

    @asset_check(
        asset=key,
        name=COUNT_CHECK,
        partitions_def=partitions,
        # Checks take no partition mappings: the next day is looked up in the lake.
        additional_ins={"trades": AssetIn(key=["ticks", "trades"])},
        description="Per instrument, the bars' trade counts add up to the trades stamped in "
        "the day across its own and the next day's Tardis files, as the lake holds them "
        "now: candles built before the next day landed fail until they are rebuilt.",
    )
    def trade_counts(
        context: AssetCheckExecutionContext, candles: pa.Table, trades: LakePartition
    ) -> AssetCheckResult:
        window = DayWindow.open(trades.lake, trades.asset_path, trades.day, trades.venue)
        ticks = trades_in_day(window)
        return _result(
            count_violations(candles, ticks),
            trades=sum(ticks.values()),
            next_day_included=window.next_day_included,
        )

    checks += [aligned, trade_counts]
    if finer is None:
        return checks

    @asset_check(
        asset=key,
        name=CROSS_TIMEFRAME_CHECK,
        partitions_def=partitions,
        additional_ins={"finer": AssetIn(key=candle_key(finer))},
        description=f"Each bar agrees with the {finer} bars inside it: volumes and counts "
        "add up, open is the first open, close the last close, high and low the extremes.",
    )
    def cross_timeframe(
        context: AssetCheckExecutionContext, candles: pa.Table, finer: pa.Table
    ) -> AssetCheckResult:
        return _result(cross_timeframe_violations(candles, finer, seconds))

    return [*checks, cross_timeframe]


def trades_in_day(trades: DayWindow) -> dict[str, int]:
    """Per instrument, the trades of the day window stamped inside the day, counted
    straight from the lake (its files' footers, and the row groups that straddle
    midnight)."""
    return trades.rows_inside("instrument_key")


def build_all_candle_checks(partitions: PartitionsDefinition) -> list[AssetChecksDefinition]:
    """The checks of every candle timeframe, each compared with the next finer one."""
    names = list(TIMEFRAMES)
    return [
        check
        for n, timeframe in enumerate(names)
        for check in build_candle_checks(timeframe, names[n - 1] if n else None, partitions)
    ]

"""``features/mft_{timeframe}``: each feature timeframe's MFT features of a (day, venue).

Day D reads ``candles/{timeframe}`` of D and of the look-back days before it
(``with_previous_days``); a look-back day not in the lake is missing bars, so the
windows that would span it are null until enough history follows it.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    AutomationCondition,
    Failure,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset,
)

from market_assets.candles.assets import candle_key
from market_assets.candles.bars import midnight_us
from market_assets.features.build import day_features, lookback_days
from market_assets.features.checks import check_results, feature_check_specs
from market_assets.features.columns import MFT
from market_assets.features.history import INPUTS
from market_assets.runs import ONE_PARTITION_PER_RUN, day_and_venue
from market_assets.schemas import column_schema_metadata
from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES, with_previous_days
from resources.lake_handles import DayRange

# Built when their candles are, over the last two days: the candles of D are rebuilt
# when D+1's ticks land, and every feature day whose look-back holds D follows. Missing
# look-back days do not hold a day back (they are missing bars, not a reason to wait).
FEATURE_AUTOMATION = (
    AutomationCondition.in_latest_time_window(timedelta(days=2))
    & AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after their candles, over the last two days")


# The candle columns the features read (the rest of each look-back file stays on disk).
HISTORY_COLUMNS = ("instrument_key", "timestamp", "timestamp_out", *INPUTS)


def feature_key(timeframe: str) -> AssetKey:
    return AssetKey(["features", f"mft_{timeframe}"])


def build_feature_asset(timeframe: str, partitions: PartitionsDefinition) -> AssetsDefinition:
    """``features/mft_{timeframe}`` from ``candles/{timeframe}`` of the day and its
    look-back."""
    seconds = TIMEFRAMES[timeframe]
    days = lookback_days(seconds)

    @asset(
        key=feature_key(timeframe),
        ins={
            "candles": AssetIn(
                key=candle_key(timeframe), partition_mapping=with_previous_days(days)
            )
        },
        partitions_def=partitions,
        group_name="features",
        kinds={"parquet"},
        backfill_policy=ONE_PARTITION_PER_RUN,
        automation_condition=FEATURE_AUTOMATION,
        metadata={**column_schema_metadata(MFT), "lookback_days": days},
        check_specs=feature_check_specs(feature_key(timeframe)),
        description=(
            f"MFT features of every instrument's {timeframe} bars of the (day, venue), from "
            f"its candles and those of the {days} days before: returns, volatility "
            "estimators, TA-Lib technicals, flow, derivatives, book and option features "
            "(README, Features). Each row says when it could be known (known_at) and on "
            "how many bars of history it stands (history_bars)."
        ),
    )
    def features(
        context: AssetExecutionContext, candles: DayRange
    ) -> Iterator[Output[pa.Table] | AssetCheckResult]:
        day, venue = day_and_venue(context)
        table = _features(context, candles, day, venue, timeframe)
        yield table
        yield from check_results(table.value, midnight_us(day), seconds)

    return features


def _features(
    context: AssetExecutionContext, candles: DayRange, day: date, venue: str, timeframe: str
) -> Output[pa.Table]:
    label = f"{day}|{venue} {timeframe}"
    history, missing = candles.read(columns=HISTORY_COLUMNS)
    if history is None or day.isoformat() in missing:
        raise Failure(
            description=(
                f"{label}: candles/{timeframe} of {day}|{venue} are not in the lake, so "
                f"there is nothing to compute features for. Materialise them first: dagster "
                f"asset materialize -m market_assets --select 'candles/{timeframe}' "
                f"--partition '{day}|{venue}'"
            ),
            allow_retries=False,
        )
    if missing:
        context.log.warning(
            f"{label}: {len(missing)} look-back day(s) not in the lake ({_days(missing)}); "
            "windows that would span them are null"
        )
    context.log.info(f"{label}: {history.num_rows:,} candle rows of history")
    table = day_features(history, midnight_us(day), TIMEFRAMES[timeframe])
    nulls = {name: table[name].null_count for name in MFT.names[4:]}
    return Output(
        table,
        metadata={
            "rows": MetadataValue.int(table.num_rows),
            "instruments": MetadataValue.json(
                sorted(set(pc.unique(table["instrument_key"]).to_pylist()))
            ),
            "history_days": MetadataValue.int(len(candles.days) - len(missing)),
            "missing_history_days": MetadataValue.json(missing),
            "null_share": MetadataValue.json(
                {name: round(count / max(table.num_rows, 1), 4) for name, count in nulls.items()}
            ),
        },
    )


def _days(days: list[str]) -> str:
    return ", ".join(days) if len(days) <= 5 else f"{days[0]} … {days[-1]}"


def build_feature_assets(partitions: PartitionsDefinition) -> dict[str, AssetsDefinition]:
    """Timeframe -> its ``features/mft_{timeframe}`` asset."""
    return {
        timeframe: build_feature_asset(timeframe, partitions) for timeframe in FEATURE_TIMEFRAMES
    }

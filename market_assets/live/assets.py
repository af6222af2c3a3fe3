"""The live service's tables as external assets: Dagster does not build them (the live
service appends to them outside runs, see ``live``), it observes them.

Each ``live/live_candles_{tf}`` carries a freshness expectation: a bar of the timeframe
closes every timeframe, so the table's latest stored bar should be no older than the
timeframe plus ``FRESHNESS_SLACK`` (grace, flush, the sensor's interval). A stalled
stream fails its freshness check in the UI. The batch ``candles/{tf}`` stay the
authoritative history.
"""

import warnings
from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetChecksDefinition,
    AssetsDefinition,
    AssetSpec,
    build_last_update_freshness_checks,
)
from dagster._utils.warnings import SupersessionWarning

from live.tables import table_key
from market_assets.candles.columns import CANDLES
from market_assets.schemas import column_schema_metadata
from partitions import TIMEFRAMES

FRESHNESS_SLACK = timedelta(minutes=2)


def freshness_window(timeframe: str) -> timedelta:
    """How old the newest stored bar of ``timeframe`` may be before the stream counts as
    stalled."""
    return timedelta(seconds=TIMEFRAMES[timeframe]) + FRESHNESS_SLACK


def live_table_assets(timeframes: Sequence[str] = tuple(TIMEFRAMES)) -> list[AssetsDefinition]:
    """The ``live/live_candles_{tf}`` external assets of the timeframes the live service
    builds (``MARKET_DATA_LIVE_TIMEFRAMES``)."""
    specs = [
        AssetSpec(
            table_key(timeframe),
            description=(
                f"Closed {timeframe} bars from the live service, appended as they close (each "
                "bar once): the candle columns, then complete (false when a feed outage or the "
                "service's start touched the bar) and known_at (when the service emitted it). "
                "External: written by `python -m live serve`, observed by live_tables_sensor."
            ),
            group_name="live",
            metadata=column_schema_metadata(CANDLES),
        )
        for timeframe in timeframes
    ]
    # One definition per table (not bare specs), like every other asset of the location.
    return [AssetsDefinition(specs=[spec]) for spec in specs]


def live_freshness_checks(
    timeframes: Sequence[str] = tuple(TIMEFRAMES),
) -> list[AssetChecksDefinition]:
    """One last-update freshness check per table, against its timeframe's window."""
    # Dagster's newer FreshnessPolicy reads materializations only; these tables are
    # observed (the live service writes them outside runs), which these checks do read.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        return [
            check
            for timeframe in timeframes
            for check in build_last_update_freshness_checks(
                assets=[table_key(timeframe)], lower_bound_delta=freshness_window(timeframe)
            )
        ]

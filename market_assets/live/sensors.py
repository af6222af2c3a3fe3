"""Dagster sees the live stream: a sensor observes the ``live_candles_{tf}`` tables (row
count, latest bar, incomplete bars) and a second one evaluates their freshness checks."""

import warnings
from collections.abc import Sequence

from dagster import (
    AssetChecksDefinition,
    AssetObservation,
    DefaultSensorStatus,
    MetadataValue,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    build_sensor_for_freshness_checks,
    sensor,
)
from dagster._utils.warnings import SupersessionWarning

from live.tables import table_key
from market_assets.live.resources import LiveTablesResource

OBSERVE_EVERY_SECONDS = 30


@sensor(
    name="live_tables_sensor",
    minimum_interval_seconds=OBSERVE_EVERY_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Observes the live service's live_candles tables: rows, latest bar, when it "
    "was stored (the freshness checks read that), bars marked incomplete.",
)
def live_tables_sensor(
    context: SensorEvaluationContext, live_tables: LiveTablesResource
) -> SensorResult:
    tables = live_tables.tables()
    observations = []
    for timeframe in live_tables.timeframes:
        summary = tables.summary(timeframe)
        metadata: dict[str, MetadataValue] = {
            "rows": MetadataValue.int(summary.rows),
            "incomplete_bars": MetadataValue.int(summary.incomplete),
        }
        if summary.last_bar_us is not None and summary.last_known_at_us is not None:
            metadata["last_bar"] = MetadataValue.timestamp(summary.last_bar_us / 1e6)
            # The freshness check reads when the newest bar was stored, not this observation.
            metadata["dagster/last_updated_timestamp"] = MetadataValue.timestamp(
                summary.last_known_at_us / 1e6
            )
        observations.append(AssetObservation(table_key(timeframe), metadata=metadata))
    return SensorResult(asset_events=observations)


def live_sensors(checks: Sequence[AssetChecksDefinition]) -> list[SensorDefinition]:
    with warnings.catch_warnings():  # superseded, see market_assets.live.assets
        warnings.simplefilter("ignore", SupersessionWarning)
        freshness = build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="live_freshness_sensor",
            default_status=DefaultSensorStatus.RUNNING,
        )
    return [live_tables_sensor, freshness]

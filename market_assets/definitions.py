"""The code location: every asset, check and resource of the market-data graph."""

from dagster import Definitions, in_process_executor

from market_assets.automation.sensors import (
    automation_sensor,
    daily_ingest_job,
    derived_job,
    recent_gaps_sensor,
    tardis_exports_sensor,
)
from market_assets.candles.assets import candles
from market_assets.candles.checks import CANDLE_CHECKS
from market_assets.gaps.assets import (
    coverage_heatmap,
    coverage_heatmap_job,
    coverage_heatmap_schedule,
)
from market_assets.instruments.assets import instrument_definitions
from market_assets.ticks.assets import TICK_ASSETS
from market_assets.ticks.checks import TICK_CHECKS
from market_assets.warehouse.assets import WAREHOUSE_ASSETS
from resources import resources_from_env

defs = Definitions(
    assets=[
        instrument_definitions,
        *TICK_ASSETS.values(),
        candles,
        *WAREHOUSE_ASSETS.values(),
        coverage_heatmap,
    ],
    asset_checks=[*TICK_CHECKS, *CANDLE_CHECKS],
    jobs=[daily_ingest_job, derived_job, coverage_heatmap_job],
    schedules=[coverage_heatmap_schedule],
    sensors=[tardis_exports_sensor, recent_gaps_sensor, automation_sensor],
    resources=resources_from_env(),
    # A run is the unit of parallelism (one per day and venue, queued and pooled); its
    # steps run in one process instead of paying Dagster's start-up for each of them.
    executor=in_process_executor,
)

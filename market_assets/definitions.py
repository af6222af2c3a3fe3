"""The code location: every asset, check, job, sensor and resource of the market-data graph.

The one place the environment is read (``Environment.read()``): it chooses the resources
and the universe, whose venues are the partitions' venue dimension.
"""

from dagster import Definitions, in_process_executor

from market_assets.automation.jobs import daily_ingest_job, derived_job
from market_assets.automation.sensors import (
    automation_sensor,
    recent_gaps_sensor,
    tardis_exports_sensor,
)
from market_assets.candles.assets import build_candles
from market_assets.candles.checks import build_all_candle_checks
from market_assets.features.assets import build_feature_assets
from market_assets.gaps.assets import build_coverage_heatmap
from market_assets.gaps.schedules import coverage_heatmap_job, coverage_heatmap_schedule
from market_assets.instruments.assets import build_instrument_definitions
from market_assets.live.assets import live_freshness_checks, live_table_assets
from market_assets.live.resources import live_tables_resource
from market_assets.live.sensors import live_sensors
from market_assets.ticks.assets import build_tick_assets
from market_assets.ticks.checks import build_all_tick_checks
from market_assets.universe import load_universe
from market_assets.warehouse.assets import build_warehouse_assets
from partitions import market_partitions
from resources.bindings import build_resources
from resources.environment import Environment


def build_definitions(environment: Environment) -> Definitions:
    """The whole graph for ``environment``: its universe's venues, its resources."""
    universe = load_universe(environment.universe_path or None)
    partitions = market_partitions(universe.venue_ids)
    ticks = build_tick_assets(partitions)
    partitioned = [
        build_instrument_definitions(partitions),
        *ticks.values(),
        build_candles(partitions),
        *build_feature_assets(partitions).values(),
        *build_warehouse_assets(partitions).values(),
    ]
    checks = [
        *build_all_tick_checks(ticks, partitions),
        *build_all_candle_checks(partitions),
    ]
    heatmap = build_coverage_heatmap(
        partitions,
        [key for asset in partitioned for key in asset.keys],
        [key for check in checks for key in check.check_keys],
    )
    freshness = live_freshness_checks(environment.live_timeframes)
    return Definitions(
        assets=[*partitioned, heatmap, *live_table_assets(environment.live_timeframes)],
        asset_checks=[*checks, *freshness],
        jobs=[daily_ingest_job, derived_job, coverage_heatmap_job],
        schedules=[coverage_heatmap_schedule],
        sensors=[
            tardis_exports_sensor,
            recent_gaps_sensor,
            automation_sensor,
            *live_sensors(freshness),
        ],
        resources={
            **build_resources(environment),
            "live_tables": live_tables_resource(environment),
        },
        # A run is the unit of parallelism (one per day and venue, queued and pooled); its
        # steps run in one process instead of paying Dagster's start-up for each of them.
        executor=in_process_executor,
    )


defs = build_definitions(Environment.read())

"""The code location: every asset, check and resource of the market-data graph."""

from dagster import Definitions

from market_assets.automation.sensors import (
    daily_ingest_job,
    recent_gaps_sensor,
    tardis_exports_sensor,
)
from market_assets.instruments.assets import instrument_definitions
from market_assets.ticks.assets import TICK_ASSETS
from market_assets.ticks.checks import build_tick_checks
from market_assets.ticks.types import TICK_TYPES
from resources import resources_from_env

defs = Definitions(
    assets=[instrument_definitions, *TICK_ASSETS.values()],
    asset_checks=[
        check
        for tick_type in TICK_TYPES
        for check in build_tick_checks(TICK_ASSETS[tick_type.data_type], tick_type)
    ],
    jobs=[daily_ingest_job],
    sensors=[tardis_exports_sensor, recent_gaps_sensor],
    resources=resources_from_env(),
)

"""The code location: every asset, check and resource of the market-data graph."""

from dagster import Definitions

from market_assets.instruments.assets import instrument_definitions
from market_assets.ticks.assets import trades
from market_assets.ticks.checks import build_tick_checks
from resources import resources_from_env

tick_assets = [trades]

defs = Definitions(
    assets=[instrument_definitions, *tick_assets],
    asset_checks=[check for asset in tick_assets for check in build_tick_checks(asset)],
    resources=resources_from_env(),
)

"""The coverage heatmap asset: the gap report drawn as date × venue, shown in the UI."""

import base64
from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    define_asset_job,
)
from pydantic import Field

from market_assets.automation.sensors import ingested_venues
from market_assets.candles.assets import candles
from market_assets.candles.checks import CANDLE_CHECKS
from market_assets.gaps.heatmap import heatmap_png
from market_assets.gaps.scan import coverage_report
from market_assets.instruments.assets import instrument_definitions
from market_assets.ticks.assets import TICK_ASSETS
from market_assets.ticks.checks import TICK_CHECKS
from market_assets.warehouse.assets import WAREHOUSE_ASSETS

HEATMAP_DAYS = 90


class HeatmapWindow(Config):
    """The days the heatmap covers: ``days`` up to ``last`` (``YYYY-MM-DD``; default
    yesterday, UTC)."""

    days: int = Field(default=HEATMAP_DAYS, gt=0, le=3000)
    last: str = Field(default="", description="Last day drawn, YYYY-MM-DD; empty: yesterday.")


@asset(
    group_name="gaps",
    kinds={"png"},
    description=(
        f"Coverage of the last {HEATMAP_DAYS} days (configurable) for every ingested venue: "
        "each cell is the worst state of a (day, venue) over instrument definitions, raw "
        "ticks, candles and warehouse tables."
    ),
)
def coverage_heatmap(context: AssetExecutionContext, config: HeatmapWindow) -> MaterializeResult:
    last = (
        date.fromisoformat(config.last)
        if config.last
        else datetime.now(UTC).date() - timedelta(days=1)
    )
    first = last - timedelta(days=config.days - 1)
    venues = ingested_venues()
    assets = [
        instrument_definitions.key,
        *(a.key for a in TICK_ASSETS.values()),
        *candles.keys,
        *(a.key for a in WAREHOUSE_ASSETS.values()),
    ]
    checks = [key for check in [*TICK_CHECKS, *CANDLE_CHECKS] for key in check.check_keys]
    coverages = coverage_report(context.instance, checks, assets, venues, first, last)
    png = base64.b64encode(heatmap_png(coverages, venues, first, last)).decode()
    return MaterializeResult(
        metadata={
            "heatmap": MetadataValue.md(f"![coverage heatmap](data:image/png;base64,{png})"),
            "gaps": MetadataValue.int(sum(c.gaps for c in coverages)),
            "from": MetadataValue.text(first.isoformat()),
            "to": MetadataValue.text(last.isoformat()),
        }
    )


coverage_heatmap_job = define_asset_job(
    "coverage_heatmap_job", selection=AssetSelection.assets(coverage_heatmap)
)

# After Tardis' daily export (around 06:00 UTC) and the runs it triggers.
coverage_heatmap_schedule = ScheduleDefinition(
    job=coverage_heatmap_job,
    cron_schedule="0 9 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)

"""The coverage heatmap asset: the gap report drawn as date × venue, shown in the UI."""

import base64
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)
from pydantic import Field

from market_assets.gaps.heatmap import heatmap_png
from market_assets.gaps.scan import coverage_report
from resources.universe import UniverseResource

HEATMAP_DAYS = 90


class HeatmapWindow(Config):
    """The days the heatmap covers: ``days`` up to ``last`` (``YYYY-MM-DD``; default
    yesterday, UTC)."""

    days: int = Field(default=HEATMAP_DAYS, gt=0, le=3000)
    last: str = Field(default="", description="Last day drawn, YYYY-MM-DD; empty: yesterday.")


def build_coverage_heatmap(
    partitions: PartitionsDefinition,
    assets: Sequence[AssetKey],
    check_keys: Sequence[AssetCheckKey],
) -> AssetsDefinition:
    """The heatmap over ``assets`` (all partitioned by ``partitions``) and their checks."""

    @asset(
        group_name="gaps",
        kinds={"png"},
        description=(
            f"Coverage of the last {HEATMAP_DAYS} days (configurable) for every ingested "
            "venue: each cell is the worst state of a (day, venue) over every partitioned "
            "asset (instrument definitions, raw ticks, candles and warehouse tables) and "
            "its checks."
        ),
    )
    def coverage_heatmap(
        context: AssetExecutionContext, config: HeatmapWindow, universe: UniverseResource
    ) -> MaterializeResult:
        last = (
            date.fromisoformat(config.last)
            if config.last
            else datetime.now(UTC).date() - timedelta(days=1)
        )
        first = last - timedelta(days=config.days - 1)
        venues = universe.load().venue_ids
        coverages = coverage_report(
            context.instance, partitions, check_keys, assets, venues, first, last
        )
        png = base64.b64encode(heatmap_png(coverages, venues, first, last)).decode()
        return MaterializeResult(
            metadata={
                "heatmap": MetadataValue.md(f"![coverage heatmap](data:image/png;base64,{png})"),
                "gaps": MetadataValue.int(sum(c.gaps for c in coverages)),
                "from": MetadataValue.text(first.isoformat()),
                "to": MetadataValue.text(last.isoformat()),
            }
        )

    return coverage_heatmap

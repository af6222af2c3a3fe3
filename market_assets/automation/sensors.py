"""Sensors that keep the lake current: new Tardis exports, recent gaps, and the
automation conditions of what is derived from the ticks."""

import json
from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetPartitionStatus,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from market_assets.automation.exports import (
    last_complete_day,
    newly_exported_days,
    parse_exported_until,
)
from market_assets.automation.jobs import INGEST_SELECTION, daily_ingest_job
from partitions import market_partition_key
from resources.tardis import TardisError, TardisSource
from resources.universe import UniverseResource

# Tardis publishes a day around 06:00 UTC the next day; polling every 10 minutes lands
# it within minutes without load on the API (one small request per venue).
POLL_SECONDS = 600
# How far back recent gaps are re-requested; Dagster's built-in conditions only look at
# the latest partition window. Older gaps are for backfills.
GAP_LOOKBACK_DAYS = 7


# Declared, not implied: Dagster's implicit automation sensor starts stopped. Assets
# derived from the ticks (candles, warehouse tables) carry automation conditions that
# this sensor evaluates; the ingest itself is driven by the two sensors below.
automation_sensor = AutomationConditionSensorDefinition(
    "automation_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)


@sensor(
    job=daily_ingest_job,
    minimum_interval_seconds=POLL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Polls each venue's Tardis exchange details for datasets.exportedUntil and requests "
        "exactly the newly exported days' partitions. The first evaluation only records "
        "where Tardis stands: history is for backfills."
    ),
)
def tardis_exports_sensor(
    context: SensorEvaluationContext, tardis: TardisSource, universe: UniverseResource
) -> SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for venue in universe.load().venue_ids:
        current = exported_until(context, tardis, venue)
        if current is None:
            continue
        if venue in seen:
            for day in newly_exported_days(parse_exported_until(seen[venue]), current):
                requests.append(
                    RunRequest(
                        run_key=f"export:{day}|{venue}",
                        partition_key=market_partition_key(day, venue),
                        tags={"trigger": "tardis_export"},
                    )
                )
        else:
            context.log.info(f"{venue}: Tardis exported until {current}; watching from here")
        seen[venue] = current.isoformat()
    return SensorResult(
        run_requests=requests,
        cursor=json.dumps(seen, sort_keys=True),
        skip_reason=None if requests else SkipReason("no new Tardis export"),
    )


@sensor(
    job=daily_ingest_job,
    minimum_interval_seconds=3600,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        f"Re-requests (day, venue) partitions of the last {GAP_LOOKBACK_DAYS} exported days "
        "that are missing or failed for any ingested asset, at most once a day each."
    ),
)
def recent_gaps_sensor(
    context: SensorEvaluationContext, tardis: TardisSource, universe: UniverseResource
) -> SensorResult | SkipReason:
    today = datetime.now(UTC).date()
    requests = []
    for venue in universe.load().venue_ids:
        current = exported_until(context, tardis, venue)
        if current is None:
            continue
        last = last_complete_day(current)
        days = [last - timedelta(days=n) for n in range(GAP_LOOKBACK_DAYS)]
        for day in sorted(gaps(context, venue, days)):
            requests.append(
                RunRequest(
                    # One attempt per gap per calendar day, so a lasting failure is not hammered.
                    run_key=f"gap:{day}|{venue}@{today}",
                    partition_key=market_partition_key(day, venue),
                    tags={"trigger": "recent_gap"},
                )
            )
    if not requests:
        return SkipReason(f"no gaps in the last {GAP_LOOKBACK_DAYS} exported days")
    return SensorResult(run_requests=requests)


def exported_until(
    context: SensorEvaluationContext, tardis: TardisSource, venue: str
) -> datetime | None:
    """The venue's ``datasets.exportedUntil``; None (logged) when Tardis does not say."""
    try:
        return parse_exported_until(tardis.exchange_details(venue)["datasets"]["exportedUntil"])
    except (TardisError, KeyError) as error:
        context.log.warning(f"{venue}: no exportedUntil from Tardis ({error}); trying later")
        return None


def gaps(context: SensorEvaluationContext, venue: str, days: list[date]) -> set[date]:
    """The days among ``days`` where some ingested asset of ``venue`` is missing or failed."""
    keys = {str(market_partition_key(day, venue)): day for day in days}
    found: set[date] = set()
    graph = context.repository_def.asset_graph
    for asset_key in sorted(INGEST_SELECTION.resolve(graph)):
        partitions = graph.get(asset_key).partitions_def
        statuses = context.instance.get_status_by_partition(asset_key, list(keys), partitions) or {}
        for key, day in keys.items():
            if statuses.get(key) in (None, AssetPartitionStatus.FAILED):
                found.add(day)
    return found

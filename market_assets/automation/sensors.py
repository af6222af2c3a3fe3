"""Sensors that keep the lake current: new Tardis exports and recent gaps."""

import json
from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetKey,
    AssetPartitionStatus,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    in_process_executor,
    sensor,
)

from market_assets.automation.exports import (
    last_complete_day,
    newly_exported_days,
    parse_exported_until,
)
from market_assets.universe import load_universe
from partitions import market_partition_key, market_partitions
from resources import TardisSource
from resources.tardis import TardisError

# Everything that comes straight from Tardis for a (day, venue): requested as one run.
INGEST_SELECTION = AssetSelection.assets("instrument_definitions") | AssetSelection.groups("ticks")

daily_ingest_job = define_asset_job(
    "daily_ingest",
    selection=INGEST_SELECTION,
    description="Instrument definitions and every raw tick type of one (day, venue).",
    # The run is the unit of parallelism (one per day and venue, queued and pooled); its
    # thirty-odd steps run in one process instead of paying Dagster's start-up each.
    executor_def=in_process_executor,
)

# What is computed from the ticks: candles and their warehouse tables. The automation
# sensor keeps them current; this job is for backfilling them (one run per day and venue).
DERIVED_SELECTION = AssetSelection.groups("candles", "warehouse")
derived_job = define_asset_job(
    "candles_and_warehouse",
    selection=DERIVED_SELECTION,
    description="Candles of every timeframe and their warehouse tables for one (day, venue).",
    executor_def=in_process_executor,
)

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


def ingested_venues() -> list[str]:
    """Venues for which the universe asks for something."""
    return sorted(load_universe().venues)


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
def tardis_exports_sensor(context: SensorEvaluationContext, tardis: TardisSource) -> SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for venue in ingested_venues():
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
    context: SensorEvaluationContext, tardis: TardisSource
) -> SensorResult | SkipReason:
    today = datetime.now(UTC).date()
    requests = []
    for venue in ingested_venues():
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
    for asset_key in _ingest_asset_keys(context):
        statuses = (
            context.instance.get_status_by_partition(asset_key, list(keys), market_partitions) or {}
        )
        for key, day in keys.items():
            if statuses.get(key) in (None, AssetPartitionStatus.FAILED):
                found.add(day)
    return found


def _ingest_asset_keys(context: SensorEvaluationContext) -> list[AssetKey]:
    graph = context.repository_def.asset_graph
    return sorted(INGEST_SELECTION.resolve(graph))

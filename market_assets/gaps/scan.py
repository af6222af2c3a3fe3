"""The gap report's source: partition and check statuses from the Dagster instance."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from dagster import AssetCheckKey, AssetKey, DagsterInstance, PartitionsDefinition
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from market_assets.gaps.report import Coverage, classify
from partitions import market_partition_key


def coverage_report(
    instance: DagsterInstance,
    partitions: PartitionsDefinition,
    check_keys: Iterable[AssetCheckKey],
    assets: Sequence[AssetKey],
    venues: Sequence[str],
    first: date,
    last: date,
) -> list[Coverage]:
    """One ``Coverage`` per (asset, venue) over ``first``..``last`` (inclusive).

    ``partitions`` is the date × venue definition every asset of ``assets`` shares;
    ``check_keys`` are the partitioned checks whose latest failures count as gaps.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    keys = {str(market_partition_key(day, venue)): (day, venue) for venue in venues for day in days}
    coverages = []
    for asset_key in assets:
        statuses = instance.get_status_by_partition(asset_key, list(keys), partitions) or {}
        failed_checks: dict[tuple[date, str], list[str]] = defaultdict(list)
        checks = sorted(k for k in check_keys if k.asset_key == asset_key)
        for info in instance.event_log_storage.get_asset_check_partition_info(
            checks, partition_keys=list(keys)
        ):
            failing = info.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED
            if failing and info.is_current and info.partition_key in keys:
                failed_checks[keys[info.partition_key]].append(info.check_key.name)
        for venue in venues:
            status_by_day = {}
            for day in days:
                status = statuses.get(str(market_partition_key(day, venue)))
                status_by_day[day] = status.value if status is not None else None
            coverages.append(
                classify(
                    asset_key.to_user_string(),
                    venue,
                    days,
                    status_by_day,
                    {day: failed_checks.get((day, venue), []) for day in days},
                )
            )
    return coverages

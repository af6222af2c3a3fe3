"""Print which partitions are materialised, missing, failed or failing checks.

    python -m market_assets.gaps --from 2024-01-01 --to 2024-01-31 \\
        [--asset ticks/trades ...] [--venue binance ...] [--json | --missing-keys]

Reads the Dagster instance of ``DAGSTER_HOME`` (the UI's), nothing else: Dagster's
partition status cache for materialised / failed / in-progress partitions, and the
latest evaluation of every partitioned asset check. Exits 1 when there are gaps, so
scripts and CI can act on it.
"""

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from dagster import AssetKey, DagsterInstance
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from market_assets.definitions import defs
from market_assets.gaps.report import (
    Coverage,
    classify,
    missing_keys,
    render_json,
    render_table,
)
from partitions import VENUES, market_partition_key, market_partitions


def coverage_report(
    instance: DagsterInstance,
    assets: Sequence[AssetKey],
    venues: Sequence[str],
    first: date,
    last: date,
) -> list[Coverage]:
    """One ``Coverage`` per (asset, venue) over ``first``..``last`` (inclusive)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    keys = {str(market_partition_key(day, venue)): (day, venue) for venue in venues for day in days}
    graph = defs.resolve_asset_graph()
    coverages = []
    for asset_key in assets:
        statuses = instance.get_status_by_partition(asset_key, list(keys), market_partitions) or {}
        failed_checks: dict[tuple[date, str], list[str]] = defaultdict(list)
        check_keys = sorted(graph.get_check_keys_for_assets({asset_key}))
        for info in instance.event_log_storage.get_asset_check_partition_info(
            check_keys, partition_keys=list(keys)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m market_assets.gaps", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    all_assets = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    parser.add_argument(
        "--asset", action="append", choices=all_assets, help="repeatable; default: all"
    )
    parser.add_argument("--venue", action="append", choices=VENUES, help="repeatable; default: all")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON for scripts")
    output.add_argument(
        "--missing-keys",
        action="store_true",
        help="print the missing or failed partition keys, comma-separated, for "
        "`dagster job backfill --partitions`",
    )
    args = parser.parse_args(argv)
    if args.last < args.first:
        parser.error("--to is before --from")

    assets = [AssetKey.from_user_string(a) for a in (args.asset or all_assets)]
    with DagsterInstance.get() as instance:
        coverages = coverage_report(instance, assets, args.venue or VENUES, args.first, args.last)
    if args.missing_keys:
        print(",".join(missing_keys(coverages)))
        return 0
    if args.json:
        print(json.dumps(render_json(coverages, args.first, args.last), indent=2))
    else:
        print(render_table(coverages, args.first, args.last))
    return 1 if any(c.gaps for c in coverages) else 0


if __name__ == "__main__":
    sys.exit(main())

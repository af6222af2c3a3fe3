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
from collections.abc import Sequence
from datetime import date

from dagster import AssetKey, DagsterInstance

from market_assets.definitions import defs
from market_assets.gaps.report import missing_keys, render_json, render_table
from market_assets.gaps.scan import coverage_report
from partitions import venues_of


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m market_assets.gaps", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    graph = defs.resolve_asset_graph()
    venues = venues_of(graph.get(AssetKey("instrument_definitions")).partitions_def)
    all_assets = sorted(
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned
    )
    parser.add_argument(
        "--asset", action="append", choices=all_assets, help="repeatable; default: all"
    )
    parser.add_argument("--venue", action="append", choices=venues, help="repeatable; default: all")
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
        coverages = coverage_report(
            instance,
            graph.get(assets[0]).partitions_def,
            graph.asset_check_keys,
            assets,
            args.venue or venues,
            args.first,
            args.last,
        )
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

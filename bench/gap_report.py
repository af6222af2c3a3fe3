"""Benchmark: the gap report over 20,000 partitions of an asset on a SQLite instance.

Records a materialisation for most of 2,500 days × 8 venues of ``ticks/trades`` (and a
few failures), then times ``coverage_report`` for that asset over the whole range, and
for every asset. Target: under 5 s for 20,000 partitions. Prints; asserts nothing.

    .venv/bin/python bench/gap_report.py [--days 2500]
"""

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from dagster import AssetKey, AssetMaterialization, DagsterInstance

from market_assets.automation.jobs import INGEST_SELECTION
from market_assets.definitions import build_definitions
from market_assets.gaps.scan import coverage_report
from partitions import market_partition_key, venues_of
from resources.environment import Environment

FIRST = date(2019, 4, 1)
TRADES = AssetKey(["ticks", "trades"])
VENUES = (
    "binance",
    "binance-futures",
    "bybit",
    "bybit-spot",
    "deribit",
    "okex",
    "okex-futures",
    "okex-swap",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2500)
    args = parser.parse_args()
    last = FIRST + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="bench-gaps-") as home:
        # The partitions are the universe's venues: eight of them here.
        universe = Path(home) / "universe.yaml"
        universe.write_text(
            "venues:\n"
            + "".join(f"  {v}: {{data_types: [trades], symbols: [BTCUSDT]}}\n" for v in VENUES)
        )
        graph = build_definitions(Environment(universe_path=str(universe))).resolve_asset_graph()
        venues = venues_of(graph.get(TRADES).partitions_def)
        (Path(home) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        with DagsterInstance.from_config(home) as instance:
            started = time.perf_counter()
            recorded = 0
            for n in range(args.days):
                for venue in venues:
                    if (n + len(venue)) % 97 == 0:
                        continue  # a sprinkling of gaps
                    day = FIRST + timedelta(days=n)
                    instance.report_runless_asset_event(
                        AssetMaterialization(
                            TRADES, partition=str(market_partition_key(day, venue))
                        )
                    )
                    recorded += 1
            print(
                f"recorded {recorded:,} materialisations in {time.perf_counter() - started:.0f} s"
            )

            partitions = args.days * len(venues)
            for label, assets in (
                ("ticks/trades", [TRADES]),
                ("every asset", sorted(INGEST_SELECTION.resolve(graph))),
            ):
                for attempt in ("cold", "warm"):
                    started = time.perf_counter()
                    report = coverage_report(
                        instance,
                        graph.get(TRADES).partitions_def,
                        graph.asset_check_keys,
                        assets,
                        venues,
                        FIRST,
                        last,
                    )
                    seconds = time.perf_counter() - started
                    gaps = sum(c.gaps for c in report)
                    print(
                        f"{label:<13} {attempt}: {partitions * len(assets):>7,} partitions in "
                        f"{seconds:5.2f} s ({gaps:,} gaps)  target: under 5 s per 20,000"
                    )


if __name__ == "__main__":
    main()

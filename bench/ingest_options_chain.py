"""Benchmark: Deribit's grouped options chain streamed into the lake at two sizes.

The largest Tardis file (about 100 GB a day uncompressed) must not grow memory: each
size is generated, then ingested by the production path of ``ticks/options_chain``
(stream parse, filter to the universe's options, pandera validation, one Parquet file)
in a fresh process. Prints rows/s and peak RSS per size; peak RSS should stay flat and
under 1.5 GB whatever the size. No assertion: the figures are for people.

    .venv/bin/python bench/ingest_options_chain.py [--rows 20000000 40000000]
"""

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import measure, peak_rss_mb, report

DAY = date(2024, 1, 5)
VENUE = "deribit"
# The universe's share of the chain: every option but the XRP one is kept.
KEPT_PREFIXES = ("BTC-", "ETH-")


def child(source: Path) -> None:
    """Ingest ``source`` once in this process and print rows, seconds and peak RSS."""
    from market_assets.schemas import pandera_schema
    from market_assets.ticks.assets import schema_check
    from market_assets.ticks.columns import OPTIONS_CHAIN
    from market_assets.ticks.tardis_csv import read_tardis_csv
    from resources.lake import LakeFile, ParquetLake
    from resources.tardis import SourceFile
    from tardis_local.catalog import grouped_members

    keys = {
        member["datasetId"]: f"DERIBIT:OPTION:{member['datasetId']}"
        for member in grouped_members(VENUE, "OPTIONS")
        if member["datasetId"].startswith(KEPT_PREFIXES)
    }
    described = SourceFile(
        VENUE, "options_chain", "OPTIONS", DAY, source, str(source), "", 0, False
    )
    with tempfile.TemporaryDirectory(prefix="bench-chain-") as out:
        started = time.perf_counter()
        written = ParquetLake(out).write_partition(
            ("ticks", "options_chain"),
            DAY.isoformat(),
            VENUE,
            [
                LakeFile(
                    "OPTIONS",
                    OPTIONS_CHAIN.schema,
                    read_tardis_csv(source, OPTIONS_CHAIN, keys),
                    check=schema_check(pandera_schema(OPTIONS_CHAIN), described),
                )
            ],
        )
        seconds = time.perf_counter() - started
    report({"rows_kept": written.rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000_000, 40_000_000])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.source)
        return

    from tardis_local.catalog import grouped_members, is_available
    from tardis_local.generate import write_dataset

    members = [m for m in grouped_members(VENUE, "OPTIONS") if is_available(VENUE, m["id"], DAY)]
    results = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="bench-chain-") as folder:
            source = Path(folder) / f"{VENUE}_options_chain_{DAY}_OPTIONS.csv.gz"
            started = time.perf_counter()
            write_dataset(
                source, VENUE, "options_chain", "OPTIONS", DAY, rows_per_day=rows // len(members)
            )
            made = time.perf_counter() - started
            size_mb = source.stat().st_size / 1e6
            figures = measure(__file__, "--source", str(source))
        print(
            f"{rows:,} rows generated ({size_mb:,.0f} MB gzipped) in {made:.0f} s; "
            f"ingested in {figures['seconds']:.1f} s",
            flush=True,
        )
        results.append((rows, figures))

    header = f"{'rows in file':>14} {'rows kept':>12} {'seconds':>8} {'rows/s':>12}"
    print(f"\n{header} {'peak RSS MB':>12}")
    for rows, figures in results:
        print(
            f"{rows:>14,} {figures['rows_kept']:>12,} {figures['seconds']:>8.1f} "
            f"{rows / figures['seconds']:>12,.0f} {figures['peak_rss_mb']:>12.0f}"
        )
    print("target: peak RSS under 1500 MB at every size, flat as the file grows")


if __name__ == "__main__":
    main()

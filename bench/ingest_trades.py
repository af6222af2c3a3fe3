"""Benchmark: one generated trades day, CSV.gz on disk → Parquet, ours against peers.

Each contender runs in its own fresh process on the same file, so peak RSS is its own:
- ours: the production path of ``ticks/trades`` (stream parse, pandera validation per
  batch, per-instrument Parquet through the lake's staging and publish);
- polars: ``scan_csv(...).sink_parquet(...)`` (its streaming engine), as is;
- polars_typed: the same, producing our output types (no validation);
- pandas: ``read_csv(...)`` then ``to_parquet(...)``.
Prints rows/s, peak RSS and the ratios. No assertion: the figures are for people.

    .venv/bin/python bench/ingest_trades.py [--rows 5000000] [--repeat 3]
"""

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, peak_rss_mb, report

DAY = date(2024, 3, 1)
VENUE, SYMBOL, KEY = "binance-futures", "BTCUSDT", "BINANCE-FUTURES:PERPETUAL:BTC-USDT"


def run_ours(source: Path, out: Path) -> int:
    from market_assets.schemas import pandera_schema
    from market_assets.ticks.assets import schema_check
    from market_assets.ticks.columns import TRADES
    from market_assets.ticks.tardis_csv import read_tardis_csv
    from market_assets.ticks.types import file_name
    from resources.lake import LakeFile, ParquetLake
    from resources.tardis import SourceFile

    described = SourceFile(VENUE, "trades", SYMBOL, DAY, source, str(source))
    written = ParquetLake(str(out)).write_partition(
        ("ticks", "trades"),
        DAY.isoformat(),
        VENUE,
        [
            LakeFile(
                file_name(KEY),
                TRADES.schema,
                read_tardis_csv(source, TRADES, {SYMBOL: KEY}),
                check=schema_check(pandera_schema(TRADES), described),
            )
        ],
    )
    return written.rows


def run_polars(source: Path, out: Path) -> int:
    import polars as pl

    target = out / "trades.parquet"
    pl.scan_csv(source).sink_parquet(target, compression="zstd")
    return pl.scan_parquet(target).select(pl.len()).collect().item()


def run_polars_typed(source: Path, out: Path) -> int:
    """polars producing what ours produces (typed UTC timestamps, labels, instrument_key),
    without validation: the like-for-like reading of the same job."""
    import polars as pl

    target = out / "trades.parquet"
    schema = {
        "exchange": pl.String,
        "symbol": pl.String,
        "timestamp": pl.Int64,
        "local_timestamp": pl.Int64,
        "id": pl.String,
        "side": pl.String,
        "price": pl.Float64,
        "amount": pl.Float64,
    }
    (
        pl.scan_csv(source, schema=schema)
        .select(
            pl.lit(KEY).cast(pl.Categorical).alias("instrument_key"),
            pl.col("symbol").cast(pl.Categorical),
            pl.col("timestamp").cast(pl.Datetime("us", "UTC")),
            pl.col("local_timestamp").cast(pl.Datetime("us", "UTC")),
            "id",
            pl.col("side").cast(pl.Categorical),
            "price",
            "amount",
        )
        .sink_parquet(target, compression="zstd")
    )
    return pl.scan_parquet(target).select(pl.len()).collect().item()


def run_pandas(source: Path, out: Path) -> int:
    import pandas as pd

    frame = pd.read_csv(source)
    frame.to_parquet(out / "trades.parquet", compression="zstd", index=False)
    return len(frame)


CONTENDERS = {
    "ours": run_ours,
    "polars": run_polars,
    "polars_typed": run_polars_typed,
    "pandas": run_pandas,
}


def child(name: str, source: Path) -> None:
    """Run one contender once in this process and print its figures as JSON.

    Libraries are imported before the clock starts: the figure is ingest, not start-up.
    """
    if name == "ours":
        import market_assets.ticks.assets  # noqa: F401
    else:
        __import__(name.split("_")[0])
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as out:
        started = time.perf_counter()
        rows = CONTENDERS[name](source, Path(out))
        seconds = time.perf_counter() - started
    report({"rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best kept")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source)
        return

    from tardis_local.generate import write_dataset

    with tempfile.TemporaryDirectory(prefix="bench-trades-") as folder:
        source = Path(folder) / f"{VENUE}_trades_{DAY}_{SYMBOL}.csv.gz"
        started = time.perf_counter()
        write_dataset(source, VENUE, "trades", SYMBOL, DAY, rows_per_day=args.rows)
        print(
            f"generated {args.rows:,} trades, {source.stat().st_size / 1e6:.1f} MB gzipped, "
            f"in {time.perf_counter() - started:.1f} s"
        )
        best = best_of(__file__, CONTENDERS, args.repeat, "--source", str(source))

    print(f"\n{'contender':<13} {'rows':>11} {'seconds':>8} {'rows/s':>12} {'peak RSS MB':>12}")
    for name, figures in best.items():
        print(
            f"{name:<13} {figures['rows']:>11,} {figures['seconds']:>8.2f} "
            f"{figures['rows'] / figures['seconds']:>12,.0f} {figures['peak_rss_mb']:>12.0f}"
        )
    ours = best["ours"]["seconds"]
    print(
        f"\nspeed ratio vs polars (polars s / ours s): {best['polars']['seconds'] / ours:.2f}"
        "  (target ≥ 1.0)"
    )
    print(
        "speed ratio vs polars typed (same output, no validation): "
        f"{best['polars_typed']['seconds'] / ours:.2f}"
    )
    print(
        f"speed ratio vs pandas (pandas s / ours s): {best['pandas']['seconds'] / ours:.2f}"
        "  (target ≥ 2.0)"
    )
    print(f"our peak RSS: {best['ours']['peak_rss_mb']:.0f} MB  (target < 1200 MB)")


if __name__ == "__main__":
    main()

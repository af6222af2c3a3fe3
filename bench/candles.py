"""Benchmark: all seven candle timeframes of a 5-million-trade day, ours against polars.

The day is generated, then ingested by the production ``ticks/trades`` path into a
temporary lake. Each contender then runs in its own fresh process on that Parquet file,
reading included:
- ours: the production read (the columns the candles use) and transform: every
  timeframe with every trade feature (OHLC, volumes and counts by side, vwap, sizes,
  exact delay min/median/mean/max, timestamp_out) and every bar of the day present;
- polars: plain OHLCV (first/max/min/last price, summed amount) for the same seven
  timeframes with ``group_by_dynamic``, after one sort, as the issue names it;
- polars_features: polars computing our trade features too (like for like).
Prints seconds, peak RSS and the ratios. No assertion: the figures are for people.

    .venv/bin/python bench/candles.py [--rows 5000000] [--repeat 3]
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
EVERY = {"15s": "15s", "1m": "1m", "5m": "5m", "15m": "15m", "1h": "1h", "4h": "4h", "1d": "1d"}


def run_ours(lake: Path) -> int:
    """The candle asset's own read (with the next-day merge and identity check) and
    transform, for the one instrument of the day."""
    from market_assets.candles.assets import INPUT_COLUMNS, check_identity
    from market_assets.candles.bars import midnight_us
    from market_assets.candles.build import InstrumentDay, instrument_candles
    from market_assets.ticks.types import file_name
    from partitions import TIMEFRAMES
    from resources.lake import ParquetLake
    from resources.lake_handles import DayWindow

    window = DayWindow.open(ParquetLake(str(lake)), ("ticks", "trades"), DAY.isoformat(), VENUE)
    start = midnight_us(DAY)
    table, _ = window.read(file_name(KEY), (*INPUT_COLUMNS["trades"], "instrument_key"))
    check_identity(table, KEY, "bench")
    built = instrument_candles(InstrumentDay(KEY, trades=table), start, TIMEFRAMES)
    return sum(t.num_rows for t in built.values())


def run_polars(trades: Path) -> int:
    import polars as pl

    frame = pl.read_parquet(trades).sort("timestamp", maintain_order=True)
    bars = 0
    for every in EVERY.values():
        bars += (
            frame.group_by_dynamic("timestamp", every=every, group_by="instrument_key")
            .agg(*_ohlcv())
            .height
        )
    return bars


def _ohlcv() -> list:
    import polars as pl

    return [
        pl.col("price").first().alias("open"),
        pl.col("price").max().alias("high"),
        pl.col("price").min().alias("low"),
        pl.col("price").last().alias("close"),
        pl.col("amount").sum().alias("volume"),
    ]


def run_polars_features(trades: Path) -> int:
    import polars as pl

    frame = (
        pl.read_parquet(trades)
        .sort("timestamp", maintain_order=True)
        .with_columns(
            (
                (pl.col("local_timestamp") - pl.col("timestamp")).dt.total_microseconds() / 1000
            ).alias("delay_ms"),
            (pl.col("price") * pl.col("amount")).alias("notional"),
        )
    )
    side = pl.col("side").cast(pl.String)
    bars = 0
    for every in EVERY.values():
        bars += (
            frame.group_by_dynamic("timestamp", every=every, group_by="instrument_key")
            .agg(
                *_ohlcv(),
                pl.col("notional").sum().alias("quote_volume"),
                pl.len().alias("trade_count"),
                *(
                    pl.col("amount").filter(side == s).sum().alias(f"{s}_volume")
                    for s in ("buy", "sell", "unknown")
                ),
                *((side == s).sum().alias(f"{s}_count") for s in ("buy", "sell", "unknown")),
                pl.col("amount").mean().alias("mean_trade_size"),
                pl.col("amount").max().alias("max_trade_size"),
                pl.col("delay_ms").min().alias("delay_min_ms"),
                pl.col("delay_ms").median().alias("delay_median_ms"),
                pl.col("delay_ms").mean().alias("delay_mean_ms"),
                pl.col("delay_ms").max().alias("delay_max_ms"),
                pl.col("local_timestamp").max().alias("timestamp_out"),
            )
            .with_columns((pl.col("quote_volume") / pl.col("volume")).alias("vwap"))
            .height
        )
    return bars


CONTENDERS = {"ours": run_ours, "polars": run_polars, "polars_features": run_polars_features}


def child(name: str, trades: Path) -> None:
    """Run one contender once in this process and print its figures as JSON.

    Libraries are imported before the clock starts: the figure is the work, not start-up.
    """
    if name == "ours":
        import market_assets.candles.build  # noqa: F401
        import resources.lake  # noqa: F401
    else:
        import polars  # noqa: F401
    started = time.perf_counter()
    # ours reads the lake as the asset does; the peers read the Parquet file itself.
    bars = CONTENDERS[name](trades.parents[4] if name == "ours" else trades)
    seconds = time.perf_counter() - started
    report({"bars": bars, "seconds": seconds, "peak_rss_mb": peak_rss_mb()})


def ingest(folder: Path, rows: int) -> Path:
    """Generate a trades day and land it in a lake the way ``ticks/trades`` does."""
    from market_assets.ticks.columns import TRADES
    from market_assets.ticks.tardis_csv import read_tardis_csv
    from market_assets.ticks.types import file_name
    from resources.lake import LakeFile, ParquetLake
    from tardis_local.generate import write_dataset

    source = folder / f"{VENUE}_trades_{DAY}_{SYMBOL}.csv.gz"
    write_dataset(source, VENUE, "trades", SYMBOL, DAY, rows_per_day=rows)
    lake = ParquetLake(str(folder / "lake"))
    lake.write_partition(
        ("ticks", "trades"),
        DAY.isoformat(),
        VENUE,
        [LakeFile(file_name(KEY), TRADES.schema, read_tardis_csv(source, TRADES, {SYMBOL: KEY}))],
    )
    source.unlink()
    [trades] = lake.files(("ticks", "trades"), DAY.isoformat(), VENUE)
    return Path(trades.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best kept")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--trades", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.trades)
        return

    with tempfile.TemporaryDirectory(prefix="bench-candles-") as folder:
        started = time.perf_counter()
        trades = ingest(Path(folder), args.rows)
        print(
            f"ingested {args.rows:,} trades of {DAY} into {trades.stat().st_size / 1e6:.1f} MB "
            f"of Parquet in {time.perf_counter() - started:.1f} s"
        )
        best = best_of(__file__, CONTENDERS, args.repeat, "--trades", str(trades))

    print(f"\n{'contender':<16} {'bars':>8} {'seconds':>8} {'peak RSS MB':>12}")
    for name, figures in best.items():
        print(
            f"{name:<16} {figures['bars']:>8,} {figures['seconds']:>8.2f} "
            f"{figures['peak_rss_mb']:>12.0f}"
        )
    ours = best["ours"]["seconds"]
    print(
        f"\nours / polars plain OHLCV (time ratio): {ours / best['polars']['seconds']:.2f}"
        "  (target ≤ 1.5)"
    )
    print(
        "ours / polars with the same trade features: "
        f"{ours / best['polars_features']['seconds']:.2f}"
    )
    print(f"our peak RSS: {best['ours']['peak_rss_mb']:.0f} MB  (target < 1500 MB)")


if __name__ == "__main__":
    main()

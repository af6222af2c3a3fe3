"""Benchmark: the MFT features of one venue-day, all six timeframes, ours against polars.

A lake of generated candles is written once with the lake writer: 10 perpetuals of
binance-futures on 2024-03-01 with every feature timeframe's look-back (the product's
``lookback_days``: 20 days for 1m to 1h, 42 for 4h, 250 for 1d), each timeframe
aggregated from the same one-minute path: random-walk closes, consistent OHLC and vwap,
bars without trades, buy and sell volumes, liquidations, funding, open interest and basis
with gaps, the book at the close, options for two. One instrument lists 3 days before
the day, one trades in 40% of its minutes, one halts for hours (on the day too). Then each
contender runs in its own fresh process, taking turns, best of ``--repeat`` kept:

- cli: what a user runs, ``dagster asset materialize -m market_assets --select
  'group:features' --partition '2024-03-01|binance-futures'`` (six assets and their 30
  blocking checks, the features landed in the lake), on a SQLite instance of its own;
- cli_fixed_cost: the same command on the same lake and venue for 2022-06-01, whose
  candles hold one instrument and no look-back: Dagster's start-up, the run and every
  step with next to no data. ``cli`` is reported net of it, in total (wall time) and per
  timeframe (the asset's and its five checks' step times, from the run's log);
- in_process: the asset's own work alone, ``DayRange.read()`` of the look-back and
  ``day_features``, per timeframe;
- polars: polars computing the same features by the same definitions (carry-forward
  within runs of bars, the six volatility estimators, Wilder and EMA recursions seeded
  with an SMA per run where TA-Lib seeds them, nulls for short windows, ...) from
  ``scan_parquet`` of the same files (its in-memory engine: its streaming one took 3.7×
  as long here), writing the day's rows to Parquet.

Then polars' output is compared with the features the CLI landed: every row and column of
every timeframe, nulls alike, values within rtol 1e-6 (or 1e-10 of the column's largest
value, near a crossing of zero). Prints seconds, the ratios ours / polars (target ≤ 1.0),
peak RSS (the CLI's: its largest process, and its process tree sampled) and whether polars
agrees. No assertion: the figures are for people.

    .venv/bin/python bench/features.py [--repeat 3] [--lake DIR]
"""

import argparse
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import dagster_environment, measure, peak_rss_mb, report, run_sampled
from features_agreement import ATOL_SCALE, RTOL, agreement
from features_polars import polars_timeframe
from features_world import (
    DAY,
    FIXED_COST_DAY,
    INSTRUMENTS,
    SECONDS,
    VENUE,
    Lookback,
    look_back,
    midnight,
    write_lake,
)

REPO = Path(__file__).resolve().parents[1]
UNIVERSE = f"venues:\n  {VENUE}:\n    data_types: [trades]\n    symbols: [BTCUSDT]\n"
# "Finished execution of step "features__mft_1m_warmup" in 158ms." -> ("1m", "158", "ms")
STEP_LOG = re.compile(
    r'Finished execution of step "features__mft_([0-9a-z]+?)(?:_[a-z]+)?" in ([0-9.]+)(ms|s)\.'
)


# --- the contenders ---------------------------------------------------------------------


def dagster_env(lake: Path, home: Path) -> dict[str, str]:
    return dagster_environment(
        home, MARKET_DATA_ROOT=str(lake), MARKET_DATA_UNIVERSE=str(home / "universe.yaml")
    )


def run_cli(lake: Path, home: Path, day: date) -> dict[str, Any]:
    """The user's command for (day, venue): wall seconds, each timeframe's step seconds
    (the asset's and its checks'), peak RSS of its largest process and of its tree."""
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "asset",
        "materialize",
        "-m",
        "market_assets",
        "--select",
        "group:features",
        "--partition",
        f"{day}|{VENUE}",
    ]
    seconds, output, tree_mb = run_sampled(command, dagster_env(lake, home))
    timeframes = dict.fromkeys(SECONDS, 0.0)
    for step, took, unit in STEP_LOG.findall(output):
        timeframes[step] += float(took) / (1000 if unit == "ms" else 1)
    # Dagster says "in 1.07s", or "in 950ms" under a second.
    [(steps, unit)] = re.findall(
        r"Finished steps in process \(pid: \d+\) in ([0-9.]+)(ms|s)", output
    )
    return {
        "seconds": seconds,
        "steps_seconds": float(steps) / (1000 if unit == "ms" else 1),
        "timeframes": timeframes,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "tree_rss_mb": tree_mb,
    }


def per_timeframe(work: Callable[[str, int], int]) -> dict[str, Any]:
    """``work(timeframe, seconds)`` for each timeframe: seconds in total and per timeframe,
    and the rows it returned."""
    timeframes, rows = {}, 0
    started = time.perf_counter()
    for timeframe, seconds in SECONDS.items():
        begun = time.perf_counter()
        rows += work(timeframe, seconds)
        timeframes[timeframe] = time.perf_counter() - begun
    return {"seconds": time.perf_counter() - started, "timeframes": timeframes, "rows": rows}


def run_in_process(lake_root: Path, lookback: Lookback) -> dict[str, Any]:
    from market_assets.features.build import day_features
    from resources.lake import ParquetLake
    from resources.lake_handles import DayRange

    lake = ParquetLake(str(lake_root))

    def features(timeframe: str, seconds: int) -> int:
        days = look_back(lookback[timeframe])
        history, _ = DayRange.open(lake, ("candles", timeframe), days, VENUE).read()
        return day_features(history, midnight(DAY), seconds).num_rows

    return per_timeframe(features)


def run_polars(lake_root: Path, lookback: Lookback, out: Path) -> dict[str, Any]:
    def features(timeframe: str, seconds: int) -> int:
        frame = polars_timeframe(lake_root, timeframe, lookback)
        frame.write_parquet(out / f"mft_{timeframe}.parquet", compression="zstd")
        return frame.height

    return per_timeframe(features)


CONTENDERS = ("cli", "cli_fixed_cost", "in_process", "polars")


def child(name: str, lake: Path, home: Path, lookback: Lookback) -> None:
    """Run one contender once in this process and print its figures as JSON.

    Libraries are imported before the clock starts (the CLI's are its own start-up).
    """
    if name in ("cli", "cli_fixed_cost"):
        figures = run_cli(lake, home, DAY if name == "cli" else FIXED_COST_DAY)
        report(figures)
        return
    if name == "in_process":
        import market_assets.features.build  # noqa: F401
        import resources.lake_handles  # noqa: F401

        figures = run_in_process(lake, lookback)
    else:
        import polars  # noqa: F401

        with tempfile.TemporaryDirectory(prefix="bench-features-polars-") as out:
            figures = run_polars(lake, lookback, Path(out))
    report({**figures, "peak_rss_mb": peak_rss_mb()})


# --- the run ----------------------------------------------------------------------------


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run's figures, with each timeframe's fastest time over the runs."""
    fastest = min(runs, key=lambda figures: figures["seconds"])
    return {
        **fastest,
        **(
            {"steps_seconds": min(run["steps_seconds"] for run in runs)}
            if "steps_seconds" in fastest
            else {}
        ),
        "timeframes": {tf: min(run["timeframes"][tf] for run in runs) for tf in SECONDS},
    }


def product_lookback() -> Lookback:
    """The product's look-back of each feature timeframe, whose timeframes must be ours."""
    from market_assets.features.build import lookback_days
    from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES

    theirs = {tf: TIMEFRAMES[tf] for tf in FEATURE_TIMEFRAMES}
    if theirs != SECONDS:
        raise SystemExit(f"the feature timeframes are now {theirs}: update SECONDS")
    return {tf: lookback_days(seconds) for tf, seconds in SECONDS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best kept")
    parser.add_argument("--lake", type=Path, help="keep the lake in this folder (reused if there)")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lake, args.home, args.lookback)
        return

    lookback = product_lookback()
    with tempfile.TemporaryDirectory(prefix="bench-features-") as folder:
        lake = args.lake or Path(folder) / "lake"
        # A kept lake is reused while it was generated for the same look-back.
        stamp = lake / "bench-features.json"
        if not stamp.exists() or json.loads(stamp.read_text()) != lookback:
            started = time.perf_counter()
            shutil.rmtree(lake / "candles", ignore_errors=True)
            rows = write_lake(lake, lookback)
            stamp.write_text(json.dumps(lookback))
            print(
                f"wrote {rows:,} candle rows of {len(INSTRUMENTS)} instruments ({DAY} and its "
                f"look-back, six timeframes) in {time.perf_counter() - started:.1f} s"
            )
        home = Path(folder) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        (home / "universe.yaml").write_text(UNIVERSE)
        flags = ("--lake", str(lake), "--home", str(home), "--lookback", json.dumps(lookback))
        load_before = os.getloadavg()[0]
        measure(__file__, "cli_fixed_cost", *flags)  # the instance's first run creates it
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
        for _ in range(args.repeat):
            for name in CONTENDERS:
                runs[name].append(measure(__file__, name, *flags))
        figures = {name: best(found) for name, found in runs.items()}
        load_after = os.getloadavg()[0]
        differences = agreement(lake, lookback)

    report_figures(figures, differences, args.repeat)
    # The CLI's net is a difference of two ~10 s runs: other work on the machine shows in it.
    print(
        f"load average (1 min) before / after the runs: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} CPUs"
    )


def report_figures(
    figures: dict[str, dict[str, Any]], differences: dict[str, list[str]], repeat: int
) -> None:
    """The table, the ratios, peak RSS and the agreement, for people."""
    cli, fixed = figures["cli"], figures["cli_fixed_cost"]
    inner, theirs = figures["in_process"], figures["polars"]
    print(
        f"\nseconds, best of {repeat}. cli: the steps of the asset and its 5 checks in the "
        f"run of {DAY}, and net of the same steps in the run of {FIXED_COST_DAY} (the fixed "
        "cost); in_process: DayRange.read + day_features; polars: scan_parquet → the same "
        "features → Parquet"
    )
    header = ("timeframe", "cli", "fixed", "cli net", "in_process", "polars", "net/pl", "in/pl")
    print(f"{header[0]:<10}" + "".join(f"{name:>11}" for name in header[1:]))
    for tf in SECONDS:
        steps, steps_fixed = cli["timeframes"][tf], fixed["timeframes"][tf]
        row = (steps, steps_fixed, steps - steps_fixed, inner["timeframes"][tf])
        peer = theirs["timeframes"][tf]
        ratios = ((steps - steps_fixed) / peer, inner["timeframes"][tf] / peer)
        print(f"{tf:<10}" + "".join(f"{x:>11.2f}" for x in (*row, peer, *ratios)))
    net = cli["seconds"] - fixed["seconds"]
    total = (cli["seconds"], fixed["seconds"], net, inner["seconds"], theirs["seconds"])
    ratios = (net / theirs["seconds"], inner["seconds"] / theirs["seconds"])
    print(f"{'total':<10}" + "".join(f"{x:>11.2f}" for x in (*total, *ratios)))
    in_run = cli["steps_seconds"] - fixed["steps_seconds"]
    print(
        f"\ncli total: the command's wall time, {cli['seconds']:.2f} s for {DAY}|{VENUE} and "
        f"{fixed['seconds']:.2f} s for {FIXED_COST_DAY} (one instrument, no look-back): "
        f"{net:.2f} s net; its steps alone: {cli['steps_seconds']:.2f} s − "
        f"{fixed['steps_seconds']:.2f} s = {in_run:.2f} s net"
    )
    print(f"ours (cli, net) / polars (time ratio): {ratios[0]:.2f}  (target ≤ 1.0)")
    print(f"ours (cli steps, net) / polars (time ratio): {in_run / theirs['seconds']:.2f}")
    print(f"ours (in process) / polars (time ratio): {ratios[1]:.2f}")
    print(
        f"peak RSS MB: cli {cli['peak_rss_mb']:.0f} (its process tree "
        f"{cli['tree_rss_mb']:.0f}), cli fixed cost {fixed['peak_rss_mb']:.0f}, in_process "
        f"{inner['peak_rss_mb']:.0f}, polars {theirs['peak_rss_mb']:.0f}"
    )
    disagreeing = {tf: found for tf, found in differences.items() if found}
    if not disagreeing:
        print(
            "polars agrees with the features the CLI landed: every row and column of all six "
            f"timeframes, nulls alike, values within rtol {RTOL:g} (or {ATOL_SCALE:g} of the "
            "column's largest value)"
        )
    for tf, found in disagreeing.items():
        print(f"polars differs from ours on {tf}:")
        for line in found:
            print(f"  {line}")


if __name__ == "__main__":
    main()

"""Benchmark: what users run, ``dagster asset materialize`` with every check, against peers.

The local Tardis server (``tardis_local``) serves generated venue-days of binance-futures
over loopback HTTP, and each contender runs in a fresh process, taking turns, best of
``--repeat`` kept:

- ticks (a): one instrument, BTCUSDT, with ``--trades`` trades (5,000,000);
  ticks (b): ``--instruments`` linear perpetuals (40) with ``--per-instrument`` trades each
  (125,000). For each: ``dagster asset materialize --select
  instrument_definitions,ticks/trades`` with every check on its own SQLite instance, for
  the day and for an empty day (every file an empty gzip: Dagster's start-up, the run,
  the downloads' round trips and every step with no data, the fixed cost the day is
  reported net of); the same command reading a mirror of the same files (parse only: no
  download); the product's downloads of the day's files alone (download only); polars
  ``scan_csv → sink_parquet`` and pandas ``read_csv → to_parquet`` of the same files
  (bench/ingest_trades.py's peers, file by file).
- candles: ``--select group:candles`` (all seven timeframes and their checks) on the lake
  (a) landed, net of the empty day, against polars' plain OHLCV of the same seven
  timeframes on the Parquet file the CLI landed (bench/candles.py's peer).
- features: ``--select group:features`` (six timeframes and their checks) on
  bench/features.py's generated lake of candles and look-back, net of its fixed-cost day,
  against its polars peer computing the same features.

Prints every step's seconds (from the run's event log; checks that run in steps of their
own are shown as such, with their share of their asset's step), the ratios, the
overlap of downloads and parsing on (b), and peak RSS (the CLI's process tree, sampled).
No assertion: the figures are for people. Targets (issue 13): ticks with checks, net, at
least as fast as polars (ratio ≥ 1.0) on (a) and (b); on (b) the step within 1.2× the
larger of download-only and parse-only; no check over 10% of its asset's step; candles
with checks ≤ 1.0× polars' plain OHLCV; peak RSS ≤ 1 GB for (a)'s ingest, ≤ 1.5 GB for its
candles.

    .venv/bin/python bench/materialize.py [--only ticks|candles|features ...]
        [--trades 5000000] [--instruments 40] [--per-instrument 125000] [--repeat 2]
        [--small]
"""

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).parent))
import candles as candles_bench
import features as features_bench
import ingest_trades
from common import (
    CliRun,
    dagster_environment,
    dagster_home,
    materialize,
    measure,
    peak_rss_mb,
    report,
)

DAY = date(2024, 3, 1)
# Every file of this day is an empty gzip: the run's fixed cost.
EMPTY_DAY = date(2024, 3, 4)
EXPORTED_UNTIL = datetime(2024, 3, 10, tzinfo=UTC)
VENUE, DATA_TYPE = "binance-futures", "trades"
API_KEY = "test-key"
TICKS = "instrument_definitions,ticks/trades"
TICKS_ASSET = "ticks/trades"
PARTS = ("ticks", "candles", "features")
if TYPE_CHECKING:
    from tardis_local.server import TardisServer

SMALL = {"trades": 400_000, "instruments": 8, "per_instrument": 25_000, "repeat": 1}


# --- the children: peers and download-only, each in a fresh process -------------------


def day_files(folder: Path, day: date = DAY) -> list[Path]:
    """The day's CSV.gz files in ``folder`` (tardis-dev's names), sorted."""
    return sorted(folder.glob(f"{VENUE}_{DATA_TYPE}_{day.isoformat()}_*.csv.gz"))


def child_peer(name: str, folder: Path) -> None:
    """polars or pandas converting each of the day's files to Parquet, one after another."""
    convert = {"polars": ingest_trades.run_polars, "pandas": ingest_trades.run_pandas}[name]
    __import__(name)
    sources = day_files(folder)
    with tempfile.TemporaryDirectory(prefix=f"bench-materialize-{name}-") as out:
        started = time.perf_counter()
        rows = 0
        for number, source in enumerate(sources):
            target = Path(out) / str(number)
            target.mkdir()
            rows += convert(source, target)
        seconds = time.perf_counter() - started
    report({"seconds": seconds, "rows": rows, "peak_rss_mb": peak_rss_mb()})


def child_download(endpoint: str, symbols: list[str]) -> None:
    """The product's downloads of the day's files, nothing parsed: the files fetched as
    the asset fetches them (``fetched_files``, the next one downloading while the caller
    holds the current), each let go at once."""
    from resources.tardis import TardisSource
    from resources.tardis_downloads import fetched_files

    tardis = TardisSource(api_key=API_KEY, datasets_endpoint=endpoint)
    started = time.perf_counter()
    size = sum(
        source.path.stat().st_size
        for source in fetched_files(tardis, VENUE, DATA_TYPE, DAY, symbols)
    )
    report({"seconds": time.perf_counter() - started, "bytes": size})


# --- the venue-days ----------------------------------------------------------------------


@dataclass
class Scenario:
    """One venue-day served by its own local Tardis server, and what was measured on it."""

    name: str
    symbols: list[str]
    rows: int  # trades per instrument
    folder: Path
    runs: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def files(self) -> Path:
        return self.folder / "files"

    @property
    def lake(self) -> Path:
        return self.folder / "lake"

    @property
    def home(self) -> Path:
        return self.folder / "dagster_home"

    def describe(self) -> str:
        return f"({self.name}) {len(self.symbols)} instrument(s) × {self.rows:,} trades"


def serve(scenario: Scenario) -> "TardisServer":
    """The scenario's server, its files fetched once (the cache warmed, so no run pays
    their generation) and kept as a mirror with the metadata beside them."""
    from resources.tardis import dataset_url, mirror_file_name
    from tardis_local.mirror import write_mirror
    from tardis_local.server import TardisServer

    empty = {(VENUE, DATA_TYPE, symbol, EMPTY_DAY.isoformat()) for symbol in scenario.symbols}
    server = TardisServer(
        exported_until=EXPORTED_UNTIL,
        rows_per_day={DATA_TYPE: scenario.rows},
        empty_files=empty,
    ).start()
    write_mirror(
        scenario.files, [DAY], exchanges=[VENUE], data_types=[], exported_until=EXPORTED_UNTIL
    )
    for day in (DAY, EMPTY_DAY):
        for symbol in scenario.symbols:
            url = dataset_url(server.datasets_endpoint, VENUE, DATA_TYPE, symbol, day)
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
            with urllib.request.urlopen(request) as answer:
                body = answer.read()
            (scenario.files / mirror_file_name(VENUE, DATA_TYPE, symbol, day)).write_bytes(body)
    dagster_home(scenario.home)
    universe = {"venues": {VENUE: {"data_types": [DATA_TYPE], "symbols": scenario.symbols}}}
    (scenario.home / "universe.yaml").write_text(json.dumps(universe))
    return server


def environment(
    scenario: Scenario, server: "TardisServer", *, mirror: bool = False
) -> dict[str, str]:
    source = (
        {"TARDIS_MIRROR": str(scenario.files)}
        if mirror
        else {
            "TARDIS_DATASETS_ENDPOINT": server.datasets_endpoint,
            "TARDIS_API_ENDPOINT": server.api_endpoint,
            "TARDIS_API_KEY": API_KEY,
        }
    )
    return dagster_environment(
        scenario.home,
        MARKET_DATA_ROOT=str(scenario.lake),
        MARKET_DATA_UNIVERSE=str(scenario.home / "universe.yaml"),
        **source,
    )


def partition(day: date) -> str:
    return f"{day.isoformat()}|{VENUE}"


def measure_ticks(scenario: Scenario, server: "TardisServer", repeat: int) -> None:
    """The ingest contenders of one venue-day, taking turns, ``repeat`` times."""
    http, mirrored = environment(scenario, server), environment(scenario, server, mirror=True)
    contenders = {
        "cli": lambda: materialize(TICKS, partition(DAY), http),
        "cli_empty_day": lambda: materialize(TICKS, partition(EMPTY_DAY), http),
        "cli_mirror": lambda: materialize(TICKS, partition(DAY), mirrored),
        "download_only": lambda: measure(
            __file__,
            "download",
            "--endpoint",
            server.datasets_endpoint,
            "--symbols",
            ",".join(scenario.symbols),
        ),
        "polars": lambda: measure(__file__, "polars", "--files", str(scenario.files)),
        "pandas": lambda: measure(__file__, "pandas", "--files", str(scenario.files)),
    }
    materialize(TICKS, partition(EMPTY_DAY), http)  # the instance's first run creates it
    for _ in range(repeat):
        for name, run in contenders.items():
            scenario.runs.setdefault(name, []).append(run())
    # The lake ends as the HTTP run of the day left it, for the candles.
    materialize(TICKS, partition(DAY), http)


def measure_candles(scenario: Scenario, server: "TardisServer", repeat: int) -> None:
    """Candles of the day (a) landed, net of the empty day, against polars' plain OHLCV."""
    http = environment(scenario, server)
    if "cli" not in scenario.runs:  # candles alone: land the ticks first, untimed
        materialize(TICKS, partition(EMPTY_DAY), http)
        materialize(TICKS, partition(DAY), http)
    [trades] = sorted((scenario.lake / "ticks" / "trades" / f"date={DAY}").glob("*/*.parquet"))
    script = str(Path(candles_bench.__file__))
    contenders = {
        "candles": lambda: materialize("group:candles", partition(DAY), http),
        "candles_empty_day": lambda: materialize("group:candles", partition(EMPTY_DAY), http),
        "candles_polars": lambda: measure(script, "polars", "--trades", str(trades)),
    }
    for _ in range(repeat):
        for name, run in contenders.items():
            scenario.runs.setdefault(name, []).append(run())


def measure_features(folder: Path, repeat: int) -> dict[str, list[Any]]:
    """bench/features.py's world and polars peer, the features timed through the CLI."""
    lookback = features_bench.product_lookback()
    lake = folder / "lake"
    started = time.perf_counter()
    rows = features_bench.write_lake(lake, lookback)
    print(f"features: wrote {rows:,} candle rows in {time.perf_counter() - started:.1f} s")
    home = dagster_home(folder / "dagster_home")
    (home / "universe.yaml").write_text(features_bench.UNIVERSE)
    cli = dagster_environment(
        home, MARKET_DATA_ROOT=str(lake), MARKET_DATA_UNIVERSE=str(home / "universe.yaml")
    )
    flags = ("--lake", str(lake), "--home", str(home), "--lookback", json.dumps(lookback))
    day, fixed = features_bench.DAY, features_bench.FIXED_COST_DAY
    contenders = {
        "features": lambda: materialize("group:features", partition(day), cli),
        "features_empty_day": lambda: materialize("group:features", partition(fixed), cli),
        "features_polars": lambda: measure(str(Path(features_bench.__file__)), "polars", *flags),
    }
    runs: dict[str, list[Any]] = {}
    materialize("group:features", partition(fixed), cli)  # creates the instance
    for _ in range(repeat):
        for name, run in contenders.items():
            runs.setdefault(name, []).append(run())
    return runs


# --- the report --------------------------------------------------------------------------


def seconds(run: CliRun | dict) -> float:
    return run.seconds if isinstance(run, CliRun) else run["seconds"]


def best(runs: list[Any]) -> Any:
    return min(runs, key=seconds)


def best_steps(runs: list[CliRun]) -> dict[str, float]:
    """Each step's fastest time over the runs."""
    return {step: min(run.steps.get(step, float("inf")) for run in runs) for step in runs[0].steps}


def counted(steps: dict[str, float], excluded: tuple[str, ...] = ()) -> float:
    return sum(took for step, took in steps.items() if step not in excluded)


def step_table(day_runs: list[CliRun], empty_runs: list[CliRun], slowest: list) -> dict[str, float]:
    """Print every step of the day, the empty day and the net; return the day's steps."""
    day, empty = best_steps(day_runs), best_steps(empty_runs)
    checks = day_runs[0].check_steps()
    print(f"  {'step':<44}{'day s':>9}{'empty s':>9}{'net s':>9}  share of its asset's step")
    for step, took in day.items():
        share = ""
        if step in checks:
            owner = checks[step]
            share = f"{took / day[owner]:>6.1%} of {owner}"
        checked = sorted(
            check.split(":")[1] for check in day_runs[0].checked.get(step, ()) if step not in checks
        )
        if checked:
            share = f"checks inside: {', '.join(checked)}"
        net = took - empty.get(step, 0.0)
        print(f"  {step:<44}{took:>9.2f}{empty.get(step, 0.0):>9.2f}{net:>9.2f}  {share}")
        slowest.append((took, step))
    return day


def report_ticks(scenario: Scenario, slowest: list) -> dict[str, float]:
    runs = scenario.runs
    print(f"\n== ticks {scenario.describe()}, best of {len(runs['cli'])}")
    print(f"  HTTP run of {DAY}, the empty day {EMPTY_DAY}, net:")
    day = step_table(runs["cli"], runs["cli_empty_day"], slowest)
    empty = best_steps(runs["cli_empty_day"])
    mirror = best_steps(runs["cli_mirror"])
    excluded = ("instrument_definitions",)
    ours = counted(day, excluded) - counted(empty, excluded)
    wall = seconds(best(runs["cli"])) - seconds(best(runs["cli_empty_day"]))
    polars, pandas = seconds(best(runs["polars"])), seconds(best(runs["pandas"]))
    asset_step = runs["cli"][0].asset_step(TICKS_ASSET)
    download, parse = seconds(best(runs["download_only"])), mirror[asset_step]
    rss = min(run.tree_rss_mb for run in runs["cli"])
    print(
        f"  ticks/trades with its checks, net: {ours:.2f} s (the command's wall time, net: "
        f"{wall:.2f} s); polars scan_csv → sink_parquet {polars:.2f} s; pandas {pandas:.2f} s"
    )
    print(f"  speed ratio polars / ours: {polars / ours:.2f}  (target ≥ 1.0)")
    print(f"  speed ratio pandas / ours: {pandas / ours:.2f}")
    overlap = day[asset_step] / max(download, parse)
    print(
        f"  {asset_step} step {day[asset_step]:.2f} s; download only {download:.2f} s; parse "
        f"only (the step on a mirror) {parse:.2f} s; step / max: {overlap:.2f}  (target ≤ 1.2)"
    )
    print(f"  peak RSS of the CLI's process tree: {rss:,.0f} MB  (target ≤ 1024 MB for (a))")
    return {"net": ours, "polars": polars, "pandas": pandas, "overlap": overlap, "rss": rss}


def report_candles(scenario: Scenario, slowest: list) -> None:
    print(f"\n== candles of ticks {scenario.describe()}, best of {len(scenario.runs['candles'])}")
    _report_derived(
        scenario.runs,
        "candles",
        "polars plain OHLCV of the same seven timeframes",
        slowest,
        rss_target="  (target ≤ 1536 MB)",
    )


def report_features(runs: dict[str, list[Any]], slowest: list) -> None:
    print(f"\n== features of bench/features.py's lake, best of {len(runs['features'])}")
    _report_derived(runs, "features", "polars computing the same features", slowest)


def _report_derived(
    runs: dict[str, list[Any]], name: str, peer: str, slowest: list, rss_target: str = ""
) -> None:
    """A derived asset's steps and checks, net of the empty day, against its polars peer."""
    empty = runs[f"{name}_empty_day"]
    day = step_table(runs[name], empty, slowest)
    ours = counted(day) - counted(best_steps(empty))
    wall = seconds(best(runs[name])) - seconds(best(empty))
    polars = seconds(best(runs[f"{name}_polars"]))
    rss = min(run.tree_rss_mb for run in runs[name])
    print(
        f"  {name} with their checks, net: {ours:.2f} s (wall net {wall:.2f} s); "
        f"{peer} {polars:.2f} s"
    )
    print(f"  time ratio ours / polars: {ours / polars:.2f}  (target ≤ 1.0)")
    print(f"  peak RSS of the CLI's process tree: {rss:,.0f} MB{rss_target}")


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only these parts; repeatable"
    )
    parser.add_argument("--trades", type=int, default=5_000_000, help="trades of (a)")
    parser.add_argument("--instruments", type=int, default=40, help="instruments of (b)")
    parser.add_argument("--per-instrument", type=int, default=125_000, help="trades each, (b)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per contender; best kept")
    parser.add_argument("--small", action="store_true", help="a quick run: small days, once")
    parser.add_argument("--child", choices=("polars", "pandas", "download"), help=argparse.SUPPRESS)
    parser.add_argument("--files", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--symbols", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "download":
        child_download(args.endpoint, args.symbols.split(","))
        return
    if args.child:
        child_peer(args.child, args.files)
        return
    if args.small:
        args.trades, args.instruments = SMALL["trades"], SMALL["instruments"]
        args.per_instrument, args.repeat = SMALL["per_instrument"], SMALL["repeat"]
    parts = args.only or list(PARTS)

    from tardis_local import catalog

    load_before = os.getloadavg()[0]
    slowest: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-materialize-") as folder:
        root = Path(folder)
        scenarios = [Scenario("a", ["BTCUSDT"], args.trades, root / "a")]
        if "ticks" in parts:
            symbols = catalog.list_liquid_perpetuals(VENUE, args.instruments)
            scenarios.append(Scenario("b", symbols, args.per_instrument, root / "b"))
        for scenario in scenarios if {"ticks", "candles"} & set(parts) else []:
            started = time.perf_counter()
            server = serve(scenario)
            size = sum(path.stat().st_size for path in day_files(scenario.files))
            print(
                f"ticks {scenario.describe()}: {size / 1e6:.1f} MB gzipped, served on "
                f"{server.datasets_endpoint} (generated in {time.perf_counter() - started:.1f} s)"
            )
            try:
                if "ticks" in parts:
                    measure_ticks(scenario, server, args.repeat)
                if "candles" in parts and scenario.name == "a":
                    measure_candles(scenario, server, args.repeat)
            finally:
                server.close()
        features = measure_features(root / "features", args.repeat) if "features" in parts else {}
        load_after = os.getloadavg()[0]

    figures = {}
    for scenario in scenarios:
        if "cli" in scenario.runs:
            figures[scenario.name] = report_ticks(scenario, slowest)
        if "candles" in scenario.runs:
            report_candles(scenario, slowest)
    if features:
        report_features(features, slowest)
    if figures:
        print("\nticks summary (speed ratio polars / ours, target ≥ 1.0):")
        for name, found in figures.items():
            print(
                f"  ({name}) net {found['net']:.2f} s, polars {found['polars']:.2f} s: "
                f"{found['polars'] / found['net']:.2f}; step / max(download, parse) "
                f"{found['overlap']:.2f}; peak RSS {found['rss']:,.0f} MB"
            )
    print("\nslowest three steps (seconds on the day):")
    for took, step in sorted(slowest, reverse=True)[:3]:
        print(f"  {step:<44}{took:>9.2f}")
    print(
        f"load average (1 min) before / after: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} CPUs (other work on the machine shows in the net figures)"
    )


if __name__ == "__main__":
    main()

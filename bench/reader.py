"""Benchmark: the reader's sparse windows and a month of candles, against polars and DuckDB.

A 5,000,000-trade day is generated and landed by the production ``ticks/trades`` path in
a local lake, with a quiet next day (100,000 trades) as a lake has one: the day window
opens its footer. Then 30 days of generated 1m candles for 10 instruments. The lake is
copied to a ``gs://`` lake on gcp-storage-emulator, run in its own process. Each
contender runs in a fresh process, best of ``--repeat``, on local disk and on GCS:
- windows: 20 windows of ±1 minute at random times of the day, every column;
  ours (``Lake.windows``), the full read of the day then the windows cut from it,
  polars (``scan_parquet`` + a filter per window, one collect) and DuckDB (one UNION ALL
  of the windows' SELECTs over ``read_parquet``) on the same file;
- candles: the month for the 10 instruments, ours (``Lake.candles``) and DuckDB on the
  same 30 files.
Bytes are counted, not estimated: locally the process's read calls (``rchar`` of
/proc/self/io), on GCS the bytes the emulator served. Targets are printed, never asserted.

    .venv/bin/python bench/reader.py [--rows 5000000] [--repeat 3]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, report

DAY, VENUE, SYMBOL = date(2024, 3, 1), "binance-futures", "BTCUSDT"
KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT"
MINUTE = timedelta(minutes=1)
MIDNIGHT = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
TIMES = sorted(
    MIDNIGHT + timedelta(seconds=int(s)) for s in np.random.default_rng(7).integers(60, 86_340, 20)
)
MONTH = [date(2024, 4, 1) + timedelta(days=n) for n in range(30)]
BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "DOT", "LTC")
KEYS = [f"BINANCE-FUTURES:PERPETUAL:{base}-USDT" for base in BASES]
BUCKET = "bench"
# The emulator in its own process, counting what it serves, and answering as GCS does
# where it falls short: connections served side by side and a listen backlog above 5
# (beyond it, concurrent ranged reads lose their SYN and wait a second to retry),
# validators on every object read (polars' object_store needs them) and suffix ranges
# (bytes=-N, polars' footer read).
EMULATOR = """
import http.server, re, sys, threading
from email.utils import formatdate
import gcp_storage_emulator.server as emulator
from gcp_storage_emulator.handlers import objects

http.server.ThreadingHTTPServer.request_queue_size = 128
http.server.HTTPServer = http.server.ThreadingHTTPServer
served, lock = {"bytes": 0, "reads": 0}, threading.Lock()
write_file = emulator.Response.write_file

def counted(self, content, content_type="application/octet-stream"):
    self["Last-Modified"], self["ETag"] = formatdate(usegmt=True), '"0"'
    with lock:
        served["bytes"] += len(content)
        served["reads"] += 1
    write_file(self, content, content_type)

def download(request, response, storage, *args, **kwargs):
    suffix = re.fullmatch(r"\\s*bytes=-(\\d+)\\s*", request.get_header("range", "") or "")
    if suffix:
        size = len(storage.get_file(request.params["bucket_name"], request.params["object_id"]))
        headers = request._request_handler.headers
        del headers["Range"]
        headers["Range"] = f"bytes={max(0, size - int(suffix[1]))}-"
    return objects.download(request, response, storage, *args, **kwargs)

emulator.Response.write_file = counted
emulator.HANDLERS = ((r"^/__served$", {"GET": lambda q, r, *a, **k: r.json(served)}),) + tuple(
    (regex, {m: download if h is objects.download else h for m, h in handlers.items()})
    for regex, handlers in emulator.HANDLERS
)
port = int(sys.argv[1])
emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket="bench").start()
threading.Event().wait()
"""


def paths(root: str) -> dict[str, object]:
    """The day's trades file and the month's candle files under ``root``."""
    trades = (
        f"{root}/ticks/trades/date={DAY}/venue={VENUE}/BINANCE-FUTURES__PERPETUAL__BTC-USDT.parquet"
    )
    candles = [f"{root}/candles/1m/date={day}/venue={VENUE}/part-00000.parquet" for day in MONTH]
    return {"trades": trades, "candles": candles}


def windows_ours(root: str) -> int:
    from market_reader import Lake

    return (
        Lake(root).windows(KEY, "trades", TIMES, before=MINUTE, after=MINUTE, as_="arrow").num_rows
    )


def windows_full(root: str) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    from resources.lake import ParquetLake

    day = ParquetLake(root, anonymous=root.startswith("gs://")).read(
        ("ticks", "trades"), str(DAY), VENUE
    )
    stamps = day.column("timestamp")
    cut = [
        day.filter(pc.and_(pc.greater_equal(stamps, t - MINUTE), pc.less(stamps, t + MINUTE)))
        for t in TIMES
    ]
    return pa.concat_tables(cut).num_rows


def windows_polars(root: str) -> int:
    import polars as pl

    scan = pl.scan_parquet(paths(root)["trades"], storage_options=_polars_options(root))
    frames = [
        scan.filter(
            pl.col("timestamp").is_between(t - MINUTE, t + MINUTE, closed="left")
        ).with_columns(window=pl.lit(t))
        for t in TIMES
    ]
    return pl.concat(frames).collect().height


def windows_duckdb(root: str) -> int:
    file = paths(root)["trades"]
    selects = [
        f"SELECT TIMESTAMPTZ '{t.isoformat()}' AS window, * FROM read_parquet('{file}') "
        f"WHERE timestamp >= TIMESTAMPTZ '{(t - MINUTE).isoformat()}' "
        f"AND timestamp < TIMESTAMPTZ '{(t + MINUTE).isoformat()}'"
        for t in TIMES
    ]
    return _duckdb(root).sql(" UNION ALL ".join(selects)).arrow().read_all().num_rows


def candles_ours(root: str) -> int:
    from market_reader import Lake

    start, end = MONTH[0], MONTH[-1] + timedelta(days=1)
    return Lake(root).candles(KEYS, "1m", start, end, as_="arrow").num_rows


def candles_duckdb(root: str) -> int:
    files = ", ".join(f"'{file}'" for file in paths(root)["candles"])
    keys = ", ".join(f"'{key}'" for key in KEYS)
    query = (
        f"SELECT * FROM read_parquet([{files}]) WHERE instrument_key IN ({keys}) "
        f"AND timestamp >= TIMESTAMPTZ '{MONTH[0]}T00:00:00+00:00' "
        f"AND timestamp < TIMESTAMPTZ '{MONTH[-1] + timedelta(days=1)}T00:00:00+00:00' "
        "ORDER BY instrument_key, timestamp"
    )
    return _duckdb(root).sql(query).arrow().read_all().num_rows


def _polars_options(root: str) -> dict[str, str] | None:
    if not root.startswith("gs://"):
        return None
    return {"google_base_url": os.environ["STORAGE_EMULATOR_HOST"], "google_skip_signature": "true"}


def _duckdb(root: str) -> "duckdb.DuckDBPyConnection":
    import duckdb

    connection = duckdb.connect()
    if root.startswith("gs://"):
        import gcsfs

        # DuckDB reads gs:// through fsspec: its own GCS support needs HMAC keys (S3 API).
        connection.register_filesystem(gcsfs.GCSFileSystem(token="anon"))
    return connection


CONTENDERS = {
    "windows:ours": windows_ours,
    "windows:full": windows_full,
    "windows:polars": windows_polars,
    "windows:duckdb": windows_duckdb,
    "candles:ours": candles_ours,
    "candles:duckdb": candles_duckdb,
}


def child(name: str, root: str) -> None:
    """Run one contender and print its figures. It runs once untimed on a copy of the
    lake, so that lazy imports, thread pools and connections are not counted, then on
    ``root``, files this process has not opened: the figures are the read alone."""
    warnings.simplefilter("ignore")  # a LateRowsWarning for the day after the next
    CONTENDERS[name](f"{root}-warm")
    counter = _served if root.startswith("gs://") else _rchar
    before = counter()
    started = time.perf_counter()
    rows = CONTENDERS[name](root)
    seconds = time.perf_counter() - started
    report({"rows": rows, "seconds": seconds, "bytes": counter() - before})


def _rchar() -> int:
    return int(
        dict(line.split(":") for line in Path("/proc/self/io").read_text().splitlines())["rchar"]
    )


def _served() -> int:
    with urllib.request.urlopen(f"{os.environ['STORAGE_EMULATOR_HOST']}/__served") as answer:
        return json.load(answer)["bytes"]


def land_trades(lake_root: Path, rows: int) -> None:
    """Generate the day (and a quiet next day) and land them as ``ticks/trades`` does."""
    from market_assets.ticks.columns import TRADES
    from market_assets.ticks.tardis_csv import read_tardis_csv
    from market_assets.ticks.types import file_name
    from resources.lake import LakeFile, ParquetLake
    from tardis_local.generate import write_dataset

    lake = ParquetLake(str(lake_root))
    for day, count in ((DAY, rows), (DAY + timedelta(days=1), 100_000)):
        source = lake_root.parent / f"{VENUE}_trades_{day}_{SYMBOL}.csv.gz"
        write_dataset(source, VENUE, "trades", SYMBOL, day, rows_per_day=count)
        batches = read_tardis_csv(source, TRADES, {SYMBOL: KEY})
        lake.write_partition(
            ("ticks", "trades"), str(day), VENUE, [LakeFile(file_name(KEY), TRADES.schema, batches)]
        )
        source.unlink()


def land_candles(lake_root: Path) -> None:
    """A month of generated 1m candles for ``KEYS``: every bar of every day, every column."""
    import pyarrow as pa

    from market_assets.candles.columns import CANDLES
    from resources.lake import LakeFile, ParquetLake

    lake, rng = ParquetLake(str(lake_root)), np.random.default_rng(11)
    for day in MONTH:
        opens = np.datetime64(day, "us").astype(np.int64) + np.arange(1_440) * 60_000_000
        stamps = pa.array(np.tile(opens, len(KEYS))).cast(CANDLES.schema.field("timestamp").type)
        columns = {"instrument_key": pa.array(np.repeat(KEYS, 1_440)), "timestamp": stamps}
        for field in CANDLES.schema:
            if field.name in columns:
                continue
            if pa.types.is_floating(field.type):
                # A random walk in cents compresses as real prices do, unlike noise.
                walk = np.exp(np.cumsum(rng.normal(0, 1e-3, len(stamps))))
                columns[field.name] = pa.array(np.round(100 * walk, 2))
            elif pa.types.is_integer(field.type):
                columns[field.name] = pa.array(rng.integers(0, 500, len(stamps)))
            else:
                columns[field.name] = stamps.cast(field.type)
        table = pa.table(columns).cast(CANDLES.schema)
        part = LakeFile("part-00000", CANDLES.schema, table.to_batches())
        lake.write_partition(("candles", "1m"), str(day), VENUE, [part])


def start_emulator() -> tuple[subprocess.Popen, str]:
    """The GCS emulator in a child process, and its endpoint once it answers."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(port)], stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/__served")
            return process, endpoint
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the GCS emulator did not start")


def upload(lake_root: Path) -> str:
    """Copy the local lake (twice: the second copy warms each child up) to the emulator's
    bucket; the ``gs://`` root."""
    import gcsfs

    store = gcsfs.GCSFileSystem(token="anon")
    for copy in ("lake", "lake-warm"):
        for path in sorted(lake_root.rglob("*.parquet")):
            store.put_file(str(path), f"{BUCKET}/{copy}/{path.relative_to(lake_root)}")
    return f"gs://{BUCKET}/lake"


def show(place: str, best: dict[str, dict], file_bytes: int, candle_bytes: int) -> None:
    print(f"\n{place}: {'contender':<16} {'rows':>8} {'seconds':>8} {'MB read':>8} {'of file':>8}")
    for name, figures in best.items():
        size = file_bytes if name.startswith("windows") else candle_bytes
        print(
            f"{place}: {name:<16} {figures['rows']:>8,} {figures['seconds']:>8.3f} "
            f"{figures['bytes'] / 1e6:>8.2f} {figures['bytes'] / size:>8.1%}"
        )
    ours = best["windows:ours"]
    peers = min(best["windows:polars"]["seconds"], best["windows:duckdb"]["seconds"])
    print(
        f"{place}: 20 windows read {ours['bytes'] / file_bytes:.2%} of the file, "
        f"{ours['bytes'] / file_bytes / 20:.2%} a window (target ≤ 2%: 20 × 2 minutes are "
        f"{40 / 1440:.1%} of a day); {best['windows:full']['seconds'] / ours['seconds']:.0f}× "
        f"faster than the full read, {20 * best['windows:full']['seconds'] / ours['seconds']:.0f}× "
        "a window (target ≥ 50×)"
    )
    print(
        f"{place}: ours / faster of polars and DuckDB: {ours['seconds'] / peers:.2f} (target ≤ 1); "
        f"candles ours / DuckDB: "
        f"{best['candles:ours']['seconds'] / best['candles:duckdb']['seconds']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best kept")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root)
        return

    with tempfile.TemporaryDirectory(prefix="bench-reader-") as folder:
        lake_root = Path(folder) / "lake"
        started = time.perf_counter()
        land_trades(lake_root, args.rows)
        land_candles(lake_root)
        shutil.copytree(lake_root, f"{lake_root}-warm")
        file_bytes = Path(paths(str(lake_root))["trades"]).stat().st_size
        candle_bytes = sum(Path(p).stat().st_size for p in paths(str(lake_root))["candles"])
        print(
            f"landed {args.rows:,} trades of {DAY} ({file_bytes / 1e6:.1f} MB) and "
            f"{len(MONTH)} days of 1m candles for {len(KEYS)} instruments "
            f"({candle_bytes / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        show(
            "local",
            best_of(__file__, CONTENDERS, args.repeat, "--root", str(lake_root)),
            file_bytes,
            candle_bytes,
        )
        emulator, endpoint = start_emulator()
        try:
            os.environ["STORAGE_EMULATOR_HOST"] = endpoint
            os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
            root = upload(lake_root)
            show(
                "gcs",
                best_of(__file__, CONTENDERS, args.repeat, "--root", root),
                file_bytes,
                candle_bytes,
            )
        finally:
            emulator.kill()
            emulator.wait()


if __name__ == "__main__":
    main()

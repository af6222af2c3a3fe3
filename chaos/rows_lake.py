"""Lake faults: a run killed mid-write (local and GCS), a full disk, an object store
answering 503, two runs of one partition at once, a staging folder left by a crash."""

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chaos.gcs import BUCKET, gcs_emulator
from chaos.measure import lake_state, reference_trades
from chaos.outcome import Result, excerpt, lake_root, settle
from chaos.world import World, world

ETH_FILE = "/trades/2024/01/02/ETHUSDT"


@contextmanager
def gcs_world(name: str) -> Iterator[tuple[World, object]]:
    """A world whose lake is on the GCS emulator, reached by the runs through the fault
    proxy and by the measurements directly."""
    folder = Path(tempfile.mkdtemp(prefix="chaos-gcs-"))
    with gcs_emulator(folder) as (direct, proxy):
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = direct  # this process measures directly
        try:
            with world(lake_root=f"gs://{BUCKET}/{name}") as w:
                w.extra.update(
                    STORAGE_EMULATOR_HOST=proxy.endpoint,
                    GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false",
                    MARKET_DATA_WAREHOUSE=f"duckdb:///{w.folder}/market.duckdb",
                )
                yield w, proxy
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


def _staged_parquet(w: World) -> bool:
    return any((Path(w.lake_root) / "_staging").rglob("*.parquet"))


def sigkill_local() -> Result:
    with world() as w:
        # ETHUSDT's body stalls, so the run is caught with BTCUSDT's file staged.
        w.server.inject("stall_body", path_contains=ETH_FILE, stall_seconds=120)
        with w.background() as run:
            staged = run.wait_for(lambda: _staged_parquet(w))
            run.kill()
            killed = run.finish()
        observed_kill = "killed with a file staged" if staged else "killed (nothing staged yet)"
        result = settle(
            w,
            "lake",
            "SIGKILL mid-write, local lake",
            "nothing published; a rerun writes it whole",
            killed,
            recovers=False,
            final=False,
        )
        return _with(result, observed_kill, staged)


def sigkill_gcs() -> Result:
    with gcs_world("sigkill") as (w, proxy):
        # The second object's upload is held: the run dies mid-publish.
        proxy.inject("POST", "ETH-USDT", "hold", times=1, hold=120)
        with w.background() as run:
            holding = run.wait_for(lambda: any(s == 0 for _, _, s in proxy.seen), 180)
            run.kill()
            killed = run.finish()
        proxy.clear()
        what = "killed mid-publish (one object up)" if holding else "killed before publishing"
        result = settle(
            w,
            "lake",
            "SIGKILL mid-publish, GCS lake",
            "no partial partition visible; a rerun writes it whole",
            killed,
            recovers=False,
            final=False,
        )
        return _with(result, what, holding)


def _with(result: Result, what: str, reached: bool) -> Result:
    rerun = result.observed.split("; the rerun failed too", 1)
    observed = f"{what}; " + (
        f"the rerun failed too{rerun[1]}"
        if len(rerun) > 1
        else f"{result.partial} partial files visible; the rerun wrote it whole"
    )
    met = reached and result.partial == 0 and result.lost == 0 and result.duplicated == 0
    return Result(**{**result.__dict__, "observed": observed, "met": met})


def disk_full() -> Result:
    mount = Path(tempfile.mkdtemp(prefix="chaos-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        return Result(
            "lake",
            "disk full mid-write (2 MB tmpfs)",
            "fails naming the lake",
            f"not run: mount failed ({mounted.stderr.strip()})",
            False,
            None,
            None,
            None,
            None,
        )
    try:
        with world(lake_root=str(mount / "lake")) as w:
            (mount / "lake").mkdir()
            filler = mount / "filler"
            # Leave ~60 kB: the instrument definitions (10 kB) and BTCUSDT's trades (36 kB)
            # fit, ETHUSDT's (32 kB) hits ENOSPC mid-write.
            subprocess.run(
                ["dd", "if=/dev/zero", f"of={filler}", "bs=1k", "count=1988"], capture_output=True
            )
            run = w.materialize()
            partial = lake_state(lake_root(w)).partial_visible(reference_trades())
            staging = list((mount / "lake" / "_staging").glob("*"))
            filler.unlink()
            said = run.line_with("the disk holding the lake is full", "MARKET_DATA_ROOT")
            result = settle(
                w,
                "lake",
                "disk full mid-write (2 MB tmpfs)",
                "fails naming the lake and the fix; nothing published",
                run,
                recovers=False,
                says=("the disk holding the lake is full",),
                final=False,
            )
            observed = result.observed + (
                f"; {len(staging)} staging folders left" if staging else ""
            )
            return Result(
                **{
                    **result.__dict__,
                    "observed": observed,
                    "partial": partial,
                    "met": result.met and bool(said) and not staging,
                }
            )
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def gcs_503(method: str, contains: str, label: str, times: int, recovers: bool) -> Result:
    with gcs_world(f"503-{method.lower()}-{times}") as (w, proxy):
        proxy.inject(method, contains, "503", times=times)
        run = w.materialize()
        answered = sum(s == 503 for _, _, s in proxy.seen)
        proxy.clear()
        expected = "recovers" if recovers else "fails naming the bucket; nothing half-published"
        result = settle(
            w, "lake", label, expected, run, recovers=recovers, says=("503",), final=False
        )
        return Result(**{**result.__dict__, "observed": f"{answered} × 503; {result.observed}"})


def concurrent(gcs: bool) -> Result:
    label = f"two runs of one partition at once, {'GCS' if gcs else 'local'} lake"
    context = gcs_world("concurrent") if gcs else _local_world()
    with context as (w, _):
        started = time.monotonic()
        with w.background() as first, w.background() as second:
            runs = [first.finish(), second.finish()]
        seconds = time.monotonic() - started
        reference = reference_trades()
        state = lake_state(lake_root(w))
        oks = sum(r.ok for r in runs)
        failures = [excerpt(r) for r in runs if not r.ok]
        observed = f"{oks} of 2 succeeded" + (f"; {failures[0]}" if failures else "")
        met = oks >= 1 and state.rows == reference
        return Result(
            "lake",
            label,
            "both succeed, or one fails clearly; the partition whole",
            observed,
            met,
            seconds,
            state.lost(reference),
            state.duplicated(reference),
            state.partial_visible(reference),
        )


@contextmanager
def _local_world() -> Iterator[tuple[World, None]]:
    with world() as w:
        yield w, None


def staging_left_behind() -> Result:
    with world() as w:
        # What a crash leaves: a staging folder with a half-written file, two days old.
        staging = Path(w.lake_root) / "_staging" / "0123abcd-crashed"
        staging.mkdir(parents=True)
        (staging / "BINANCE__SPOT_PAIR__BTC-USDT.parquet").write_bytes(b"PAR1 torn")
        old = time.time() - 3 * 86_400
        os.utime(staging, (old, old))
        run = w.materialize()
        left = staging.exists()
        result = settle(
            w,
            "lake",
            "a staging folder left behind by a crash (3 days old)",
            "invisible to readers; removed by the next write",
            run,
            recovers=True,
        )
        observed = result.observed + (
            "; the old staging folder is still there"
            if left
            else "; the old staging folder was removed"
        )
        return Result(**{**result.__dict__, "observed": observed, "met": result.met and not left})


def rows() -> list:
    return [
        sigkill_local,
        sigkill_gcs,
        disk_full,
        lambda: gcs_503("POST", "/upload/", "GCS answers 503 to 3 uploads", 3, True),
        lambda: gcs_503("GET", "/o?", "GCS answers 503 to 3 listings", 3, True),
        lambda: gcs_503("POST", "/upload/", "GCS answers 503 to every upload", 10_000, False),
        lambda: concurrent(gcs=False),
        lambda: concurrent(gcs=True),
        staging_left_behind,
    ]

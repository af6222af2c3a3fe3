"""The lake's bad days, against real storage: a writer killed mid-upload on the GCS
emulator, a full disk (a small tmpfs), two publishes of one partition at once, and the
staging folders a crash leaves behind."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from chaos.gcs import BUCKET, gcs_emulator
from resources.lake import STALE_STAGING_SECONDS, LakeFile, ParquetLake

ASSET = ("ticks", "trades")
REPO = Path(__file__).resolve().parents[2]


def instrument_file(name: str, rows: int, seed: int = 0) -> LakeFile:
    table = pa.table(
        {
            "instrument_key": [name] * rows,
            # Random prices do not compress: the bytes on disk are what the test sizes.
            "price": np.random.default_rng(seed).random(rows),
        }
    )
    return LakeFile(name, table.schema, table.to_batches())


def partition(n: int = 2, rows: int = 1000, seed: int = 0) -> list[LakeFile]:
    return [instrument_file(f"INSTRUMENT_{i}", rows, seed) for i in range(n)]


# A child process that writes a two-file partition to gs:// through the fault proxy.
_WRITER = """
import sys
import numpy as np
import pyarrow as pa
from resources.lake import LakeFile, ParquetLake

files = []
for i in range(2):
    table = pa.table({"instrument_key": [f"INSTRUMENT_{i}"] * 1000, "price": [1.0] * 1000})
    files.append(LakeFile(f"INSTRUMENT_{i}", table.schema, table.to_batches()))
ParquetLake(sys.argv[1], anonymous=True).write_partition(
    ("ticks", "trades"), "2024-01-02", "binance", iter(files)
)
"""


def test_a_writer_killed_mid_upload_leaves_nothing_visible_on_gcs(tmp_path: Path) -> None:
    with gcs_emulator(tmp_path) as (direct, proxy):
        root = f"gs://{BUCKET}/killed"
        # The second object's upload is held until the writer is killed.
        proxy.inject("POST", "INSTRUMENT_1", "hold", times=1, hold=120)
        env = {
            **os.environ,
            "STORAGE_EMULATOR_HOST": proxy.endpoint,
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        }
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, root], cwd=REPO, env=env)
        try:
            deadline = time.monotonic() + 60
            while not any(status == 0 for _, _, status in proxy.seen):
                assert writer.poll() is None and time.monotonic() < deadline, proxy.seen
                time.sleep(0.05)
            uploaded_first = [p for m, p, s in proxy.seen if m == "POST" and s == 200]
            assert uploaded_first, "the first object went up before the hold"
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        proxy.clear()

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("STORAGE_EMULATOR_HOST", direct)
            patch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
            lake = ParquetLake(root, anonymous=True)
            lake.root.fs.invalidate_cache()
            assert lake.files(ASSET, "2024-01-02", "binance") == []
            # The rerun writes the partition whole.
            lake.write_partition(ASSET, "2024-01-02", "binance", iter(partition()))
            lake.root.fs.invalidate_cache()
            names = [p.name for p in lake.files(ASSET, "2024-01-02", "binance")]
            assert names == ["INSTRUMENT_0.parquet", "INSTRUMENT_1.parquet"]
            assert lake.read(ASSET, "2024-01-02", "binance").num_rows == 2000


def test_a_full_disk_names_the_lake_and_publishes_nothing() -> None:
    mount = Path(tempfile.mkdtemp(prefix="lake-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        lake = ParquetLake(str(mount / "lake"))
        lake.write_partition(ASSET, "2024-01-01", "binance", iter(partition(rows=100)))
        before = lake.read(ASSET, "2024-01-01", "binance")
        with pytest.raises(OSError, match="the disk holding the lake is full") as raised:
            # Incompressible prices: far more than the 1 MB disk holds.
            lake.write_partition(
                ASSET, "2024-01-01", "binance", iter(partition(n=3, rows=200_000, seed=7))
            )
        assert "MARKET_DATA_ROOT" in str(raised.value)
        assert "2024-01-01|binance" in str(raised.value)
        assert lake.read(ASSET, "2024-01-01", "binance").equals(before)
        assert list((mount / "lake" / "_staging").iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


class RacingLake(ParquetLake):
    """The real lake, its two writers lined up to publish at the same instant."""

    def __init__(self, root: str, barrier: threading.Barrier) -> None:
        super().__init__(root)
        self.barrier = barrier

    def _publish(self, staging: Path, final) -> None:
        self.barrier.wait()
        super()._publish(staging, final)


def test_two_publishes_of_one_partition_at_once_both_land_whole(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    for attempt in range(30):
        lake = RacingLake(root, threading.Barrier(2))
        errors: list[BaseException] = []

        def write(seed: int, lake: ParquetLake = lake, errors: list = errors) -> None:
            try:
                lake.write_partition(
                    ASSET, "2024-01-02", "binance", iter(partition(rows=50, seed=seed))
                )
            except BaseException as error:
                errors.append(error)

        seeds = (2 * attempt, 2 * attempt + 1)
        threads = [threading.Thread(target=write, args=(seed,)) for seed in seeds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        table = lake.read(ASSET, "2024-01-02", "binance")
        # One writer's partition, whole: its two files of 50 rows, never a mix.
        prices = table["price"].to_pylist()
        assert len(prices) == 100
        assert prices[:50] == prices[50:]
        assert prices[:50] in [list(np.random.default_rng(seed).random(50)) for seed in seeds]
    assert list((tmp_path / "lake" / "_staging").iterdir()) == []


def test_a_crashed_runs_staging_is_swept_and_a_live_one_kept(tmp_path: Path) -> None:
    lake = ParquetLake(str(tmp_path / "lake"))
    staging = tmp_path / "lake" / "_staging"
    crashed, live = staging / "dead-run", staging / "live-run"
    for folder in (crashed, live):
        folder.mkdir(parents=True)
        (folder / "INSTRUMENT_0.parquet").write_bytes(b"PAR1 torn")
    old = time.time() - STALE_STAGING_SECONDS - 60
    os.utime(crashed, (old, old))

    lake.write_partition(ASSET, "2024-01-02", "binance", iter(partition()))

    assert not crashed.exists()
    assert live.exists()
    assert lake.read(ASSET, "2024-01-02", "binance").num_rows == 2000

"""One row's world: a temporary folder with its DAGSTER_HOME, lake and universe, the local
Tardis server, and the ``dagster`` CLI run in a subprocess as a user runs it."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tardis_local.server import TardisServer

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY, VENUE = "2024-01-02", "binance"
PARTITION = f"{DAY}|{VENUE}"
SYMBOLS = ("BTCUSDT", "ETHUSDT")
API_KEY = "test-key"
INGEST = "instrument_definitions,ticks/trades"
# The candle checks read every timeframe, so the candles are built together.
DERIVED = "group:candles or key:warehouse/candles_1h"
# Short enough that a persistent fault's row fails in under a minute, long enough for
# a burst of three 500s (tardis-dev waits 4, 8 and 16 s after them) to recover inside it.
DEADLINE_SECONDS = 45
UNIVERSE = f"venues:\n  {VENUE}:\n    symbols: [{', '.join(SYMBOLS)}]\n    data_types: [trades]\n"
EXPORTED_UNTIL = datetime(2024, 1, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    """What one CLI call returned, and how long it took."""

    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and "RUN_FAILURE" not in self.output

    def line_with(self, *words: str) -> str | None:
        """The first output line holding every word (case-insensitive), or None."""
        for line in self.output.splitlines():
            if all(word.lower() in line.lower() for word in words):
                return line.strip()
        return None

    def retried(self) -> bool:
        return "STEP_UP_FOR_RETRY" in self.output


class World:
    """A fresh folder, instance and lake for one row, against ``server``."""

    def __init__(self, server: TardisServer, folder: Path, lake_root: str | None = None) -> None:
        self.server = server
        self.folder = folder
        self.home = folder / "dagster_home"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", self.home / "dagster.yaml")
        self.universe = folder / "universe.yaml"
        self.universe.write_text(UNIVERSE)
        self.lake_root = lake_root or str(folder / "lake")
        self.extra: dict[str, str] = {}

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TARDIS_", "MARKET_DATA_", "DAGSTER_"))
        }
        env.update(
            DAGSTER_HOME=str(self.home),
            MARKET_DATA_ROOT=self.lake_root,
            MARKET_DATA_UNIVERSE=str(self.universe),
            TARDIS_API_KEY=API_KEY,
            TARDIS_DATASETS_ENDPOINT=self.server.datasets_endpoint,
            TARDIS_API_ENDPOINT=self.server.api_endpoint,
            TARDIS_FILE_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
            **self.extra,
        )
        for name, value in overrides.items():
            if value == "":
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def dagster(self, *args: str, timeout: float = 600, **env: str) -> Run:
        started = time.monotonic()
        done = subprocess.run(
            [str(BIN / "dagster"), *args],
            cwd=REPO,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - started)

    def materialize(self, selection: str = INGEST, partition: str = PARTITION, **env: str) -> Run:
        return self.dagster(*_materialize_args(selection, partition), **env)

    @contextmanager
    def background(
        self, selection: str = INGEST, partition: str = PARTITION, **env: str
    ) -> Iterator["Background"]:
        """``dagster asset materialize`` started in its own process group."""
        log = self.folder / f"background-{time.monotonic_ns()}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [str(BIN / "dagster"), *_materialize_args(selection, partition)],
                cwd=REPO,
                env=self.env(**env),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            handle = Background(process, log, time.monotonic())
            try:
                yield handle
            finally:
                if process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _materialize_args(selection: str, partition: str) -> list[str]:
    """The user's ``dagster asset materialize`` arguments for one partition."""
    return [
        "asset",
        "materialize",
        "-m",
        "market_assets",
        "--select",
        selection,
        "--partition",
        partition,
    ]


@dataclass
class Background:
    process: subprocess.Popen
    log: Path
    started: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition, seconds: float = 120) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                return bool(condition())
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        """SIGKILL the whole run: the CLI and every process it started."""
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def finish(self, timeout: float = 600) -> Run:
        self.process.wait(timeout=timeout)
        return Run(self.process.returncode, self.output(), time.monotonic() - self.started)


@contextmanager
def world(lake_root: str | None = None, **server_options) -> Iterator[World]:
    """A fresh world with its own Tardis server (faults never leak between rows)."""
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    options = {"exported_until": EXPORTED_UNTIL, **server_options}
    try:
        with TardisServer(**options) as server:
            yield World(server, folder, lake_root)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

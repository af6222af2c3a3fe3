"""The local stand-ins started as child processes, shared by the tests and ``chaos/``:
free ports, waiting for a server to answer, and the BigQuery emulator."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A BigQuery stand-in: bqemulator (DuckDB underneath) in a child process, offline.
_BIGQUERY_EMULATOR = """
import sys
import duckdb
from duckdb_extensions import import_extension

# The emulator loads DuckDB's spatial extension at start; install it from its PyPI wheel.
connection = duckdb.connect()
import_extension("spatial", con=connection)
connection.close()

from bqemulator.config import Settings
from bqemulator.server import run_forever

port = int(sys.argv[1])
run_forever(
    Settings(rest_port=port, grpc_port=port + 1, default_project_id=sys.argv[2], log_level="error")
)
"""


def free_port(pair: bool = False) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on; with ``pair``, the next one too
    (bqemulator serves gRPC on the port after its REST port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    if not pair:
        return port
    if port < 65_000:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                pass
    return free_port(pair=True)


def wait_until_answering(
    url: str, process: subprocess.Popen, log: Path, what: str, seconds: float
) -> None:
    """Return once ``url`` answers; raise with the child's log if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log.read_text()}") from None
            time.sleep(0.2)


@contextmanager
def bigquery_emulator(home: Path, project: str, seconds: float = 90) -> Iterator[str]:
    """The BigQuery emulator for ``project`` in a child process; yields its endpoint, for
    ``BIGQUERY_EMULATOR_HOST``. DuckDB keeps its extensions under ``home``."""
    port = free_port(pair=True)
    log_path = home / "emulator.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _BIGQUERY_EMULATOR, str(port), project],
            env={**os.environ, "HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(
                f"{endpoint}/bigquery/v2/projects/{project}/datasets",
                process,
                log_path,
                "the BigQuery emulator",
                seconds,
            )
            yield endpoint
        finally:
            process.terminate()
            process.wait(timeout=10)

"""Security, proved on the real components.

- The Tardis key stays a secret: real materialisations with a real-looking key, on a
  SQLite instance and on PostgreSQL storage, succeed with the key on the wire and leave it
  in no log line, event, metadata, run config, compute log, storage row or lake file,
  refusals (401, a 403 whose body echoes the key) and their tracebacks included.
- The embedded UI (`make ui`, and `dagster dev` as the README runs it) listens on
  127.0.0.1 only.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import sqlite3
import string
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from dagster import DagsterInstance, EnvVar, Failure

from resources.bindings import build_resources
from resources.environment import Environment
from resources.tardis import KEY_PLACEHOLDER, TardisSource, as_failure
from tardis_local.server import TardisServer
from tests.emulators import free_port
from tests.integration.secrets_scan import places_holding, postgres_cells, tree_blobs
from tests.integration.test_postgres_backfill import postgres_db  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
# What a Tardis key looks like: "TD." and 40 letters and digits; a fresh one each session.
KEY = "TD." + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
PARTITION = "2024-01-02|binance"  # not the first of a month: only a key opens it
EXPORTED_UNTIL = datetime(2024, 1, 10, tzinfo=UTC)


class _EchoingRefusal(BaseHTTPRequestHandler):
    """A datasets endpoint that refuses every file with 403 and quotes the credentials it
    was sent in the body, as some APIs and proxies do: the worst case for error text."""

    def do_GET(self) -> None:
        # Files are refused (403); the metadata API fails (500), quoting the key too.
        status = 500 if self.path.startswith("/api/") else 403
        body = json.dumps(
            {"code": status, "message": f"{self.headers.get('Authorization')} may not read this"}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def echoing_refusal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingRefusal)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["sqlite", "postgres"])
def instance_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """DAGSTER_HOME of the embedded instance (SQLite) or of one on PostgreSQL storage,
    with the name of its PostgreSQL database ("" for SQLite)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = yaml.safe_load((REPO / "dagster.yaml").read_text())
    database = ""
    if request.param == "postgres":
        database = request.getfixturevalue("postgres_db")
        instance["storage"] = {
            "postgres": {
                "postgres_db": {
                    "hostname": "127.0.0.1",
                    "port": 5432,
                    "db_name": database,
                    "username": "postgres",
                    "password": "",
                }
            }
        }
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
    yield home, database


def dagster(home: Path, lake: Path, select: str, **tardis: str) -> subprocess.CompletedProcess:
    """`dagster asset materialize` of PARTITION as a user runs it, with the key set."""
    universe = home / "universe.yaml"
    universe.write_text("venues:\n  binance:\n    symbols: [BTCUSDT]\n    data_types: [trades]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARDIS_", "MARKET_DATA_"))}
    env.update(
        DAGSTER_HOME=str(home),
        MARKET_DATA_ROOT=str(lake),
        MARKET_DATA_UNIVERSE=str(universe),
        TARDIS_API_KEY=KEY,
        **tardis,
    )
    command = ["asset", "materialize", "-m", "market_assets", "--select", select]
    return subprocess.run(
        [DAGSTER, *command, "--partition", PARTITION],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_key_is_read_from_the_environment_by_name() -> None:
    # A key given as a plain string would be stored in the job snapshot as config.
    resources = build_resources(Environment.read({"TARDIS_API_KEY": KEY}))
    assert resources["tardis"].api_key == EnvVar("TARDIS_API_KEY")


def test_the_scan_finds_a_key_wherever_it_hides(tmp_path: Path) -> None:
    """The scan of the real test can fail: a key planted in each kind of place is found."""
    (tmp_path / "plain.log").write_text(f"Authorization: Bearer {KEY}\n")
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute("CREATE TABLE snapshots (body BLOB)")
        connection.execute("INSERT INTO snapshots VALUES (?)", (zlib.compress(KEY.encode()),))
    pq.write_table(pa.table({"url": [f"https://x/?key={KEY}"] * 1000}), tmp_path / "a.parquet")
    found = places_holding(KEY, tree_blobs(tmp_path))
    assert f"{tmp_path / 'plain.log'}" in found
    assert f"{tmp_path / 'runs.db'}:snapshots" in found
    assert f"{tmp_path / 'a.parquet'}:columns" in found
    assert places_holding("TD.absent", tree_blobs(tmp_path)) == []


def test_a_refusal_quoting_the_key_is_raised_without_it(echoing_refusal: str) -> None:
    """In process, the Python traceback of each failure the resource raises (a 403 on a
    file, a 500 from the instruments API) as Dagster would store it."""
    source = TardisSource(
        api_key=KEY,
        datasets_endpoint=f"{echoing_refusal}/datasets/v1",
        api_endpoint=f"{echoing_refusal}/api/v1",
        timeout_seconds=5,
    )
    failures = []
    for attempt in (
        lambda: source.fetch("binance", "trades", "BTCUSDT", date(2024, 1, 2)).__enter__(),
        lambda: source.instruments("binance"),
    ):
        with pytest.raises(Failure) as failed, as_failure():
            attempt()
        failures.append(failed.value)
    for failure in failures:
        text = "".join(traceback.format_exception(failure))
        assert KEY not in text and KEY not in repr(failure.__cause__.args), text
        assert f"Bearer {KEY_PLACEHOLDER} may not read this" in text
    assert "Tardis refused the API key for binance trades BTCUSDT 2024-01-02 (HTTP 403" in str(
        failures[0].description
    )
    assert "Tardis instruments for binance failed with HTTP 500" in failures[1].description
    # Failures that never held the key keep their chain for debugging.
    with pytest.raises(Failure) as unrelated, as_failure():
        TardisSource(api_key=KEY, api_endpoint="http://127.0.0.1:9/api/v1").exchange_details("x")
    assert unrelated.value.__cause__.__cause__ is not None


def test_the_key_leaks_nowhere(
    instance_home: tuple[Path, str], tmp_path: Path, echoing_refusal: str
) -> None:
    home, database = instance_home
    lake = tmp_path / "lake"
    outputs: list[tuple[str, str]] = []

    # 1. The key opens a non-free day and the instruments API: it is on the wire.
    with TardisServer(
        exported_until=EXPORTED_UNTIL, api_keys={KEY}, instruments_require_key=True
    ) as server:
        done = dagster(
            home,
            lake,
            "instrument_definitions,ticks/trades",
            TARDIS_DATASETS_ENDPOINT=server.datasets_endpoint,
            TARDIS_API_ENDPOINT=server.api_endpoint,
        )
        served = server.requests
    outputs.append(("success", done.stdout + done.stderr))
    assert done.returncode == 0, done.stderr[-3000:]
    assert ("GET", "/datasets/v1/binance/trades/2024/01/02/BTCUSDT.csv.gz", 200) in served
    assert ("GET", "/api/v1/instruments/binance", 200) in served

    # 2. A key Tardis does not know: 401, a failed run with its traceback.
    with TardisServer(exported_until=EXPORTED_UNTIL, api_keys={"TD.another"}) as server:
        refused = dagster(
            home,
            lake,
            "ticks/trades",
            TARDIS_DATASETS_ENDPOINT=server.datasets_endpoint,
            TARDIS_API_ENDPOINT=server.api_endpoint,
        )
        # 3. A 403 whose body quotes the Authorization header it was sent.
        echoed = dagster(
            home,
            lake,
            "ticks/trades",
            TARDIS_DATASETS_ENDPOINT=f"{echoing_refusal}/datasets/v1",
            TARDIS_API_ENDPOINT=server.api_endpoint,
        )
    for name, failed, code in (("401", refused, 401), ("403", echoed, 403)):
        outputs.append((name, failed.stdout + failed.stderr))
        assert failed.returncode != 0
        assert f"Tardis refused the API key for binance trades BTCUSDT 2024-01-02 (HTTP {code}" in (
            failed.stderr
        ), failed.stderr[-3000:]
        assert "Traceback" in failed.stderr or "Stack Trace" in failed.stderr
    # The echoed key reached the message, as the placeholder.
    assert f"Bearer {KEY_PLACEHOLDER} may not read this" in echoed.stderr

    # The runs as the instance holds them: their config, tags and every event.
    with DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 3
        records = [
            (
                f"run {run.run_id}",
                json.dumps({"config": run.run_config, "tags": run.tags}).encode(),
            )
            for run in runs
        ]
        records += [
            (
                f"events of {run.run_id}",
                "\n".join(map(repr, instance.all_logs(run.run_id))).encode(),
            )
            for run in runs
        ]
        materialised = [
            e
            for run in runs
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.is_step_materialization
        ]
        assert materialised  # metadata (URLs, sha256, counts) is among what is scanned
    compute_logs = list((home / "storage").rglob("compute_logs/*"))
    assert compute_logs, "no compute log was captured: the scan would miss them"

    blobs = [
        *((f"output of the {name} run", text.encode()) for name, text in outputs),
        *records,
        *tree_blobs(home),  # SQLite storage, event logs, compute logs
        *tree_blobs(lake),  # Parquet files (metadata and columns) and anything beside them
    ]
    if database:
        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=database) as connection:
            cells = list(postgres_cells(connection))
        assert any(place == "postgres:event_logs" for place, _ in cells)
        blobs += cells
    leaks = places_holding(KEY, blobs)
    assert leaks == [], "the Tardis key is in:\n" + "\n".join(leaks)
    # The job snapshot in storage names the key by its variable: where a key given as
    # plain config would have been written, the scan did look.
    names = places_holding('\\"api_key\\": {\\"env\\": \\"TARDIS_API_KEY\\"}', blobs)
    assert any(place.endswith("snapshots") for place in names), names


def _listening(group: int) -> list[tuple[str, str, int]]:
    """(command, address, port) of every TCP/UDP socket listening in a process group."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if os.getpgid(process.pid) != group:
                continue
            for connection in process.net_connections(kind="inet"):
                if connection.status in (psutil.CONN_LISTEN, psutil.CONN_NONE):
                    command = " ".join(process.info["cmdline"] or [])[:80]
                    found.append((command, connection.laddr.ip, connection.laddr.port))
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    return found


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C for the whole process group, as a user stops `dagster dev`; then SIGTERM for
    what outlives it (a code server otherwise waits out its heartbeat), SIGKILL last."""
    os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=60)  # reaped, so the group empties as its members exit
    for last_word, grace in ((signal.SIGTERM, 5), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                process.wait(timeout=10)
                return
            time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, last_word)
    process.wait(timeout=10)


@pytest.mark.parametrize("how", ["make ui", "dagster dev"])
def test_the_embedded_ui_listens_on_loopback_only(how: str, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    mirror = tmp_path / "mirror"  # empty: the daemon's sensors find nothing to request
    mirror.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARDIS_", "MARKET_DATA_"))}
    env["DAGSTER_HOME"] = str(home)
    if how == "make ui":
        # The Makefile's own target; its install and instance steps are taken as done.
        command = [
            "make", "-s", "-o", ".venv/.installed", "-o", f"{home}/dagster.yaml", "ui",
            f"DAGSTER_HOME={home}", f"SAMPLE={mirror}", f"UI_PORT={port}",
            f"CURDIR={tmp_path}",  # its lake ($(CURDIR)/data) in the test's folder
        ]  # fmt: skip
    else:
        # README: `DAGSTER_HOME=... dagster dev` from the repository root, own variables.
        env.update(TARDIS_MIRROR=str(mirror), MARKET_DATA_ROOT=str(tmp_path / "lake"))
        command = [DAGSTER, "dev", "--port", str(port)]
    log = (tmp_path / "dev.log").open("w")
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{how} did not serve: {(tmp_path / 'dev.log').read_text()}")
                time.sleep(1)
        listening = _listening(process.pid)
    finally:
        _stop(process)
        log.close()
    assert any(port == found for _, _, found in listening), listening
    assert {address for _, address, _ in listening} == {"127.0.0.1"}, listening

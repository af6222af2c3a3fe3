"""Faults that fail the same way every time end in one clear, final failure within the
file's deadline; deterministic failures are never retried; transient faults recover.

Real partitions through the real tardis-dev client against the local Tardis server."""

import subprocess
import tempfile
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, materialize

from market_assets.definitions import defs
from resources.bindings import build_resources
from resources.environment import DEFAULT_FILE_DEADLINE_SECONDS, Environment
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

TRADES = ("ticks", "trades")
INSTRUMENTS = defs.get_assets_def("instrument_definitions")
TICKS = defs.get_assets_def(AssetKey(TRADES))
BTC_FILE = "/trades/2024/01/02/BTCUSDT"


def run(resources: dict, assets: list | None = None):
    return materialize(
        assets or [INSTRUMENTS, TICKS],
        resources=resources,
        partition_key="2024-01-02|binance",
        raise_on_error=False,
    )


def failure_message(result) -> str:
    return "\n".join(str(e.step_failure_data.error) for e in result.all_events if e.is_step_failure)


def retried(result) -> int:
    return sum(e.event_type == DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def lake_files(lake_root: Path) -> list[str]:
    return [p.name for p in ParquetLake(str(lake_root)).files(TRADES, "2024-01-02", "binance")]


@pytest.mark.parametrize(
    ("fault", "says", "deadline"),
    [
        ("truncate_with_length", "truncated, shorter than its Content-Length", 5),
        ("reset", "reset mid-body", 5),
        ("stall_body", "stalled", 5),
        # tardis-dev waits about 4 s after a 500: the deadline leaves room for a second try.
        ("500", "answered HTTP 500 every time", 10),
    ],
)
def test_a_fault_on_every_attempt_fails_once_within_the_deadline(
    tardis_server: TardisServer, lake_root: Path, fault: str, says: str, deadline: int
) -> None:
    tardis_server.inject(fault, path_contains=BTC_FILE, times=1000, stall_seconds=30)
    resources = bind_resources(
        tardis_server, lake_root, timeout_seconds=2, deadline_seconds=deadline
    )

    result = run(resources)

    assert not result.success
    message = failure_message(result)
    assert f"did not download within {deadline} s" in message
    assert says in message
    assert f"{tardis_server.datasets_endpoint}/binance/trades/2024/01/02/BTCUSDT.csv.gz" in message
    # The deadline was the retry budget: Dagster's retry policy does not spend another.
    assert retried(result) == 0
    attempts = [s for _, p, s in tardis_server.requests if BTC_FILE in p]
    assert 2 <= len(attempts) <= 4
    assert lake_files(lake_root) == []


@pytest.mark.parametrize("fault", ["reset", "stall_body"])
def test_a_fault_once_recovers_within_the_deadline(
    tardis_server: TardisServer, lake_root: Path, fault: str
) -> None:
    tardis_server.inject(fault, path_contains=BTC_FILE, stall_seconds=4)
    resources = bind_resources(tardis_server, lake_root, timeout_seconds=2, deadline_seconds=60)

    result = run(resources)

    assert result.success, failure_message(result)
    assert len(lake_files(lake_root)) == 2
    assert len([p for _, p, _ in tardis_server.requests if BTC_FILE in p]) == 2


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("corrupt_row", "BTCUSDT"),
        ("other_header", "header"),
        ("extra_column", "header"),
    ],
)
def test_bad_content_is_final_and_writes_nothing(
    tardis_server: TardisServer, lake_root: Path, fault: str, says: str
) -> None:
    tardis_server.inject(fault, path_contains=BTC_FILE, times=1000)

    result = run(bind_resources(tardis_server, lake_root))

    assert not result.success
    message = failure_message(result)
    assert "binance trades BTCUSDT 2024-01-02" in message
    assert says in message
    assert retried(result) == 0
    assert len([p for _, p, _ in tardis_server.requests if BTC_FILE in p]) == 1
    assert lake_files(lake_root) == []


def test_a_refused_key_is_final(tardis_server: TardisServer, lake_root: Path) -> None:
    tardis_server.inject("403", path_contains=BTC_FILE, times=1000)

    result = run(bind_resources(tardis_server, lake_root))

    assert not result.success
    assert "Tardis refused the API key for binance trades BTCUSDT 2024-01-02" in (
        failure_message(result)
    )
    assert retried(result) == 0
    assert len([p for _, p, _ in tardis_server.requests if BTC_FILE in p]) == 1


def test_a_missing_upstream_partition_is_final_and_names_the_fix(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    # ticks/trades alone, before instrument_definitions of its day is in the lake.
    result = run(bind_resources(tardis_server, lake_root), [TICKS, *INSTRUMENTS.to_source_assets()])

    assert not result.success
    message = failure_message(result)
    assert "instrument_definitions of 2024-01-02|binance is not in the lake" in message
    assert "--select 'instrument_definitions' --partition '2024-01-02|binance'" in message
    assert retried(result) == 0
    assert tardis_server.requests == []


def test_the_deadline_is_set_per_deployment() -> None:
    assert Environment.read({}).tardis_file_deadline_seconds == DEFAULT_FILE_DEADLINE_SECONDS
    chosen = Environment.read({"TARDIS_FILE_DEADLINE_SECONDS": "42"})
    assert build_resources(chosen)["tardis"].deadline_seconds == 42
    with pytest.raises(ValueError, match="TARDIS_FILE_DEADLINE_SECONDS='5m' is not a positive"):
        Environment.read({"TARDIS_FILE_DEADLINE_SECONDS": "5m"})


def test_a_lake_that_cannot_be_written_is_final_and_names_the_variable(
    tardis_server: TardisServer,
) -> None:
    mount = Path(tempfile.mkdtemp(prefix="lake-ro-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        result = run(bind_resources(tardis_server, mount / "lake"), [INSTRUMENTS])
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)

    assert not result.success
    message = failure_message(result)
    assert f"the lake at {mount / 'lake'} cannot be written (Read-only file system" in message
    assert "point MARKET_DATA_ROOT at a folder this process may write" in message
    assert retried(result) == 0

"""An instance configured like production (Postgres, queued runs, pools, run monitoring
and retries; the local run launcher) with a running dagster-daemon: a backfill through
the queue, then a run killed with SIGKILL mid-write and recovered by a rerun."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from market_assets.automation.jobs import INGEST_SELECTION
from market_assets.definitions import defs
from market_assets.gaps.scan import coverage_report
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import API_KEY

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAYS = [date(2024, 1, 2) + timedelta(days=n) for n in range(7)]
VENUES = ["binance", "binance-futures", "deribit"]
PARTITIONS = defs.get_assets_def("instrument_definitions").partitions_def


@pytest.fixture
def postgres_db() -> Iterator[str]:
    name = f"dagster_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 (trust auth) is needed: {error}")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def production_like_home(tmp_path: Path, postgres_db: str) -> Path:
    instance = yaml.safe_load((REPO / "deploy/dagster.yaml").read_text())
    for local_only in ("run_launcher", "compute_logs"):
        del instance[local_only]  # the local run launcher and compute logs
    instance["storage"]["postgres"]["postgres_db"] = {
        "hostname": "127.0.0.1",
        "port": 5432,
        "db_name": postgres_db,
        "username": "postgres",
        "password": "",
    }
    instance["concurrency"]["runs"]["max_concurrent_runs"] = 2
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
    return home


def environment(home: Path, lake: Path, server: TardisServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARDIS_", "MARKET_DATA_"))}
    universe = home / "universe.yaml"
    universe.write_text(
        "venues:\n"
        + "".join(f"  {v}:\n    symbols: [BTCUSDT]\n    data_types: [trades]\n" for v in VENUES[:2])
        + "  deribit:\n    symbols: [BTC-PERPETUAL]\n    data_types: [trades]\n"
    )
    env.update(
        DAGSTER_HOME=str(home),
        MARKET_DATA_ROOT=str(lake),
        # Trades of one instrument per venue keep the 21 runs short; the graph is whole.
        MARKET_DATA_UNIVERSE=str(universe),
        TARDIS_API_KEY=API_KEY,
        TARDIS_DATASETS_ENDPOINT=server.datasets_endpoint,
        TARDIS_API_ENDPOINT=server.api_endpoint,
    )
    return env


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def test_backfill_through_the_queue_then_sigkill_and_rerun(
    production_like_home: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    keys = [f"{day}|{venue}" for day in DAYS for venue in VENUES]
    assert len(keys) >= 20
    with TardisServer(exported_until=datetime(2024, 1, 20, tzinfo=UTC)) as server:
        env = environment(production_like_home, lake, server)
        # The daily sensors would add runs of their own; this test is about the backfill.
        for sensor in ("tardis_exports_sensor", "recent_gaps_sensor"):
            stopped = subprocess.run(
                [str(BIN / "dagster"), "sensor", "stop", "-w", "workspace.yaml", sensor],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert stopped.returncode == 0, stopped.stderr[-2000:]
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            submitted = subprocess.run(
                [
                    str(BIN / "dagster"),
                    "job",
                    "backfill",
                    "-w",
                    "workspace.yaml",
                    "-j",
                    "daily_ingest",
                    "--partitions",
                    ",".join(keys),
                    "--noprompt",
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert submitted.returncode == 0, submitted.stderr[-2000:]
            with DagsterInstance.from_config(str(production_like_home)) as instance:

                def all_done() -> bool:
                    runs = instance.get_runs(RunsFilter(job_name="daily_ingest"))
                    finished = [r for r in runs if r.is_finished]
                    return len(runs) == len(keys) and len(finished) == len(keys)

                wait_for(all_done, 900, f"{len(keys)} backfill runs to finish")
                runs = instance.get_runs(RunsFilter(job_name="daily_ingest"))
                assert {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
                assert {r.tags["dagster/partition"] for r in runs} == set(keys)
                report = coverage_report(
                    instance,
                    PARTITIONS,
                    defs.resolve_asset_graph().asset_check_keys,
                    sorted(INGEST_SELECTION.resolve(defs.resolve_asset_graph())),
                    VENUES,
                    DAYS[0],
                    DAYS[-1],
                )
                assert sum(c.count("missing") + c.count("failed") for c in report) == 0
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=60)

    # A run killed with SIGKILL while it writes a large partition.
    partition = "2024-01-12|binance"
    with TardisServer(
        exported_until=datetime(2024, 1, 20, tzinfo=UTC), rows_per_day={"trades": 3_000_000}
    ) as server:
        env = environment(production_like_home, lake, server)
        command = [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "market_assets",
            "--select",
            "instrument_definitions,ticks/trades",
            "--partition",
            partition,
        ]
        victim = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        staging = lake / "_staging"
        wait_for(lambda: any(staging.glob("*/*.parquet")), 300, "the write to start")
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)

        lake_view = ParquetLake(str(lake))
        assert lake_view.files(("ticks", "trades"), "2024-01-12", "binance") == []
        rerun = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
        )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    table = lake_view.read(("ticks", "trades"), "2024-01-12", "binance")
    assert table.num_rows >= 3_000_000  # the whole day of the universe's instrument
    with DagsterInstance.from_config(str(production_like_home)) as instance:
        [trades] = coverage_report(
            instance,
            PARTITIONS,
            defs.resolve_asset_graph().asset_check_keys,
            [("ticks", "trades")]
            and [
                next(
                    k
                    for k in defs.resolve_asset_graph().get_all_asset_keys()
                    if k.path == ["ticks", "trades"]
                )
            ],
            ["binance"],
            date(2024, 1, 12),
            date(2024, 1, 12),
        )
    assert trades.days["materialized"] == [date(2024, 1, 12)]

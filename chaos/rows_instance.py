"""Instance faults on a production-like instance (PostgreSQL storage, queued runs, run
monitoring and retries): the daemon restarted in the middle of a backfill, PostgreSQL
restarted during a run.

PostgreSQL is a private cluster (``initdb`` into a temporary folder, its own port), so
restarting it touches nobody else's database."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from chaos.measure import lake_state, reference_trades
from chaos.outcome import Result, excerpt, lake_root
from chaos.world import BIN, REPO, VENUE, World, world
from tests.emulators import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BACKFILL_DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]


@contextmanager
def private_postgres() -> Iterator["PrivateCluster | None"]:
    """A throwaway PostgreSQL cluster owned by the ``postgres`` user; None when the
    binaries or that user are missing."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
    folder.chmod(0o777)
    data = folder / "data"
    cluster = PrivateCluster(data, free_port(), folder / "pg.log")
    made = cluster.as_postgres(
        str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"
    )
    if made.returncode != 0:
        yield None
        return
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


class PrivateCluster:
    def __init__(self, data: Path, port: int, log: Path) -> None:
        self.data, self.port, self.log = data, port, log

    def as_postgres(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            cwd="/tmp",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1"
        done = self.as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        if done.returncode != 0:
            raise RuntimeError(f"the private PostgreSQL did not start: {done.stderr}")

    def restart(self) -> float:
        """A fast restart; returns how long the database was away, in seconds."""
        started = time.monotonic()
        self.as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        self.start()
        return time.monotonic() - started


def production_home(w: World, cluster: PrivateCluster) -> None:
    """``deploy/dagster.yaml`` on the private cluster, with the local run launcher."""
    instance = yaml.safe_load((REPO / "deploy/dagster.yaml").read_text())
    for local_only in ("run_launcher", "compute_logs"):
        instance.pop(local_only, None)
    instance["storage"]["postgres"]["postgres_db"] = {
        "hostname": "127.0.0.1",
        "port": cluster.port,
        "db_name": "postgres",
        "username": "postgres",
        "password": "",
    }
    instance["concurrency"]["runs"]["max_concurrent_runs"] = 1
    (w.home / "dagster.yaml").write_text(yaml.safe_dump(instance))


def _not_run(fault: str, expected: str, why: str) -> Result:
    return Result("instance", fault, expected, f"not run: {why}", False, None, None, None, None)


def _runs(w: World) -> list:
    from dagster import DagsterInstance, RunsFilter

    with DagsterInstance.from_config(str(w.home)) as instance:
        return list(instance.get_runs(RunsFilter(job_name="daily_ingest")))


def _daemon(w: World) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=w.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=120)


def daemon_restart_mid_backfill() -> Result:
    fault = f"dagster-daemon restarted mid-backfill ({len(BACKFILL_DAYS)} partitions)"
    expected = "every run of the backfill succeeds; each partition whole"
    with private_postgres() as cluster, world() as w:
        if cluster is None:
            return _not_run(fault, expected, "no PostgreSQL binaries or postgres user")
        production_home(w, cluster)
        for sensor in ("tardis_exports_sensor", "recent_gaps_sensor"):
            w.dagster("sensor", "stop", "-w", "workspace.yaml", sensor)
        started = time.monotonic()
        daemon = _daemon(w)
        keys = [f"{day}|{VENUE}" for day in BACKFILL_DAYS]
        submitted = w.dagster(
            "job",
            "backfill",
            "-w",
            "workspace.yaml",
            "-j",
            "daily_ingest",
            "--partitions",
            ",".join(keys),
            "--noprompt",
        )
        if submitted.returncode != 0:
            _stop(daemon)
            return _not_run(fault, expected, f"the backfill was refused: {excerpt(submitted)}")
        try:
            deadline = time.monotonic() + 600
            while not any(r.status.value == "SUCCESS" for r in _runs(w)):
                if time.monotonic() > deadline:
                    break
                time.sleep(2)
            _stop(daemon)  # SIGTERM: the daemon's orderly stop, as a redeploy does
            time.sleep(3)
            daemon = _daemon(w)
            while time.monotonic() < deadline:
                runs = _runs(w)
                if len(runs) >= len(keys) and all(r.is_finished for r in runs):
                    break
                time.sleep(2)
        finally:
            _stop(daemon)
        seconds = time.monotonic() - started
        runs = _runs(w)
        statuses = sorted(r.status.value for r in runs)
        lost = duplicated = partial = 0
        for day in BACKFILL_DAYS:
            reference = reference_trades(day)
            state = lake_state(lake_root(w), day)
            lost += state.lost(reference)
            duplicated += state.duplicated(reference)
            partial += state.partial_visible(reference)
        succeeded = statuses.count("SUCCESS")
        observed = f"{succeeded} of {len(keys)} runs succeeded ({', '.join(statuses)})"
        met = succeeded == len(keys) and not lost and not duplicated and not partial
        return Result(
            "instance", fault, expected, observed, met, seconds, lost, duplicated, partial
        )


def postgres_restart_mid_run() -> Result:
    fault = "PostgreSQL restarted during a run"
    expected = "the run fails or resumes; a rerun completes the partition whole"
    with private_postgres() as cluster, world() as w:
        if cluster is None:
            return _not_run(fault, expected, "no PostgreSQL binaries or postgres user")
        production_home(w, cluster)
        # ETHUSDT's body stalls 15 s: the run is mid-partition while the database restarts.
        w.server.inject("stall_body", path_contains="/trades/2024/01/02/ETHUSDT", stall_seconds=15)
        with w.background() as run:
            run.wait_for(lambda: "ticks__trades - STEP_START" in run.output(), 300)
            away = cluster.restart()
            finished = run.finish()
        outcome = "resumed and succeeded" if finished.ok else f"failed: {excerpt(finished)}"
        rerun_note = ""
        if not finished.ok:
            w.server.clear_faults()
            rerun = w.materialize()
            rerun_note = (
                "; the rerun succeeded" if rerun.ok else f"; the rerun failed: {excerpt(rerun)}"
            )
        reference = reference_trades()
        state = lake_state(lake_root(w))
        observed = f"database away {away:.1f} s; the run {outcome}{rerun_note}"
        met = state.rows == reference and "rerun failed" not in rerun_note
        return Result(
            "instance",
            fault,
            expected,
            observed,
            met,
            finished.seconds,
            state.lost(reference),
            state.duplicated(reference),
            state.partial_visible(reference),
        )


def rows() -> list:
    return [daemon_restart_mid_backfill, postgres_restart_mid_run]

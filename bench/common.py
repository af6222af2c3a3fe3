"""What the benchmarks share: one measurement per fresh child process."""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    Read from ``VmHWM``: Linux carries ``ru_maxrss`` across exec, so a child spawned by a
    parent that had just generated a large file would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: dict) -> None:
    """Print a child's figures as the JSON line ``measure`` reads."""
    print(json.dumps(figures))


def measure(script: str, *args: str) -> dict:
    """Run ``script --child ...`` in a fresh interpreter and return its figures."""
    command = [sys.executable, script, "--child", *args]
    answer = subprocess.run(
        command, capture_output=True, text=True, cwd=Path(script).resolve().parents[1]
    )
    if answer.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{(answer.stdout + answer.stderr)[-4000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def best_of(script: str, contenders: Iterable[str], repeat: int, *args: str) -> dict[str, dict]:
    """Each contender measured ``repeat`` times, taking turns; its fastest run kept."""
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for name in contenders:
            figures = measure(script, name, *args)
            if name not in best or figures["seconds"] < best[name]["seconds"]:
                best[name] = figures
    return best


# --- the user's command: `dagster asset materialize` in a subprocess -------------------

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


@dataclass(frozen=True)
class CliRun:
    """One ``dagster asset materialize``: wall seconds, each step's seconds from the run's
    event log (STEP_START to STEP_SUCCESS, by step key), which asset each step
    materialised and which asset's checks each check step evaluated (both from the log),
    and the peak RSS of the CLI's process tree, sampled every 20 ms."""

    seconds: float
    steps: dict[str, float]
    materialized: dict[str, set[str]]  # step key -> asset keys it materialised
    checked: dict[str, set[str]]  # step key -> "asset:check" it evaluated
    tree_rss_mb: float

    def asset_step(self, asset: str) -> str:
        """The step that materialised ``asset`` (``ticks/trades``)."""
        return next(step for step, assets in self.materialized.items() if asset in assets)

    def check_steps(self) -> dict[str, str]:
        """Steps that only ran checks -> the asset step whose output they checked."""
        found = {}
        for step, checks in self.checked.items():
            if step not in self.materialized and checks:
                asset = next(iter(checks)).split(":")[0]
                found[step] = self.asset_step(asset)
        return found


def dagster_home(folder: Path) -> Path:
    """A Dagster instance of its own (SQLite), configured as the repository's."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", folder / "dagster.yaml")
    return folder


def dagster_environment(home: Path, **variables: str) -> dict[str, str]:
    """This process's environment without the contract's variables, then ``variables``."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TARDIS_", "MARKET_DATA_", "DAGSTER_"))
    }
    environment.update(DAGSTER_HOME=str(home), **variables)
    return environment


def run_sampled(command: list[str], environment: dict[str, str]) -> tuple[float, str, float]:
    """``command`` run from the repository root: wall seconds, its output (stdout and
    stderr), and the peak RSS of its process tree in MB, sampled every 20 ms (Dagster's
    helpers, a tail and an orphan watcher, are small and sampled with it).

    Raises SystemExit with the end of the output when the run does not succeed.
    """
    import psutil

    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        running = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=log, stderr=log, text=True
        )
        tree, process = 0, psutil.Process(running.pid)
        while running.poll() is None:
            try:
                members = [process, *process.children(recursive=True)]
                tree = max(tree, sum(member.memory_info().rss for member in members))
            except psutil.Error:
                pass
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if running.returncode != 0 or "RUN_SUCCESS" not in output:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-4000:]}")
    return seconds, output, tree / 2**20


def materialize(selection: str, partition: str, environment: dict[str, str]) -> CliRun:
    """``dagster asset materialize -m market_assets --select selection --partition partition``
    run as a user runs it from the repository root, with ``environment``.

    Raises SystemExit with the end of the output when the run does not succeed.
    """
    command = [DAGSTER, "asset", "materialize", "-m", "market_assets"]
    command += ["--select", selection, "--partition", partition]
    seconds, _, tree_mb = run_sampled(command, environment)
    steps, materialized, checked = last_run_steps(Path(environment["DAGSTER_HOME"]))
    return CliRun(seconds, steps, materialized, checked, tree_mb)


def last_run_steps(home: Path) -> tuple[dict[str, float], dict[str, set[str]], dict[str, set[str]]]:
    """Of the instance's latest run, from its event log: each step's seconds, the assets
    each step materialised and the ``asset:check`` each step evaluated."""
    from dagster import DagsterEventType, DagsterInstance

    kinds = {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    materialized: dict[str, set[str]] = {}
    checked: dict[str, set[str]] = {}
    with DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs(limit=1)
        for entry in instance.all_logs(run.run_id, of_type=kinds):
            step, kind = entry.step_key, entry.dagster_event_type
            if kind == DagsterEventType.STEP_START:
                started[step] = entry.timestamp
            elif kind == DagsterEventType.STEP_SUCCESS:
                steps[step] = entry.timestamp - started[step]
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                asset = entry.dagster_event.asset_key.to_user_string()
                materialized.setdefault(step, set()).add(asset)
            else:
                evaluation = entry.dagster_event.event_specific_data
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                checked.setdefault(step, set()).add(name)
    return steps, materialized, checked

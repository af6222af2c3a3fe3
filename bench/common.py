"""What the benchmarks share: one measurement per fresh child process."""

import json
import resource
import subprocess
import sys
from collections.abc import Iterable
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
    answer = subprocess.run(
        [sys.executable, script, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(script).resolve().parents[1],
    )
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

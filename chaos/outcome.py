"""A row's result: the outcome expected and observed, its cost, and what the lake holds."""

import re
from dataclasses import dataclass

from upath import UPath

from chaos.measure import lake_state, reference_trades
from chaos.world import Run, World
from resources.storage import upath


@dataclass(frozen=True)
class Result:
    """One line of the table."""

    group: str
    fault: str
    expected: str
    observed: str
    met: bool
    seconds: float | None
    lost: int | None = 0
    duplicated: int | None = 0
    partial: int | None = 0


def lake_root(world: World) -> UPath:
    root = upath(world.lake_root, anonymous=world.lake_root.startswith("gs://"))
    if hasattr(root.fs, "invalidate_cache"):
        root.fs.invalidate_cache()
    return root


def excerpt(run: Run, *words: str) -> str:
    """The error line naming ``words`` (else the error Dagster reported), cut to the
    message itself."""
    lines = [line.strip() for line in run.output.splitlines() if "Warning" not in line]
    errors = [line for line in lines if _ERROR.match(line)]
    wanted = [w.lower() for w in words if w]
    naming = [line for line in errors if all(w in line.lower() for w in wanted)]
    if not naming and wanted:
        naming = [line for line in lines if all(w in line.lower() for w in wanted)]
    line = (naming or errors or lines or [""])[0]
    line = _ERROR.sub("", line, count=1)
    return line if len(line) <= 160 else line[:157] + "..."


_ERROR = re.compile(r"^[\w.]*(Error|Exception|Failure|Invalid\w*): ")


def settle(
    world: World,
    group: str,
    fault: str,
    expected: str,
    run: Run,
    *,
    recovers: bool,
    says: tuple[str, ...] = (),
    final: bool = True,
    seconds: float | None = None,
) -> Result:
    """Judge ``run``: partial files now, then (after a failure) the user's rerun without
    the fault, then rows lost and duplicated against the generated source."""
    reference = reference_trades()
    partial = lake_state(lake_root(world)).partial_visible(reference)
    if recovers:
        met = run.ok
        observed = "recovered" if run.ok else f"failed: {excerpt(run)}"
    else:
        said = all(run.line_with(word) for word in says)
        met = not run.ok and said and not (final and run.retried())
        retry = " (after a retry)" if run.retried() else ""
        observed = (
            "succeeded" if run.ok else f"failed{retry}: {excerpt(run, says[0] if says else '')}"
        )
    if not run.ok:
        world.server.clear_faults()
        rerun = world.materialize()
        if not rerun.ok:
            observed += f"; the rerun failed too: {excerpt(rerun)}"
            met = False
    end = lake_state(lake_root(world))
    return Result(
        group,
        fault,
        expected,
        observed,
        met,
        run.seconds if seconds is None else seconds,
        end.lost(reference),
        end.duplicated(reference),
        partial,
    )

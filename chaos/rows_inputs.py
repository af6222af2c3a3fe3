"""Input errors a user makes: each must fail at once with a message naming the fix."""

import subprocess
import tempfile
from pathlib import Path

from chaos.outcome import Result, excerpt
from chaos.world import World, world


def _input_row(fault: str, says: tuple[str, ...], prepare, partition: str | None = None) -> Result:
    with world() as w:
        env = prepare(w)
        if env is None:
            return Result(
                "inputs",
                fault,
                "fails naming the fix",
                "not run: the setup failed",
                False,
                None,
                None,
                None,
                None,
            )
        run = w.materialize(**env) if partition is None else w.materialize(partition=partition)
        said = all(run.line_with(word) for word in says)
        observed = "succeeded" if run.ok else f"failed: {excerpt(run, says[0])}"
        written = _files_in(w)
        cleanup = getattr(w, "cleanup", None)
        if cleanup is not None:
            cleanup()
        return Result(
            "inputs",
            fault,
            f"fails, says {says[0]!r}",
            observed,
            not run.ok and said and written == 0,
            run.seconds,
            None,
            None,
            written,
        )


def _files_in(w: World) -> int:
    root = Path(w.lake_root)
    if not root.is_dir():
        return 0
    return sum(1 for p in root.rglob("*.parquet") if "_staging" not in p.parts)


def bad_universe(w: World) -> dict[str, str]:
    w.universe.write_text("venues:\n  binance:\n    symbols: [BTCUSDT]\n    data_types: [trade]\n")
    return {}


def unknown_key_universe(w: World) -> dict[str, str]:
    w.universe.write_text("venues:\n  binance:\n    symbol: [BTCUSDT]\n    data_types: [trades]\n")
    return {}


def read_only_root(w: World) -> dict[str, str] | None:
    mount = Path(tempfile.mkdtemp(prefix="chaos-ro-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        return None
    w.lake_root = str(mount / "lake")
    w.cleanup = lambda: subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    return {}


def rows() -> list:
    return [
        lambda: _input_row(
            "a universe file naming an unknown data type", ("trade", "universe"), bad_universe
        ),
        lambda: _input_row(
            "a universe file with a misspelt key", ("symbol", "universe"), unknown_key_universe
        ),
        lambda: _input_row(
            "a malformed partition key (2024-1-2|binance)",
            ("2024-1-2",),
            lambda w: {},
            partition="2024-1-2|binance",
        ),
        lambda: _input_row("a read-only MARKET_DATA_ROOT", ("MARKET_DATA_ROOT",), read_only_root),
        lambda: _input_row(
            "MARKET_DATA_WAREHOUSE with a typo (duckbd://)",
            ("MARKET_DATA_WAREHOUSE", "duckdb:///"),
            lambda w: {"MARKET_DATA_WAREHOUSE": "duckbd:///tmp/market.duckdb"},
        ),
        lambda: _input_row(
            "TARDIS_FILE_DEADLINE_SECONDS=5m",
            ("TARDIS_FILE_DEADLINE_SECONDS",),
            lambda w: {"TARDIS_FILE_DEADLINE_SECONDS": "5m"},
        ),
    ]

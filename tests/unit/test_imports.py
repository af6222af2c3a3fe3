"""Importing a module builds nothing: no Definitions, no resources, whatever the environment."""

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import market_assets

REPO = Path(__file__).resolve().parents[2]
# Pure transforms: they import neither Dagster nor an I/O library beyond pyarrow.
PURE = [
    "market_assets.columns",
    "market_assets.candles.bars",
    "market_assets.candles.build",
    "market_assets.candles.columns",
    "market_assets.candles.invariants",
    "market_assets.candles.options",
    "market_assets.candles.state_bars",
    "market_assets.candles.trade_bars",
    "market_assets.instruments.columns",
    "market_assets.instruments.definitions",
    "market_assets.instruments.keys",
    "market_assets.ticks.columns",
    "market_assets.ticks.silence",
    "market_assets.ticks.tardis_csv",
    "market_assets.warehouse.rows",
    "market_assets.automation.exports",
]
PROBE = """
import importlib, json, sys
imported = [importlib.import_module(name).__name__ for name in sys.argv[1:]]
print(json.dumps({
    "imported": imported,
    "definitions": "market_assets.definitions" in sys.modules,
    "dagster": "dagster" in sys.modules,
}))
"""


def python(*args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter with a gs:// lake and no warehouse set: the setting in which
    building the Definitions raises."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_DATA_", "TARDIS_"))}
    env["MARKET_DATA_ROOT"] = "gs://no-such-bucket/lake"
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def probe(modules: list[str]) -> dict:
    """Which of ``modules`` imported, and whether Dagster or the Definitions came along."""
    done = python("-c", PROBE, *modules)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_pure_transforms_import_without_dagster() -> None:
    found = probe(PURE)
    assert found["imported"] == PURE
    assert not found["definitions"]
    assert not found["dagster"]


def test_no_module_builds_the_definitions_on_import() -> None:
    modules = [
        info.name
        for info in pkgutil.walk_packages(market_assets.__path__, "market_assets.")
        if info.name != "market_assets.definitions" and not info.name.endswith("__main__")
    ]
    assert set(PURE) < set(modules)
    found = probe(modules)
    assert found["imported"] == modules
    assert not found["definitions"]


def test_the_definitions_refuse_a_gcs_lake_without_a_warehouse() -> None:
    # The setting above really is one in which building fails, so the tests above
    # prove something.
    done = python("-c", "import market_assets.definitions")
    assert done.returncode != 0
    assert "MARKET_DATA_WAREHOUSE" in done.stderr

"""The gap report over a real instance: materialised, failed, missing, failing checks."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from market_assets.definitions import defs
from market_assets.gaps.scan import coverage_report
from resources.universe import UniverseResource
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

REPO = Path(__file__).resolve().parents[2]
TRADES = AssetKey(["ticks", "trades"])
ASSETS = [defs.get_assets_def("instrument_definitions"), defs.get_assets_def(TRADES)]
CHECKS = [c for c in defs.asset_checks if TRADES in {k.asset_key for k in c.check_keys}]


@pytest.fixture
def instance_home(tmp_path: Path, tardis_server: TardisServer) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    lake = tmp_path / "lake"
    with DagsterInstance.from_config(str(home)) as instance:
        for partition in ("2024-01-01|binance", "2024-01-02|binance"):
            assert materialize(
                [*ASSETS, *CHECKS],
                resources=bind_resources(tardis_server, lake),
                partition_key=partition,
                instance=instance,
            ).success
        # Without a key the 3rd is refused by Tardis: a failed partition.
        refused = materialize(
            [*ASSETS, *CHECKS],
            resources=bind_resources(tardis_server, lake, api_key=""),
            partition_key="2024-01-03|binance",
            instance=instance,
            raise_on_error=False,
        )
        assert not refused.success
    return home


def test_report_sorts_partitions_into_states(instance_home: Path) -> None:
    with DagsterInstance.from_config(str(instance_home)) as instance:
        [trades] = coverage_report(
            instance,
            defs.get_assets_def(TRADES).partitions_def,
            defs.resolve_asset_graph().asset_check_keys,
            [TRADES],
            ["binance"],
            date(2024, 1, 1),
            date(2024, 1, 4),
        )
    assert trades.days["materialized"] == [date(2024, 1, 1)]
    # Tardis reports an incident on binance on the 2nd: materialised, with a failed check.
    assert trades.days["checks_failed"] == [date(2024, 1, 2)]
    assert trades.failed_checks == {date(2024, 1, 2): ["incidents"]}
    assert trades.days["failed"] == [date(2024, 1, 3)]
    assert trades.days["missing"] == [date(2024, 1, 4)]
    assert trades.gaps == 3


def test_cli_prints_a_table_and_json_and_exits_1_on_gaps(instance_home: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(instance_home)}
    command = [
        sys.executable,
        "-m",
        "market_assets.gaps",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-04",
        "--asset",
        "ticks/trades",
        "--venue",
        "binance",
    ]
    table = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    as_json = subprocess.run(
        [*command, "--json"], env=env, cwd=REPO, capture_output=True, text=True
    )

    assert table.returncode == 1, table.stderr
    assert "missing: 2024-01-04" in table.stdout and "failed: 2024-01-03" in table.stdout
    assert "checks: 2024-01-02" in table.stdout
    report = json.loads(as_json.stdout)
    [series] = report["series"]
    assert series["counts"]["materialized"] == 1
    assert series["partitions"]["failed"] == ["2024-01-03|binance"]
    assert series["failed_checks"] == {"2024-01-02|binance": ["incidents"]}
    assert report["gaps"] == 3
    keys = subprocess.run(
        [*command, "--missing-keys"], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert keys.returncode == 0
    assert keys.stdout.strip() == "2024-01-03|binance,2024-01-04|binance"


def test_heatmap_asset_shows_the_coverage_in_the_ui(instance_home: Path) -> None:
    with DagsterInstance.from_config(str(instance_home)) as instance:
        result = materialize(
            [defs.get_assets_def("coverage_heatmap")],
            instance=instance,
            resources={"universe": UniverseResource()},
            run_config={"ops": {"coverage_heatmap": {"config": {"last": "2024-01-04", "days": 4}}}},
        )
    assert result.success
    metadata = result.asset_materializations_for_node("coverage_heatmap")[0].metadata
    assert metadata["heatmap"].value.startswith("![coverage heatmap](data:image/png;base64,")
    assert (metadata["from"].value, metadata["to"].value) == ("2024-01-01", "2024-01-04")
    # binance trades: the failed 3rd and missing 4th, besides every other ingest asset's.
    assert metadata["gaps"].value > 2

"""The shape of the project: the asset graph, the instance config and the image."""

import importlib
import re
import shutil
from pathlib import Path

import yaml
from dagster import AssetKey, DagsterInstance, MultiPartitionsDefinition
from dagster._core.instance.config import dagster_instance_config

from market_assets.definitions import defs
from partitions import TIMEFRAMES, VENUES, WITH_NEXT_DAY, market_partitions

REPO = Path(__file__).resolve().parents[1]


def test_asset_graph_snapshot() -> None:
    graph = defs.resolve_asset_graph()
    ticks = [
        "book_snapshot_25",
        "book_snapshot_5",
        "derivative_ticker",
        "liquidations",
        "options_chain",
        "quotes",
        "trades",
    ]
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == sorted(
        [
            *(f"candles/{tf}" for tf in TIMEFRAMES),
            *(f"warehouse/candles_{tf}" for tf in TIMEFRAMES),
            "coverage_heatmap",
            "instrument_definitions",
            *(f"ticks/{t}" for t in ticks),
        ]
    )
    assert graph.get(AssetKey("instrument_definitions")).partitions_def == market_partitions
    for data_type in ticks:
        node = graph.get(AssetKey(["ticks", data_type]))
        assert node.parent_keys == {AssetKey("instrument_definitions")}
        assert node.partitions_def == market_partitions
        assert node.pools == {"tardis"}
    candle_inputs = {"trades", "book_snapshot_5", "derivative_ticker", "liquidations"}
    for timeframe in TIMEFRAMES:
        node = graph.get(AssetKey(["candles", timeframe]))
        assert node.parent_keys == {
            AssetKey(["ticks", t]) for t in candle_inputs | {"options_chain"}
        }
        assert node.partitions_def == market_partitions
        assert node.automation_condition.get_label() == "eager over the last two days"
        # Day D reads D+1's ticks too: the late trades of D sit in D+1's file.
        mapping = node.partition_mappings[AssetKey(["ticks", "trades"])]
        assert mapping == WITH_NEXT_DAY
        table = graph.get(AssetKey(["warehouse", f"candles_{timeframe}"]))
        assert table.parent_keys == {AssetKey(["candles", timeframe])}
        assert table.io_manager_key == "warehouse_io_manager"
        assert table.metadata["partition_expr"] == {"date": "date", "venue": "venue"}
    checks = sorted(k.to_user_string() for k in graph.asset_check_keys)
    steady = {"trades", "quotes", "book_snapshot_5", "book_snapshot_25"}
    candle_checks = ("aligned", "ohlc", "trade_counts", "unique", "volume_sums")
    assert checks == sorted(
        [f"ticks/{t}:{c}" for t in ticks for c in ("coverage", "incidents", "schema")]
        + [f"ticks/{t}:silence" for t in steady]
        + [f"candles/{tf}:{c}" for tf in TIMEFRAMES for c in candle_checks]
        + [f"candles/{tf}:cross_timeframe" for tf in list(TIMEFRAMES)[1:]]
    )


def test_partitions_read_date_then_venue() -> None:
    assert isinstance(market_partitions, MultiPartitionsDefinition)
    assert [d.name for d in market_partitions.partitions_defs] == ["date", "venue"]
    assert set(VENUES) == {
        "binance",
        "binance-futures",
        "deribit",
        "bybit",
        "bybit-spot",
        "okex",
        "okex-futures",
        "okex-swap",
    }
    assert market_partitions.get_partition_key_from_str("2024-01-01|binance-futures")


def test_embedded_instance_config_is_valid(tmp_path: Path) -> None:
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # validates against Dagster's schema
    assert config["concurrency"]["pools"]["default_limit"] >= 1
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


def test_dockerfile_runs_this_code_location_as_non_root_without_secrets() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    command = re.search(r"^CMD \[(.*?)\]", dockerfile, re.M | re.S).group(1)
    assert '"code-server"' in command
    module = re.search(r'"--module-name", "([\w.]+)"', command).group(1)
    assert importlib.import_module(module).defs is defs
    copied = re.findall(r"^COPY (\S+)", dockerfile, re.M)
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source} names nothing in the repository"
        assert not re.search(r"\.env|\.json|\.pem|\.key|credential|secret", source)
    assert "ENV TARDIS_API_KEY" not in dockerfile and "ARG TARDIS_API_KEY" not in dockerfile
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in (".env", "*.json", ".venv", "data"):
        assert pattern in ignored


def test_workspace_loads_the_same_module() -> None:
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "market_assets"


def test_daily_sensors_run_by_default_on_the_ingest_job() -> None:
    from dagster import DefaultSensorStatus

    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"tardis_exports_sensor", "recent_gaps_sensor", "automation_sensor"}
    assert sensors.pop("automation_sensor").default_status == DefaultSensorStatus.RUNNING
    for sensor in sensors.values():
        assert sensor.default_status == DefaultSensorStatus.RUNNING
        assert sensor.job_name == "daily_ingest"
    job = defs.resolve_job_def("daily_ingest")
    assert job.partitions_def == market_partitions


def test_backfills_run_one_partition_per_run() -> None:
    partitioned = [a for a in defs.assets if a.partitions_def is not None]
    assert len(partitioned) == 16
    for asset in partitioned:
        assert asset.backfill_policy.max_partitions_per_run == 1, asset.key


def test_the_coverage_heatmap_is_drawn_every_morning() -> None:
    [schedule] = defs.schedules
    assert schedule.job_name == "coverage_heatmap_job"
    assert schedule.default_status.value == "RUNNING"

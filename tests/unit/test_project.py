"""The shape of the project: the asset graph, the instance config and the image."""

import importlib
import re
import shutil
from pathlib import Path

import yaml
from dagster import AssetKey, DagsterInstance, MultiPartitionsDefinition
from dagster._core.instance.config import dagster_instance_config

from market_assets.definitions import build_definitions, defs
from market_assets.features.build import lookback_days
from market_assets.universe import load_universe
from partitions import (
    FEATURE_TIMEFRAMES,
    TIMEFRAMES,
    WITH_NEXT_DAY,
    market_partitions,
    venues_of,
    with_previous_days,
)
from resources.environment import Environment
from tests.unit.dockerignore import DockerIgnore

REPO = Path(__file__).resolve().parents[2]
# The venue dimension is the bundled universe's venues.
PARTITIONS = market_partitions(load_universe().venue_ids)


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
            *(f"features/mft_{tf}" for tf in FEATURE_TIMEFRAMES),
            *(f"warehouse/mft_{tf}" for tf in FEATURE_TIMEFRAMES),
            "coverage_heatmap",
            "instrument_definitions",
            *(f"ticks/{t}" for t in ticks),
            *(f"live/live_candles_{tf}" for tf in TIMEFRAMES),
        ]
    )
    # The live tables are external (the live service writes them), unpartitioned, each
    # with a freshness check.
    check_keys = {key for check in defs.asset_checks for key in check.check_keys}
    for timeframe in TIMEFRAMES:
        node = graph.get(AssetKey(["live", f"live_candles_{timeframe}"]))
        assert not node.is_materializable and node.partitions_def is None
        assert any(key.asset_key == node.key for key in check_keys)
    assert graph.get(AssetKey("instrument_definitions")).partitions_def == PARTITIONS
    for data_type in ticks:
        node = graph.get(AssetKey(["ticks", data_type]))
        assert node.parent_keys == {AssetKey("instrument_definitions")}
        assert node.partitions_def == PARTITIONS
        assert node.pools == {"tardis"}
    candle_inputs = {"trades", "book_snapshot_5", "derivative_ticker", "liquidations"}
    for timeframe in TIMEFRAMES:
        node = graph.get(AssetKey(["candles", timeframe]))
        assert node.parent_keys == {
            AssetKey(["ticks", t]) for t in candle_inputs | {"options_chain"}
        }
        assert node.partitions_def == PARTITIONS
        assert node.automation_condition.get_label() == "eager over the last two days"
        # Day D reads D+1's ticks too: the late trades of D sit in D+1's file.
        mapping = node.partition_mappings[AssetKey(["ticks", "trades"])]
        assert mapping == WITH_NEXT_DAY
        table = graph.get(AssetKey(["warehouse", f"candles_{timeframe}"]))
        assert table.parent_keys == {AssetKey(["candles", timeframe])}
        assert table.io_manager_key == "warehouse_io_manager"
        assert table.metadata["partition_expr"] == {"date": "date", "venue": "venue"}
    for timeframe in FEATURE_TIMEFRAMES:
        node = graph.get(AssetKey(["features", f"mft_{timeframe}"]))
        assert node.parent_keys == {AssetKey(["candles", timeframe])}
        assert node.partitions_def == PARTITIONS
        # Day D reads the candles of D and of the look-back days before it.
        days = lookback_days(TIMEFRAMES[timeframe])
        mapping = node.partition_mappings[AssetKey(["candles", timeframe])]
        assert mapping == with_previous_days(days)
        assert days >= 20 and days * 86_400 // TIMEFRAMES[timeframe] >= 250
        table = graph.get(AssetKey(["warehouse", f"mft_{timeframe}"]))
        assert table.parent_keys == {AssetKey(["features", f"mft_{timeframe}"])}
        assert table.io_manager_key == "warehouse_io_manager"
    checks = sorted(k.to_user_string() for k in graph.asset_check_keys)
    steady = {"trades", "quotes", "book_snapshot_5", "book_snapshot_25"}
    candle_checks = ("aligned", "ohlc", "trade_counts", "unique", "volume_sums")
    assert checks == sorted(
        [f"ticks/{t}:{c}" for t in ticks for c in ("coverage", "incidents", "schema")]
        + [f"ticks/{t}:silence" for t in steady]
        + [f"candles/{tf}:{c}" for tf in TIMEFRAMES for c in candle_checks]
        + [f"candles/{tf}:cross_timeframe" for tf in list(TIMEFRAMES)[1:]]
        + [f"live/live_candles_{tf}:freshness_check" for tf in TIMEFRAMES]
        + [
            f"features/mft_{tf}:{c}"
            for tf in FEATURE_TIMEFRAMES
            for c in ("aligned", "finite", "ranges", "unique", "warmup")
        ]
    )


def test_partitions_read_date_then_venue_of_the_universe() -> None:
    assert isinstance(PARTITIONS, MultiPartitionsDefinition)
    assert [d.name for d in PARTITIONS.partitions_defs] == ["date", "venue"]
    assert venues_of(PARTITIONS) == ["binance", "binance-futures", "deribit"]
    assert PARTITIONS.get_partition_key_from_str("2024-01-01|binance-futures")


def test_any_tardis_venue_of_a_universe_file_is_a_partition(tmp_path: Path) -> None:
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "venues:\n"
        "  bitmex: {data_types: [trades], symbols: [XBTUSD]}\n"
        "  coinbase: {data_types: [trades, quotes], symbols: [BTC-USD]}\n"
        "  bybit-options: {data_types: [options_chain], filters: [{type: option}]}\n"
    )
    graph = build_definitions(Environment(universe_path=str(universe))).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if graph.get(key).is_partitioned:
            assert venues_of(graph.get(key).partitions_def) == [
                "bitmex",
                "bybit-options",
                "coinbase",
            ], key


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
    # By Docker's own rules (every depth: tests/unit/test_deploy.py).
    ignored = DockerIgnore.read(REPO / ".dockerignore")
    for path in (".env", "resources/.env", "key.json", ".venv/bin/python", "data/x.parquet"):
        assert ignored.ignores(path), path


def test_workspace_loads_the_same_module() -> None:
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "market_assets"


def test_daily_sensors_run_by_default_on_the_ingest_job() -> None:
    from dagster import DefaultSensorStatus

    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "tardis_exports_sensor",
        "recent_gaps_sensor",
        "automation_sensor",
        "live_tables_sensor",
        "live_freshness_sensor",
    }
    for name in ("automation_sensor", "live_tables_sensor", "live_freshness_sensor"):
        assert sensors.pop(name).default_status == DefaultSensorStatus.RUNNING
    for sensor in sensors.values():
        assert sensor.default_status == DefaultSensorStatus.RUNNING
        assert sensor.job_name == "daily_ingest"
    job = defs.resolve_job_def("daily_ingest")
    assert job.partitions_def == PARTITIONS


def test_backfills_run_one_partition_per_run() -> None:
    partitioned = [a for a in defs.assets if a.partitions_def is not None]
    assert len(partitioned) == 28
    for asset in partitioned:
        assert asset.backfill_policy.max_partitions_per_run == 1, asset.key


def test_the_coverage_heatmap_is_drawn_every_morning() -> None:
    [schedule] = defs.schedules
    assert schedule.job_name == "coverage_heatmap_job"
    assert schedule.default_status.value == "RUNNING"

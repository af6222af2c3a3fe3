"""Real partitions of instrument_definitions and ticks/trades, through the real tardis-dev
client, against the local Tardis-compatible server, into a temporary lake."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster import AssetCheckSeverity, AssetKey, materialize

from market_assets.definitions import defs
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

TRADES = ("ticks", "trades")
ASSETS = [defs.get_assets_def("instrument_definitions"), defs.get_assets_def(AssetKey(TRADES))]
CHECKS = list(defs.asset_checks or [])


def run(resources: dict, partition: str):
    return materialize(
        [*ASSETS, *CHECKS], resources=resources, partition_key=partition, raise_on_error=False
    )


def trade_files(lake_root: Path, day: str, venue: str) -> list[str]:
    return [p.name for p in ParquetLake(str(lake_root)).files(TRADES, day, venue)]


def test_partition_lands_with_metadata_and_passing_checks(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root), "2024-01-02|binance")

    assert result.success
    assert trade_files(lake_root, "2024-01-02", "binance") == [
        "BINANCE__SPOT_PAIR__BTC-USDT.parquet",
        "BINANCE__SPOT_PAIR__ETH-USDT.parquet",
    ]
    table = ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "binance")
    assert set(table.column("instrument_key").to_pylist()) == {
        "BINANCE:SPOT_PAIR:BTC-USDT",
        "BINANCE:SPOT_PAIR:ETH-USDT",
    }
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    # Files are cut by receive time: some trades of the 1st sit in the 2nd's file.
    assert pc.min(table.column("timestamp")).as_py().day == 1

    metadata = result.asset_materializations_for_node("ticks__trades")[0].metadata
    assert metadata["rows"].value == table.num_rows
    assert metadata["bytes"].value > 0
    assert metadata["instrument_count"].value == 2
    assert metadata["first_timestamp"].value < metadata["last_timestamp"].value
    sources = metadata["sources"].value.records
    assert {r.data["url"].rsplit("/", 1)[1] for r in sources} == {
        "BTCUSDT.csv.gz",
        "ETHUSDT.csv.gz",
    }
    assert all(len(r.data["sha256"]) == 64 for r in sources)

    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name, e.passed) for e in evaluations} == {
        (AssetKey(TRADES), "schema", True),
        (AssetKey(TRADES), "coverage", True),
        (AssetKey(TRADES), "silence", True),
        # Tardis reports an incident on binance that day, 10:00 to 11:30 UTC.
        (AssetKey(TRADES), "incidents", False),
    }
    incidents = next(e for e in evaluations if e.check_name == "incidents")
    assert incidents.severity == AssetCheckSeverity.WARN
    assert incidents.metadata["incidents"].value[0]["from"] == "2024-01-02T10:00:00.000Z"


def test_rerun_produces_the_same_data(tardis_server: TardisServer, lake_root: Path) -> None:
    resources = bind_resources(tardis_server, lake_root)
    assert run(resources, "2024-01-02|deribit").success
    first = ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "deribit")
    assert run(resources, "2024-01-02|deribit").success
    second = ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "deribit")

    assert first.num_rows > 0
    assert first.equals(second)
    assert not any((lake_root / "_staging").iterdir())


def test_empty_tardis_file_is_no_data_not_an_error(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root), "2024-01-03|binance")

    assert result.success
    lake = ParquetLake(str(lake_root))
    path = (
        lake.partition_path(TRADES, "2024-01-03", "binance")
        / "BINANCE__SPOT_PAIR__ETH-USDT.parquet"
    )
    assert lake.row_count(path) == 0
    coverage = next(e for e in result.get_asset_check_evaluations() if e.check_name == "coverage")
    # Flagged as a warning, apart from missing files.
    assert not coverage.passed
    assert coverage.severity == AssetCheckSeverity.WARN
    assert coverage.metadata["no_data"].value == ["BINANCE:SPOT_PAIR:ETH-USDT"]
    assert coverage.metadata["missing"].value == []


def test_without_a_key_a_paid_day_fails_with_the_fix_and_writes_nothing(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root, api_key=""), "2024-01-02|binance")

    assert not result.success
    message = _failure_message(result)
    assert "no Tardis API key" in message
    assert "set TARDIS_API_KEY, or pick 2024-01-01" in message.replace("Set", "set")
    assert trade_files(lake_root, "2024-01-02", "binance") == []


def test_without_a_key_the_first_of_the_month_is_free(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root, api_key=""), "2024-01-01|binance")
    assert result.success
    assert len(trade_files(lake_root, "2024-01-01", "binance")) == 2


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("500", {}),
        ("429", {"retry_after": 1}),
        ("truncate", {}),
        ("truncate_with_length", {}),
        ("stall", {"stall_seconds": 4}),
    ],
)
def test_transient_faults_recover(
    tardis_server: TardisServer, lake_root: Path, fault: str, options: dict
) -> None:
    tardis_server.inject(fault, path_contains="/trades/2024/01/02/BTCUSDT", **options)
    resources = bind_resources(tardis_server, lake_root, timeout_seconds=2)

    result = run(resources, "2024-01-02|binance")

    assert result.success, _failure_message(result)
    statuses = [s for _, p, s in tardis_server.requests if "/trades/2024/01/02/BTCUSDT" in p]
    assert len(statuses) >= 2
    table = ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "binance")
    assert table.num_rows > 0


def test_missing_file_fails_naming_it_and_keeps_the_old_partition(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    resources = bind_resources(tardis_server, lake_root)
    assert run(resources, "2024-01-02|binance").success
    before = ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "binance")

    tardis_server.inject("404", path_contains="/trades/2024/01/02/ETHUSDT", times=5)
    result = run(resources, "2024-01-02|binance")

    assert not result.success
    assert "Tardis has no file for binance trades ETHUSDT 2024-01-02" in _failure_message(result)
    # A 404 is final: neither tardis-dev nor Dagster's retry policy asks again.
    asked = [s for _, p, s in tardis_server.requests if "/trades/2024/01/02/ETHUSDT" in p]
    assert asked == [200, 404]
    assert ParquetLake(str(lake_root)).read(TRADES, "2024-01-02", "binance").equals(before)


def test_persistent_stall_gives_up_within_the_deadline(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    tardis_server.inject(
        "stall", path_contains="/trades/2024/01/02/BTCUSDT", times=50, stall_seconds=5
    )
    resources = bind_resources(tardis_server, lake_root, timeout_seconds=1, deadline_seconds=3)

    result = run(resources, "2024-01-02|binance")

    assert not result.success
    assert "did not download within 3 s" in _failure_message(result)
    assert trade_files(lake_root, "2024-01-02", "binance") == []


def _failure_message(result) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    return "\n".join(str(e.step_failure_data.error) for e in failures)

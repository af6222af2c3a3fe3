"""The `dagster` CLI in a subprocess, as a user runs it from the repository root."""

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from resources.lake import ParquetLake
from tardis_local.mirror import write_mirror
from tardis_local.server import TardisServer
from tests.conftest import API_KEY

REPO = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SELECTION = "instrument_definitions,ticks/trades"


def dagster(args: list[str], tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TARDIS_", "MARKET_DATA_"))
    }
    env.update(DAGSTER_HOME=str(home), MARKET_DATA_ROOT=str(tmp_path / "lake"), **environment)
    return subprocess.run(
        [DAGSTER, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def materialize(partition: str) -> list[str]:
    """The user's command for one partition of the trades spine."""
    return [
        "asset",
        "materialize",
        "-m",
        "market_assets",
        "--select",
        SELECTION,
        "--partition",
        partition,
    ]


def test_materialize_from_a_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_mirror(mirror, [date(2024, 1, 2)], exchanges=["binance"], data_types=["trades"])

    done = dagster(materialize("2024-01-02|binance"), tmp_path, TARDIS_MIRROR=str(mirror))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    files = ParquetLake(str(tmp_path / "lake")).files(("ticks", "trades"), "2024-01-02", "binance")
    assert [f.name for f in files] == [
        "BINANCE__SPOT_PAIR__BTC-USDT.parquet",
        "BINANCE__SPOT_PAIR__ETH-USDT.parquet",
    ]


def test_materialize_over_http_and_a_clear_error_without_key(tmp_path: Path) -> None:
    with TardisServer() as server:
        endpoints = {
            "TARDIS_DATASETS_ENDPOINT": server.datasets_endpoint,
            "TARDIS_API_ENDPOINT": server.api_endpoint,
        }
        args = materialize("2024-01-02|deribit")
        refused = dagster(args, tmp_path, **endpoints)
        done = dagster(args, tmp_path, TARDIS_API_KEY=API_KEY, **endpoints)

    assert refused.returncode != 0
    assert "no Tardis API key: only the first day of each month is free" in refused.stderr
    assert "pick 2024-01-01" in refused.stderr
    assert done.returncode == 0, done.stderr[-3000:]
    # The key reaches Tardis but never the logs.
    assert API_KEY not in done.stderr + done.stdout


def test_definitions_validate(tmp_path: Path) -> None:
    done = dagster(["definitions", "validate", "-m", "market_assets"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]


def test_candles_and_warehouse_from_the_cli(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    days = [date(2024, 1, 2), date(2024, 1, 3)]
    write_mirror(mirror, days, exchanges=["binance"], data_types=["trades"])
    for day in days:
        ingest = dagster(materialize(f"{day}|binance"), tmp_path, TARDIS_MIRROR=str(mirror))
        assert ingest.returncode == 0, ingest.stderr[-3000:]

    derived = [
        "asset",
        "materialize",
        "-m",
        "market_assets",
        "--select",
        "group:candles or group:features or group:warehouse",
        "--partition",
        "2024-01-02|binance",
    ]
    done = dagster(derived, tmp_path)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    assert "ASSET_CHECK_EVALUATION" in done.stderr
    database = tmp_path / "lake" / "market.duckdb"  # the default: inside the local lake
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "SELECT instrument_key, count(*), sum(trade_count) FROM warehouse.candles_1h "
            "WHERE date = DATE '2024-01-02' AND venue = 'binance' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert [(key, bars) for key, bars, _ in rows] == [
        ("BINANCE:SPOT_PAIR:BTC-USDT", 24),
        ("BINANCE:SPOT_PAIR:ETH-USDT", 24),
    ]
    assert all(trades > 0 for *_, trades in rows)

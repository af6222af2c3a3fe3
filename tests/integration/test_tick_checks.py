"""The tick checks judge what is stored: a landed partition is changed behind the asset's
back, and only the checks run again."""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    materialize,
)

from market_assets.definitions import defs
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

TRADES = AssetKey(["ticks", "trades"])
ASSETS = [defs.get_assets_def("instrument_definitions"), defs.get_assets_def(TRADES)]
CHECKS = list(defs.asset_checks or [])
PARTITION = "2024-01-02|binance"


def verdicts(resources: dict, *, checks_only: bool) -> dict[str, object]:
    """Each ``ticks/trades`` check's evaluation, by name: after materialising the asset,
    or of its checks alone on what the lake holds (with the definitions they read, as a
    run needs a partitioned asset to take its partition from)."""
    selection = None
    if checks_only:
        selection = AssetSelection.assets("instrument_definitions") | (
            AssetSelection.checks_for_assets(TRADES)
        )
    result = materialize(
        [*ASSETS, *CHECKS],
        resources=resources,
        partition_key=PARTITION,
        selection=selection,
        raise_on_error=False,
    )
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert (TRADES in materialized) != checks_only  # the checks judge the lake as it is
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == TRADES}


def test_checks_catch_a_schema_break_a_silence_and_a_missing_instrument(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    resources = bind_resources(tardis_server, lake_root)
    landed = verdicts(resources, checks_only=False)
    assert all(landed[name].passed for name in ("schema", "coverage", "silence"))
    btc, eth = (
        Path(p.path)
        for p in ParquetLake(str(lake_root)).files(("ticks", "trades"), "2024-01-02", "binance")
    )

    # A schema break: one trade of BTC's file stored at a price of zero.
    table = pq.read_table(btc)
    prices = table.column("price").to_numpy().copy()
    prices[17] = 0.0
    pq.write_table(table.set_column(6, "price", pa.array(prices)), btc)
    broken = verdicts(resources, checks_only=True)
    assert not broken["schema"].passed
    failure = broken["schema"].metadata["failures"].value
    assert list(failure) == ["BINANCE__SPOT_PAIR__BTC-USDT"]
    assert "price (row group 0): minimum" in failure["BINANCE__SPOT_PAIR__BTC-USDT"]
    pq.write_table(table, btc)

    # A silence: ETH's trades between 09:00 and 11:00 gone.
    table = pq.read_table(eth)
    hole = (pc.field("timestamp") >= datetime(2024, 1, 2, 9, tzinfo=UTC)) & (
        pc.field("timestamp") < datetime(2024, 1, 2, 11, tzinfo=UTC)
    )
    pq.write_table(table.filter(~hole), eth)
    silent = verdicts(resources, checks_only=True)
    assert silent["schema"].passed
    assert not silent["silence"].passed
    assert silent["silence"].severity == AssetCheckSeverity.WARN
    assert silent["silence"].metadata["holes"].value == ["BINANCE:SPOT_PAIR:ETH-USDT"]
    longest = silent["silence"].metadata["longest"].value["BINANCE:SPOT_PAIR:ETH-USDT"]
    assert longest["from"] < "2024-01-02T09:00" and longest["to"] >= "2024-01-02T11:00"

    # A missing instrument: ETH's file gone.
    eth.unlink()
    missing = verdicts(resources, checks_only=True)
    assert not missing["coverage"].passed
    assert missing["coverage"].severity == AssetCheckSeverity.ERROR
    assert missing["coverage"].metadata["missing"].value == ["BINANCE:SPOT_PAIR:ETH-USDT"]

"""Dagster sees the live stream: the sensor observes the live tables, and the freshness
checks fail when a timeframe's newest bar is older than its window."""

import time
from pathlib import Path

from dagster import AssetSelection, DagsterInstance, build_sensor_context, materialize

from live.bars import LiveBar
from live.tables import LiveTables, table_key
from market_assets.candles.columns import CANDLES
from market_assets.definitions import build_definitions
from market_assets.live.resources import LiveTablesResource
from resources.environment import Environment
from resources.warehouse import DuckDBDialect

T0 = 1_704_067_200_000_000
MINUTE = 60_000_000


def bar(timeframe: str, start_us: int, known_at_us: int, complete: bool = True) -> LiveBar:
    row: dict[str, object] = {field.name: None for field in CANDLES.schema}
    row |= {"instrument_key": "BINANCE:SPOT_PAIR:BTC-USDT", "timestamp": start_us}
    row |= {"volume": 0.0, "trade_count": 0}
    return LiveBar(timeframe, row, False, complete, known_at_us)


def test_the_sensor_observes_each_table_and_a_stalled_stream_fails_freshness(
    tmp_path: Path,
) -> None:
    database = tmp_path / "live_candles.duckdb"
    now_us = time.time_ns() // 1_000
    tables = LiveTables(DuckDBDialect(str(database)))
    # 1m bars are current; the last 1h bar was stored three hours ago: that stream stalled.
    tables.append([bar("1m", T0 + n * MINUTE, now_us - (3 - n) * MINUTE) for n in range(3)])
    tables.append([bar("1h", T0, now_us - 180 * MINUTE, complete=False)])
    url = f"duckdb:///{database}"
    defs = build_definitions(Environment(lake_root=str(tmp_path), live_warehouse_url=url))
    resource = LiveTablesResource(url=url)
    with DagsterInstance.ephemeral() as instance:
        [sensor] = [s for s in defs.sensors if s.name == "live_tables_sensor"]
        result = sensor(
            build_sensor_context(instance=instance, resources={"live_tables": resource})
        )
        observed = {event.asset_key: event.metadata for event in result.asset_events}
        assert set(observed) == {
            table_key(tf) for tf in ("15s", "1m", "5m", "15m", "1h", "4h", "1d")
        }
        minute = observed[table_key("1m")]
        assert minute["rows"].value == 3 and minute["incomplete_bars"].value == 0
        assert minute["last_bar"].value == (T0 + 2 * MINUTE) / 1e6
        assert minute["dagster/last_updated_timestamp"].value == (now_us - MINUTE) / 1e6
        assert observed[table_key("1h")]["incomplete_bars"].value == 1
        assert observed[table_key("15s")]["rows"].value == 0
        for event in result.asset_events:
            instance.report_runless_asset_event(event)

        checks = [
            c for c in defs.asset_checks if next(iter(c.check_keys)).asset_key.path[0] == "live"
        ]
        run = materialize(
            [*checks],
            selection=AssetSelection.checks(*checks),
            instance=instance,
            raise_on_error=False,
        )
        passed = {e.asset_key: e.passed for e in run.get_asset_check_evaluations()}
        assert passed[table_key("1m")] is True
        assert passed[table_key("1h")] is False  # three hours without a bar
        assert passed[table_key("15s")] is False  # never a bar


def test_only_the_timeframes_the_service_builds_are_tables_and_checks(tmp_path: Path) -> None:
    """MARKET_DATA_LIVE_TIMEFRAMES=15s,1m: two external tables, two freshness checks, and
    the sensor observes those two (a 1d table the service never writes would fail its
    freshness check forever)."""
    database = tmp_path / "live_candles.duckdb"
    LiveTables(DuckDBDialect(str(database))).append([bar("1m", T0, time.time_ns() // 1_000)])
    environment = Environment.read(
        {
            "MARKET_DATA_ROOT": str(tmp_path),
            "MARKET_DATA_LIVE_WAREHOUSE": f"duckdb:///{database}",
            "MARKET_DATA_LIVE_TIMEFRAMES": "1m,15s",
        }
    )
    defs = build_definitions(environment)
    graph = defs.resolve_asset_graph()
    live = {key for key in graph.get_all_asset_keys() if key.path[0] == "live"}
    assert live == {table_key("15s"), table_key("1m")}
    checked = {
        next(iter(c.check_keys)).asset_key
        for c in defs.asset_checks
        if next(iter(c.check_keys)).asset_key.path[0] == "live"
    }
    assert checked == live
    with DagsterInstance.ephemeral() as instance:
        [sensor] = [s for s in defs.sensors if s.name == "live_tables_sensor"]
        result = sensor(
            build_sensor_context(
                instance=instance, resources={"live_tables": defs.resources["live_tables"]}
            )
        )
    assert {event.asset_key for event in result.asset_events} == live

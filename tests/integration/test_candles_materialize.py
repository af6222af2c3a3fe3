"""Candles materialised from real tick partitions, and rebuilt when the next day lands."""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize
from dagster import evaluate_automation_conditions as evaluate

from market_assets.automation.jobs import INGEST_SELECTION
from market_assets.candles.assets import candle_key
from market_assets.definitions import defs
from partitions import TIMEFRAMES, market_partition_key
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

ALL = [a for a in defs.assets if AssetKey("coverage_heatmap") not in a.keys]
CANDLE_CHECKS = [
    check
    for check in defs.asset_checks
    if next(iter(check.check_keys)).asset_key.path[0] == "candles"
]
CANDLES = AssetSelection.assets(defs.get_assets_def(candle_key("1m"))) | AssetSelection.checks(
    *CANDLE_CHECKS
)
DAY, NEXT = "2024-01-01", "2024-01-02"


def ingest(resources: dict, instance: DagsterInstance, day: str, venue: str) -> None:
    assert materialize(
        ALL,
        selection=INGEST_SELECTION,
        resources=resources,
        instance=instance,
        partition_key=f"{day}|{venue}",
    ).success


def build_candles(resources: dict, instance: DagsterInstance, day: str, venue: str):
    return materialize(
        [*ALL, *CANDLE_CHECKS],
        selection=CANDLES,
        resources=resources,
        instance=instance,
        partition_key=f"{day}|{venue}",
    )


def metadata(result, timeframe: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == candle_key(timeframe)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def requested(result) -> set[tuple[str, str]]:
    return {
        (key.to_user_string(), str(partition))
        for key in (candle_key(t) for t in TIMEFRAMES)
        for partition in result.get_requested_partitions(key)
    }


def test_day_is_rebuilt_with_its_late_trades_once_the_next_day_lands(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    resources = bind_resources(tardis_server, lake_root)
    lake = ParquetLake(str(lake_root))
    with DagsterInstance.ephemeral() as instance:
        # The automation sensor ticks all along: once before the export, once after.
        start = evaluate(defs, instance, evaluation_time=datetime(2024, 1, 2, 5, tzinfo=UTC))
        assert requested(start) == set()
        ingest(resources, instance, DAY, "deribit")
        # 07:00 the next morning: the day is exported, the next one is not over yet.
        first = evaluate(
            defs, instance, evaluation_time=datetime(2024, 1, 2, 7, tzinfo=UTC), cursor=start.cursor
        )
        assert requested(first) == {
            (f"candles/{t}", str(market_partition_key(DAY, "deribit"))) for t in TIMEFRAMES
        }

        early = build_candles(resources, instance, DAY, "deribit")
        assert early.success
        assert metadata(early, "1h")["next_day_included"] is False
        assert metadata(early, "1h")["late_trades_from_next_day"] == 0
        before = lake.read(("candles", "1m"), DAY, "deribit")

        settled = evaluate(
            defs, instance, evaluation_time=datetime(2024, 1, 2, 8, tzinfo=UTC), cursor=first.cursor
        )
        assert requested(settled) == set()

        ingest(resources, instance, NEXT, "deribit")
        later = evaluate(
            defs,
            instance,
            evaluation_time=datetime(2024, 1, 3, 7, tzinfo=UTC),
            cursor=settled.cursor,
        )
        partitions = {p for _, p in requested(later)}
        assert str(market_partition_key(DAY, "deribit")) in partitions  # the rebuild
        assert str(market_partition_key(NEXT, "deribit")) in partitions

        rebuilt = build_candles(resources, instance, DAY, "deribit")
        assert rebuilt.success
        late = metadata(rebuilt, "1h")["late_trades_from_next_day"]
        assert metadata(rebuilt, "1h")["next_day_included"] is True
        assert late > 0
        after = lake.read(("candles", "1m"), DAY, "deribit")
        # The late trades land in the day's last bars; nothing else moves.
        assert pc.sum(after["trade_count"]).as_py() == pc.sum(before["trade_count"]).as_py() + late
        last_minute = pa.scalar(datetime(2024, 1, 1, 23, 59, tzinfo=UTC))
        earlier = pc.less(after["timestamp"], last_minute)
        assert after.filter(earlier).equals(
            before.filter(pc.less(before["timestamp"], last_minute))
        )

        evaluations = rebuilt.get_asset_check_evaluations()
        assert len(evaluations) == len([k for c in CANDLE_CHECKS for k in c.check_keys])
        assert [
            (e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed
        ] == []

        # A rerun replaces the partition exactly.
        assert build_candles(resources, instance, DAY, "deribit").success
        assert lake.read(("candles", "1m"), DAY, "deribit").equals(after)


def test_every_timeframe_has_every_bar_and_the_features_that_apply(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    resources = bind_resources(tardis_server, lake_root)
    lake = ParquetLake(str(lake_root))
    with DagsterInstance.ephemeral() as instance:
        for venue in ("binance", "deribit"):
            ingest(resources, instance, DAY, venue)
            result = build_candles(resources, instance, DAY, venue)
            assert result.success
            assert all(e.passed for e in result.get_asset_check_evaluations())
            for timeframe, seconds in TIMEFRAMES.items():
                table = lake.read(("candles", timeframe), DAY, venue)
                keys = set(table["instrument_key"].to_pylist())
                assert table.num_rows == len(keys) * 86_400 // seconds
            chart = metadata(result, "15m")["chart"]
            assert chart.startswith("![") and "data:image/png;base64," in chart

        spot = lake.read(("candles", "1h"), DAY, "binance")
        # Spot has no derivative ticker, liquidations or options: null, never zero.
        for column in ("funding_rate", "liquidation_buy_volume", "atm_iv", "basis"):
            assert spot[column].null_count == spot.num_rows, column
        assert spot["best_bid"].null_count < spot.num_rows

        perpetual = lake.read(("candles", "1h"), DAY, "deribit").filter(
            pc.equal(pc.field("instrument_key"), "DERIBIT:PERPETUAL:BTC-USD")
        )
        assert perpetual["mark_price"].null_count < perpetual.num_rows
        assert perpetual["liquidation_sell_count"].null_count == 0
        assert perpetual["atm_iv"].null_count < perpetual.num_rows

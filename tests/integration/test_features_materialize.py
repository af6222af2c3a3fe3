"""MFT features materialised from real candles of the local Tardis, with their checks and
warehouse tables."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.compute as pc
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize
from dagster import evaluate_automation_conditions as evaluate

from market_assets.definitions import defs
from market_assets.features.assets import feature_key
from market_assets.features.columns import MFT
from resources.lake import ParquetLake
from resources.universe import UniverseResource
from resources.warehouse import DEFAULT_DUCKDB_FILE
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

VENUE = "deribit"
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]
ALL = [a for a in defs.assets if AssetKey("coverage_heatmap") not in a.keys]
CHECKS = list(defs.asset_checks)
INGEST = AssetSelection.assets("instrument_definitions") | AssetSelection.assets(
    AssetKey(["ticks", "trades"]), AssetKey(["ticks", "derivative_ticker"])
)
TIMEFRAMES = ("1h", "1d")


def checks_of(*keys: AssetKey) -> AssetSelection:
    """The checks of ``keys``, but those comparing with another timeframe not built here."""
    return AssetSelection.checks(
        *(
            key
            for check in CHECKS
            for key in check.check_keys
            if key.asset_key in keys and key.name != "cross_timeframe"
        )
    )


def requested_features(result) -> set[tuple[str, str]]:
    return {
        (key.to_user_string(), str(partition))
        for key in (feature_key(tf) for tf in TIMEFRAMES)
        for partition in result.get_requested_partitions(key)
    }


def test_features_of_a_day_stand_on_the_candles_of_its_look_back(
    tardis_server: TardisServer, lake_root: Path, tmp_path: Path
) -> None:
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "venues:\n  deribit:\n    data_types: [trades, derivative_ticker]\n"
        "    symbols: [BTC-PERPETUAL]\n"
    )
    resources = {
        **bind_resources(tardis_server, lake_root),
        "universe": UniverseResource(path=str(universe)),
    }
    candles = [AssetKey(["candles", tf]) for tf in TIMEFRAMES]
    features = [feature_key(tf) for tf in TIMEFRAMES]
    tables = [AssetKey(["warehouse", f"mft_{tf}"]) for tf in TIMEFRAMES]
    with DagsterInstance.ephemeral() as instance:
        for day in DAYS:
            assert materialize(
                ALL,
                selection=INGEST,
                resources=resources,
                instance=instance,
                partition_key=f"{day}|{VENUE}",
            ).success
        start = evaluate(defs, instance, evaluation_time=datetime(2024, 1, 4, 6, tzinfo=UTC))
        assert requested_features(start) == set()

        def build_candles(day: str) -> None:
            assert materialize(
                [*ALL, *CHECKS],
                selection=AssetSelection.assets(*candles).without_checks() | checks_of(*candles),
                resources=resources,
                instance=instance,
                partition_key=f"{day}|{VENUE}",
            ).success

        for day in DAYS:
            build_candles(day)
        # The features follow their candles over the last two days (the 1st is older).
        after = evaluate(
            defs, instance, evaluation_time=datetime(2024, 1, 4, 7, tzinfo=UTC), cursor=start.cursor
        )
        assert requested_features(after) == {
            (key.to_user_string(), f"{day}|{VENUE}") for key in features for day in DAYS[1:]
        }
        built = materialize(
            [*ALL, *CHECKS],
            selection=AssetSelection.assets(*features, *tables) | checks_of(*features),
            resources=resources,
            instance=instance,
            partition_key=f"{DAYS[-1]}|{VENUE}",
        )

        # The 2nd's candles rebuilt (its next day landed late): every feature day whose
        # look-back holds the 2nd follows.
        settled = evaluate(
            defs, instance, evaluation_time=datetime(2024, 1, 4, 8, tzinfo=UTC), cursor=after.cursor
        )
        build_candles(DAYS[1])
        rebuilt = evaluate(
            defs,
            instance,
            evaluation_time=datetime(2024, 1, 4, 9, tzinfo=UTC),
            cursor=settled.cursor,
        )
        assert requested_features(rebuilt) == {
            (key.to_user_string(), f"{day}|{VENUE}") for key in features for day in DAYS[1:]
        }

    assert built.success
    evaluations = built.get_asset_check_evaluations()
    assert len(evaluations) == 5 * len(TIMEFRAMES)
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    lake = ParquetLake(str(lake_root))
    hourly = lake.read(("features", "mft_1h"), DAYS[-1], VENUE)
    assert hourly.schema.equals(MFT.schema)
    assert hourly.num_rows == 24
    assert set(hourly["instrument_key"].to_pylist()) == {"DERIBIT:PERPETUAL:BTC-USD"}
    # Two days of history before the day: 48 bars, then the day's own.
    assert hourly["history_bars"].to_pylist() == list(range(49, 73))
    # log_return_60 needs 61 bars: from the day's 13th bar on; the 20-day relative
    # volume never has its history here.
    assert hourly["log_return_60"].null_count == 12
    assert hourly["relative_volume_20d"].null_count == 24
    assert hourly["rsi_14"].null_count == 0
    assert hourly["funding_rate"].null_count == 0
    closes = pc.add(hourly["timestamp"].cast("int64"), 3_600_000_000)
    assert pc.all(pc.greater_equal(hourly["known_at"].cast("int64"), closes)).as_py()
    [event] = [
        e for e in built.get_asset_materialization_events() if e.asset_key == feature_key("1h")
    ]
    missing = event.materialization.metadata["missing_history_days"].value
    assert len(missing) == 18 and missing[-1] == "2023-12-31"
    daily = lake.read(("features", "mft_1d"), DAYS[-1], VENUE)
    assert daily["history_bars"].to_pylist() == [3]
    with duckdb.connect(str(lake_root / DEFAULT_DUCKDB_FILE), read_only=True) as warehouse:
        rows, first = warehouse.sql(
            "SELECT count(*), min(history_bars) FROM warehouse.mft_1h "
            f"WHERE date = DATE '{DAYS[-1]}' AND venue = '{VENUE}'"
        ).fetchone()
    assert (rows, first) == (24, 49)

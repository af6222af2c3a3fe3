"""Every tick data type materialised against the local Tardis-compatible server."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetCheckSeverity, AssetKey, materialize

from market_assets.definitions import defs
from market_assets.schemas import pandera_schema
from market_assets.ticks.columns import TICK_DATASETS
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import EXPORTED_UNTIL, bind_resources

ALL_ASSETS = list(defs.assets)
ALL_CHECKS = list(defs.asset_checks)
DERIVATIVES = [
    "trades",
    "book_snapshot_5",
    "book_snapshot_25",
    "quotes",
    "derivative_ticker",
    "liquidations",
]


def run(resources: dict, partition: str):
    return materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        resources=resources,
        partition_key=partition,
        raise_on_error=False,
    )


def read(lake_root: Path, data_type: str, day: str, venue: str) -> pa.Table:
    return ParquetLake(str(lake_root)).read(("ticks", data_type), day, venue)


def test_every_data_type_lands_for_deribit(tardis_server: TardisServer, lake_root: Path) -> None:
    result = run(bind_resources(tardis_server, lake_root), "2024-01-05|deribit")

    assert result.success
    for data_type in DERIVATIVES:
        table = read(lake_root, data_type, "2024-01-05", "deribit")
        pandera_schema(TICK_DATASETS[data_type]).validate(table)
        keys = set(table.column("instrument_key").to_pylist())
        # Spot pairs publish no derivative data: they are not expected there.
        spot = {"DERIBIT:SPOT_PAIR:BTC-USDC", "DERIBIT:SPOT_PAIR:ETH-USDC"}
        perpetuals = {"DERIBIT:PERPETUAL:BTC-USD", "DERIBIT:PERPETUAL:ETH-USD"}
        if data_type in ("derivative_ticker", "liquidations"):
            assert keys == perpetuals, data_type
        else:
            assert keys == perpetuals | spot, data_type

    chain = read(lake_root, "options_chain", "2024-01-05", "deribit")
    names = [
        p.name
        for p in ParquetLake(str(lake_root)).files(
            ("ticks", "options_chain"), "2024-01-05", "deribit"
        )
    ]
    assert names == ["OPTIONS.parquet"]
    # Rows of Tardis' grouped file keep their own keys; XRP is outside the universe.
    assert set(chain.column("instrument_key").to_pylist()) == {
        "DERIBIT:OPTION:BTC-USD-240329-50000-CALL",
        "DERIBIT:OPTION:BTC-USD-240329-50000-PUT",
        "DERIBIT:OPTION:BTC-USD-240329-60000-CALL",
        "DERIBIT:OPTION:ETH-USD-240329-3000-CALL",
    }
    calls = chain.filter(
        pc.equal(chain["instrument_key"], "DERIBIT:OPTION:BTC-USD-240329-60000-CALL")
    )
    assert set(calls.column("type").to_pylist()) == {"call"}
    assert set(calls.column("strike_price").to_pylist()) == {60000.0}

    evaluations = result.get_asset_check_evaluations()
    # Every check of the partitioned graph, those declared with their asset (the features')
    # included; the live tables' freshness checks run on the sensor's observations instead.
    graph = defs.resolve_asset_graph()
    partitioned = {key for key in graph.asset_check_keys if graph.get(key.asset_key).is_partitioned}
    assert partitioned and len(evaluations) == len(partitioned)
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []

    definitions = ParquetLake(str(lake_root)).read(
        ("instrument_definitions",), "2024-01-05", "deribit"
    )
    option = next(r for r in definitions.to_pylist() if r["symbol"] == "XRP_USDC-29MAR24-0d55-C")
    assert option["instrument_key"] == "DERIBIT:OPTION:XRP-USDC-240329-0.55-CALL"
    assert option["strike"] == 0.55 and option["underlying"] == "SYN.XRP_USDC-29MAR24"


def test_binance_spot_has_books_and_quotes_but_no_derivative_data(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root), "2024-01-05|binance")

    assert result.success
    book = read(lake_root, "book_snapshot_25", "2024-01-05", "binance")
    assert book.num_rows > 0
    best_ask, best_bid = (
        pc.min(book["asks[0].price"]).as_py(),
        pc.max(book["bids[0].price"]).as_py(),
    )
    assert best_ask > 0 and best_bid > 0
    # binance (spot) is not asked for derivative data: those partitions hold no files.
    assert (
        ParquetLake(str(lake_root)).files(("ticks", "derivative_ticker"), "2024-01-05", "binance")
        == []
    )


def test_empty_tardis_file_is_no_data_and_a_missing_one_is_not(lake_root: Path) -> None:
    empty = {("binance-futures", "liquidations", "ETHUSDT", "2024-01-05")}
    with TardisServer(exported_until=EXPORTED_UNTIL, empty_files=empty) as server:
        result = run(bind_resources(server, lake_root), "2024-01-05|binance-futures")

    assert result.success
    coverage = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == AssetKey(["ticks", "liquidations"]) and e.check_name == "coverage"
    )
    assert not coverage.passed and coverage.severity == AssetCheckSeverity.WARN
    assert coverage.metadata["no_data"].value == ["BINANCE-FUTURES:PERPETUAL:ETH-USDT"]
    assert coverage.metadata["missing"].value == []


def test_changes_in_instrument_terms_apply_by_day(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    resources = bind_resources(tardis_server, lake_root)
    ticks = {}
    for day in ("2023-05-31", "2023-06-01"):
        assert materialize(
            [defs.get_assets_def("instrument_definitions")],
            resources=resources,
            partition_key=f"{day}|binance-futures",
        ).success
        table = ParquetLake(str(lake_root)).read(
            ("instrument_definitions",), day, "binance-futures"
        )
        btc = next(r for r in table.to_pylist() if r["symbol"] == "BTCUSDT")
        ticks[day] = (btc["tick_size"], btc["taker_fee"])
    assert ticks == {"2023-05-31": (0.01, 0.0005), "2023-06-01": (0.1, 0.0004)}


def test_without_a_key_definitions_say_what_they_lack(lake_root: Path) -> None:
    with TardisServer(exported_until=EXPORTED_UNTIL, instruments_require_key=True) as server:
        result = materialize(
            [defs.get_assets_def("instrument_definitions")],
            resources=bind_resources(server, lake_root, api_key=""),
            partition_key="2024-01-01|deribit",
        )
    assert result.success
    metadata = result.asset_materializations_for_node("instrument_definitions")[0].metadata
    assert metadata["instruments_api"].value.startswith("unavailable")
    assert metadata["from_instruments_api"].value == 0
    table = ParquetLake(str(lake_root)).read(("instrument_definitions",), "2024-01-01", "deribit")
    assert set(table.column("metadata_source").to_pylist()) == {"exchange_details"}
    assert "DERIBIT:PERPETUAL:BTC-USD" in table.column("instrument_key").to_pylist()
    assert table.column("tick_size").null_count == table.num_rows

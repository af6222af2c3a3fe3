"""The live service end to end: the local exchange server replays a generated day over
its WebSocket protocol, the live feed client reads it, the service builds bars; they equal
the batch candles the real asset code materialises from the local Tardis server's files of
that day, for every timeframe, on every column that does not depend on receive time. Then
the exchange server is killed mid-stream and brought back."""

import asyncio
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from exchange_local import ExchangeServer
from live import Hub, live_candles, live_features
from live.bars import LiveBar
from live.features import LiveFeatures, lake_history
from live.feeds import Backoff, events
from live.run import published_data_types
from live.service import LiveService, LiveSettings
from live.tables import LiveTables
from market_assets.automation.jobs import INGEST_SELECTION
from market_assets.candles.assets import candle_key
from market_assets.candles.bars import midnight_us
from market_assets.candles.columns import LIQUIDATION_FIELDS, OPTION_FIELDS
from market_assets.definitions import defs
from market_assets.features.assets import feature_key
from partitions import TIMEFRAMES
from resources.lake import ParquetLake
from resources.warehouse import DuckDBDialect
from tardis_local.server import TardisServer
from tests.conftest import bind_resources
from tests.live.compare import differences, plain
from tests.live.generated import key_of

DAY = date(2024, 1, 1)
T0 = midnight_us(DAY)
S = 1_000_000
VENUE, SYMBOL = "deribit", "BTC-PERPETUAL"
KEY = key_of(VENUE, SYMBOL)
ALL = [a for a in defs.assets if AssetKey("coverage_heatmap") not in a.keys]
FAST = Backoff(initial=0.05, maximum=0.4, jitter=0.1)
# Receive time (the feed's own clock), data the feed does not carry (liquidations) and
# the options chain's features (not subscribed live).
RECEIVE_TIME = frozenset(
    {"timestamp_out", "delay_min_ms", "delay_median_ms", "delay_mean_ms", "delay_max_ms"}
)
NOT_LIVE = frozenset(LIQUIDATION_FIELDS) | frozenset(OPTION_FIELDS)


def batch_day(tardis_server: TardisServer, lake_root: Path) -> dict[str, pa.Table]:
    """The day's candles and 1h features, materialised by the asset code from the local
    Tardis server (the day's files only: the exchange server replays those)."""
    resources = bind_resources(tardis_server, lake_root)
    partition = f"{DAY}|{VENUE}"
    with DagsterInstance.ephemeral() as instance:
        assert materialize(
            ALL,
            selection=INGEST_SELECTION,
            resources=resources,
            instance=instance,
            partition_key=partition,
        ).success
        selection = AssetSelection.assets(*(candle_key(tf) for tf in TIMEFRAMES), feature_key("1h"))
        assert materialize(
            ALL,
            selection=selection,
            resources=resources,
            instance=instance,
            partition_key=partition,
        ).success
    lake = ParquetLake(str(lake_root))
    tables = {tf: lake.read(("candles", tf), str(DAY), VENUE) for tf in TIMEFRAMES}
    tables["features_1h"] = lake.read(("features", "mft_1h"), str(DAY), VENUE)
    return {name: t.filter(pc.equal(t["instrument_key"], KEY)) for name, t in tables.items()}


async def serve_until_day_closed(
    server: ExchangeServer, service: LiveService, hub: Hub, kill_after: float | None = None
) -> tuple[list[LiveBar], list]:
    """Run the service on the feed until the day's 1d bar closes (killing the exchange
    server for a second ``kill_after`` seconds in); the 1m bars and 1h features seen."""
    bars: list[LiveBar] = []
    features: list = []

    async def day_closed() -> None:
        async for bar in live_candles(KEY, "1d", source=hub):
            if bar.timestamp_us == T0:
                return

    async def minutes() -> None:
        async for bar in live_candles(KEY, "1m", source=hub, capacity=1_000_000):
            bars.append(bar)

    async def hours() -> None:
        async for row in live_features(KEY, "1h", source=hub):
            features.append(row)

    async def kill() -> None:
        await asyncio.sleep(kill_after or 0)
        server.stop()
        await asyncio.sleep(1.0)
        server.start()

    watchers = [asyncio.create_task(c()) for c in (minutes, hours)]
    closed = asyncio.create_task(day_closed())
    killer = asyncio.create_task(kill()) if kill_after is not None else None
    feed = events({VENUE: [SYMBOL]}, endpoints=server.endpoints, backoff=FAST, heartbeat=2.0)
    running = asyncio.create_task(service.run(feed))
    await asyncio.wait_for(closed, 300)
    service.stop()
    await running
    await asyncio.gather(*watchers)
    if killer is not None:
        await killer
    return bars, features


def live_service(tables: LiveTables, lake_root: Path) -> tuple[LiveService, Hub]:
    carried = {VENUE: ("trades", "quotes", "book_snapshot_5", "derivative_ticker")}
    data_types = published_data_types(str(lake_root), carried, today=DAY)
    assert {"trades", "book_snapshot_5", "derivative_ticker"} <= data_types[KEY]
    hub = Hub()
    service = LiveService(
        hub,
        tables,
        LiveFeatures(lake_history(str(lake_root)), timeframes=("1h",)),
        LiveSettings(flush_seconds=0.2),
        data_types.get,
    )
    return service, hub


def stored(tables: LiveTables, timeframe: str) -> pa.Table:
    with tables.dialect.connect() as connection:
        return connection.execute(
            f"SELECT * FROM live.live_candles_{timeframe} ORDER BY timestamp"
        ).to_arrow_table()


def on_day(table: pa.Table) -> list[dict]:
    rows = plain(table)
    return [
        {k: v for k, v in r.items() if k not in ("complete", "known_at")}
        for r in rows
        if T0 <= r["timestamp"] < T0 + 86_400 * S
    ]


def test_the_exchange_feed_of_a_day_gives_the_batch_candles_and_features(
    tardis_server: TardisServer, lake_root: Path, tmp_path: Path
) -> None:
    batch = batch_day(tardis_server, lake_root)
    tables = LiveTables(DuckDBDialect(str(tmp_path / "live_candles.duckdb")))
    service, hub = live_service(tables, lake_root)
    with ExchangeServer(DAY, {VENUE: [SYMBOL]}) as server:
        bars, features = asyncio.run(serve_until_day_closed(server, service, hub))
    assert service.stats.disconnects == 0
    skip = RECEIVE_TIME | NOT_LIVE
    for timeframe, seconds in TIMEFRAMES.items():
        rows = on_day(stored(tables, timeframe))
        missing = set(range(T0, T0 + 86_400 * S, seconds * S)) - {r["timestamp"] for r in rows}
        assert not missing, f"{timeframe}: no bar at {sorted(missing)[:5]}"
        assert differences(rows, plain(batch[timeframe]), skip=skip) == [], timeframe
    assert all(b.complete for b in bars if b.timestamp_us >= T0)
    # The features of the bars the live service covers, but for those of the options and
    # the liquidations (not fed live) and the receive time's (known_at).
    got = [f.row for f in features if f.row["timestamp"] >= T0]
    expected = plain(batch["features_1h"])
    assert len(got) == len(expected) == 24
    optional = frozenset(
        k for k in expected[0] if "iv" in k or "risk_reversal" in k or "liquidation" in k
    )
    assert differences(got, expected, skip=frozenset({"known_at"}) | optional) == []


def test_the_exchange_killed_mid_stream_is_a_flagged_gap_and_no_bar_twice(
    tardis_server: TardisServer, lake_root: Path, tmp_path: Path
) -> None:
    batch_day(tardis_server, lake_root)
    tables = LiveTables(DuckDBDialect(str(tmp_path / "live_candles.duckdb")))
    service, hub = live_service(tables, lake_root)
    started = time.monotonic()
    with ExchangeServer(DAY, {VENUE: [SYMBOL]}, speed=4_000.0) as server:
        bars, _ = asyncio.run(serve_until_day_closed(server, service, hub, kill_after=5.0))
    assert time.monotonic() - started > 6
    assert service.stats.disconnects >= 1
    incomplete = [b for b in bars if not b.complete and b.timestamp_us >= T0]
    assert incomplete, "the outage flagged no bar"
    assert len({b.timestamp_us for b in bars}) == len(bars)
    for timeframe, seconds in TIMEFRAMES.items():
        table = stored(tables, timeframe)
        assert len(pc.unique(table["timestamp"])) == table.num_rows, timeframe
        assert len(on_day(table)) == 86_400 // seconds, timeframe
    minutes = plain(stored(tables, "1m"))
    flagged = {r["timestamp"] for r in minutes if not r["complete"] and r["timestamp"] >= T0}
    assert flagged == {b.timestamp_us for b in incomplete}

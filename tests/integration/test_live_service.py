"""The live service driven by a replay of a generated day: bars and features equal the
batch code's from the same ticks, each bar stored once, across a restart and an outage."""

import asyncio
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from live import Hub, live_candles, live_features
from live.bars import LiveBar
from live.events import Disconnected, LiveEvent, Reconnected, Tick
from live.features import LiveFeatures
from live.replay import ticks_in_receive_order
from live.service import LiveService, LiveSettings
from live.tables import LiveTables
from market_assets.candles.bars import midnight_us
from market_assets.features.build import day_features
from partitions import TIMEFRAMES
from resources.warehouse import DuckDBDialect
from tests.live.compare import differences, plain
from tests.live.generated import batch_candles, key_of, tick_tables

DAY = date(2024, 1, 1)
T0 = midnight_us(DAY)
S = 1_000_000
VENUE, SYMBOL = "binance-futures", "BTCUSDT"
KEY = key_of(VENUE, SYMBOL)
# What the next day's file adds before the replay stops: enough to close every bar.
NEXT_DAY_US = 10 * 60 * S
FEATURES = ("1h", "4h", "1d")


@pytest.fixture(scope="module")
def day_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[pa.Table]]:
    return tick_tables(tmp_path_factory.mktemp("ticks"), VENUE, SYMBOL, DAY)


def ticks(tables: dict[str, list[pa.Table]]) -> list[Tick]:
    stream = ticks_in_receive_order(
        (VENUE, data_type, table) for data_type, parts in tables.items() for table in parts
    )
    return [t for t in stream if int(t.row["local_timestamp"]) < T0 + 86_400 * S + NEXT_DAY_US]


async def run(
    service: LiveService, events: list[LiveEvent], hub: Hub
) -> tuple[list[LiveBar], list]:
    """Run the service over ``events`` with a consumer of 1m bars and one of 1h features."""
    bars: list[LiveBar] = []
    features: list = []

    async def consume_bars() -> None:
        async for bar in live_candles(KEY, "1m", source=hub, capacity=100_000):
            bars.append(bar)

    async def consume_features() -> None:
        async for row in live_features(KEY, "1h", source=hub):
            features.append(row)

    async def feed():
        for event in events:
            yield event
            await asyncio.sleep(0)

    consumers = [asyncio.create_task(consume_bars()), asyncio.create_task(consume_features())]
    await asyncio.sleep(0)
    await service.run(feed())
    await asyncio.gather(*consumers)
    return bars, features


def service(tables: LiveTables, data_types: list[str]) -> tuple[LiveService, Hub]:
    hub = Hub()
    return (
        LiveService(
            hub,
            tables,
            LiveFeatures(timeframes=FEATURES),
            LiveSettings(flush_seconds=0.05),
            lambda key: data_types,
        ),
        hub,
    )


def stored(tables: LiveTables, timeframe: str) -> pa.Table:
    with tables.dialect.connect() as connection:
        return connection.execute(
            f"SELECT * FROM live.live_candles_{timeframe} ORDER BY timestamp"
        ).to_arrow_table()


def test_replayed_day_gives_the_batch_bars_and_features_once_each_across_a_restart(
    day_tables: dict[str, list[pa.Table]], tmp_path: Path
) -> None:
    tables = LiveTables(DuckDBDialect(str(tmp_path / "live_candles.duckdb")))
    live, hub = service(tables, list(day_tables))
    bars, features = asyncio.run(run(live, ticks(day_tables), hub))
    batch = batch_candles(KEY, day_tables, DAY, TIMEFRAMES)

    on_day = [b.row for b in bars if T0 <= b.timestamp_us < T0 + 86_400 * S]
    assert differences(on_day, plain(batch["1m"])) == []
    assert all(b.complete for b in bars if b.timestamp_us >= T0)
    assert all(b.known_at_us > 0 and not b.partial for b in bars)
    for timeframe, seconds in TIMEFRAMES.items():
        table = stored(tables, timeframe)
        day = table.filter(pc.less(table["timestamp"].cast(pa.int64()), T0 + 86_400 * S))
        day = day.filter(pc.greater_equal(day["timestamp"].cast(pa.int64()), T0))
        assert day.num_rows == 86_400 // seconds, timeframe
        rows = [
            {k: v for k, v in r.items() if k not in ("complete", "known_at")} for r in plain(day)
        ]
        assert differences(rows, plain(batch[timeframe])) == [], timeframe
        keys = pc.unique(table["timestamp"]).to_pylist()
        assert len(keys) == table.num_rows, f"{timeframe}: a bar stored twice"

    # Features of the 1h bars: the batch features of the batch candles, value for value,
    # but for known_at (the live bars' receive times).
    expected = plain(day_features(batch["1h"], T0, 3_600))
    got = [row.row for row in features if T0 <= row.row["timestamp"] < T0 + 86_400 * S]
    assert differences(got, expected, skip=frozenset({"known_at"})) == []

    # A restart over the same feed emits and stores nothing it already stored.
    counts = {tf: stored(tables, tf).num_rows for tf in TIMEFRAMES}
    again, hub = service(tables, list(day_tables))
    bars_again, _ = asyncio.run(run(again, ticks(day_tables), hub))
    assert bars_again == []
    assert again.stats.bars == 0 and again.stats.skipped_resumed > 0
    assert {tf: stored(tables, tf).num_rows for tf in TIMEFRAMES} == counts


def test_an_outage_marks_the_bars_it_touched_and_no_bar_is_emitted_twice(
    day_tables: dict[str, list[pa.Table]], tmp_path: Path
) -> None:
    feed = ticks(day_tables)
    # The feed is lost from 06:00:00 to 06:03:00 of exchange time: those ticks never come.
    down, up = T0 + 6 * 3_600 * S, T0 + (6 * 3_600 + 180) * S
    before = [t for t in feed if int(t.row["timestamp"]) < down]
    after = [t for t in feed if int(t.row["timestamp"]) >= up and t not in before]
    events: list[LiveEvent] = [
        *before,
        Disconnected(VENUE, down),
        Reconnected(VENUE, up, down),
        *after,
    ]
    tables = LiveTables(DuckDBDialect(str(tmp_path / "live_candles.duckdb")))
    live, hub = service(tables, list(day_tables))
    bars, _ = asyncio.run(run(live, events, hub))
    incomplete = {b.timestamp_us for b in bars if not b.complete and b.timestamp_us >= T0}
    # Every 1m bar from the one open when the feed was lost (the clock then read the last
    # tick's time, just before 06:00) to the one the first tick after it is in.
    assert down - 60 * S <= min(incomplete) < down
    back = int(after[0].row["timestamp"])  # the outage ends at the first tick after it
    assert up <= back and max(incomplete) <= back < max(incomplete) + 60 * S
    assert all(b.complete for b in bars if b.timestamp_us > back)
    assert all(
        b.complete for b in bars if b.timestamp_us >= T0 and b.timestamp_us + 60 * S <= down - 3 * S
    )
    assert len({b.timestamp_us for b in bars}) == len(bars)
    for timeframe in TIMEFRAMES:
        table = stored(tables, timeframe)
        assert len(pc.unique(table["timestamp"])) == table.num_rows
    [day_bar] = [r for r in plain(stored(tables, "1d")) if r["timestamp"] == T0]
    assert day_bar["complete"] is False

"""The live feed client against the local exchange server, over real sockets on 127.0.0.1.

The reference is the local Tardis server's CSV files of the same day, downloaded over HTTP
and read with the standard library's csv module: every live row must equal its file's row
on every column that does not depend on receive time, in file order.
"""

import asyncio
import contextlib
import csv
import gzip
import io
import time
import urllib.request
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest

from exchange_local import ExchangeServer
from live.events import Disconnected, LiveEvent, Reconnected, Tick
from live.feeds import Backoff, VenueFeed, events
from live.feeds.connection import keep_connected
from live.feeds.deribit import DeribitProtocol
from market_assets.instruments.keys import instrument_key
from market_assets.ticks.columns import TICK_DATASETS
from tardis_local import catalog
from tardis_local.server import TardisServer
from tests.conftest import API_KEY

DAY = date(2024, 1, 2)
SYMBOLS = {
    "binance": ["BTCUSDT", "ETHUSDT"],
    "binance-futures": ["BTCUSDT", "ETHUSDT"],
    "deribit": ["BTC-PERPETUAL", "BTC_USDC"],
}
LIVE_TYPES = ("trades", "quotes", "book_snapshot_5", "derivative_ticker")
# Binance's markPrice stream has no open interest or last price (live/events.py).
NOT_ON_THE_WIRE = {("binance-futures", "derivative_ticker"): {"open_interest", "last_price"}}
INTEGER_COLUMNS = {"timestamp", "local_timestamp", "funding_timestamp"}
TEXT_COLUMNS = {"exchange", "id", "side", "symbol"}
FAST = Backoff(initial=0.05, maximum=0.4, jitter=0.1)
Key = tuple[str, str, str]  # venue, data type, symbol


def _value(name: str, text: str) -> object:
    if text == "":
        return None
    if name in TEXT_COLUMNS:
        return text
    return int(text) if name in INTEGER_COLUMNS else float(text)


def _expected(
    tardis: TardisServer, symbols_by_venue: dict[str, list[str]] = SYMBOLS
) -> dict[Key, list[dict[str, object]]]:
    """Every live file of the day, downloaded from the local Tardis server."""
    files = {}
    for venue, symbols in symbols_by_venue.items():
        for symbol in symbols:
            for data_type in LIVE_TYPES:
                if data_type not in catalog.symbol_data_types(venue, symbol):
                    continue
                url = (
                    f"{tardis.datasets_endpoint}/{venue}/{data_type}/{DAY:%Y/%m/%d}/{symbol}.csv.gz"
                )
                request = urllib.request.Request(
                    url, headers={"Authorization": f"Bearer {API_KEY}"}
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    text = gzip.decompress(response.read()).decode()
                files[(venue, data_type, symbol)] = [
                    {name: _value(name, cell) for name, cell in row.items()}
                    for row in csv.DictReader(io.StringIO(text))
                ]
    return files


async def _collect(
    stream: AsyncIterator[LiveEvent], until, log: list[LiveEvent], limit: float = 120
) -> None:
    """Append `stream`'s events to `log` until `until(log)` holds."""

    async def run() -> None:
        async for event in stream:
            log.append(event)
            if until(log):
                return

    await asyncio.wait_for(run(), limit)


def _ticks(log: list[LiveEvent]) -> dict[Key, list[dict[str, object]]]:
    by_file: dict[Key, list[dict[str, object]]] = defaultdict(list)
    for event in log:
        if isinstance(event, Tick):
            by_file[(event.venue, event.data_type, event.row["symbol"])].append(event.row)  # type: ignore[index]
    return by_file


def _assert_row(key: Key, live: dict[str, object], expected: dict[str, object]) -> None:
    venue, data_type, symbol = key
    assert list(live) == TICK_DATASETS[data_type].names
    kind = catalog.instrument(venue, symbol)["type"]
    assert live["instrument_key"] == instrument_key(venue, kind, symbol)
    absent = NOT_ON_THE_WIRE.get((venue, data_type), set())
    for name, value in expected.items():
        if name in ("exchange", "local_timestamp"):
            continue
        if name in absent:
            assert live[name] is None, (key, name)
        else:
            assert live[name] == value, (key, name, live, expected)


def test_the_feed_receives_the_generated_day_value_for_value(tardis_server: TardisServer) -> None:
    expected = _expected(tardis_server)
    total = sum(len(rows) for rows in expected.values())
    log: list[LiveEvent] = []
    with ExchangeServer(DAY, SYMBOLS) as exchange:
        started_us = time.time_ns() // 1000
        asyncio.run(
            _collect(
                events(SYMBOLS, endpoints=exchange.endpoints, deribit_credentials=("id", "key")),
                lambda log: len(log) == total,
                log,
            )
        )
        finished_us = time.time_ns() // 1000
        assert all(exchange.finished(venue) for venue in SYMBOLS)
    assert all(isinstance(event, Tick) for event in log)  # no outage
    received = _ticks(log)
    assert set(received) == set(expected)
    for key, rows in expected.items():
        assert len(received[key]) == len(rows), key
        for live, row in zip(received[key], rows, strict=True):
            _assert_row(key, live, row)
    # local_timestamp is this process's receive time, in µs, never before it started
    stamps = [event.row["local_timestamp"] for event in log if isinstance(event, Tick)]
    assert all(started_us <= stamp <= finished_us for stamp in stamps)  # type: ignore[operator]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    # Exchange times keep the generated µs (not ms rounded), and some cross midnight.
    trades = expected[("binance", "trades", "BTCUSDT")]
    assert any(int(row["timestamp"]) % 1000 for row in trades)  # type: ignore[call-overload]


def _outage(log: list[LiveEvent], venue: str) -> tuple[int, Disconnected, Reconnected, int]:
    """The only outage of `venue` in `log`: (index of Disconnected, it, Reconnected, index)."""
    outages = [
        (index, event)
        for index, event in enumerate(log)
        if isinstance(event, Disconnected | Reconnected) and event.venue == venue
    ]
    assert [type(event) for _, event in outages] == [Disconnected, Reconnected], outages
    (down_at, down), (up_at, up) = outages
    return down_at, down, up, up_at  # type: ignore[return-value]


def test_a_killed_server_is_reported_and_the_feed_resumes(tardis_server: TardisServer) -> None:
    expected = _expected(tardis_server)
    total = sum(len(rows) for rows in expected.values())
    log: list[LiveEvent] = []

    async def scenario(exchange: ExchangeServer) -> None:
        stream = events(SYMBOLS, endpoints=exchange.endpoints, backoff=FAST)
        # Mid-stream: every venue has pushed part of its day.
        await _collect(stream, lambda log: len(log) >= total // 3, log)
        exchange.stop()  # the port closes and every connection is cut
        down: set[str] = set()

        def all_down(log: list[LiveEvent]) -> bool:
            if isinstance(log[-1], Disconnected):
                down.add(log[-1].venue)
            return down == set(SYMBOLS)

        await _collect(stream, all_down, log)
        await asyncio.sleep(0.5)  # reconnection attempts meet a closed port
        exchange.start()
        exchange.start()
        await _collect(stream, LastRows(expected), log)
        await stream.aclose()

    with ExchangeServer(DAY, SYMBOLS) as exchange:
        asyncio.run(scenario(exchange))

    for venue in SYMBOLS:
        down_at, down, up, up_at = _outage(log, venue)
        assert up.down_since_us == down.at_us < up.at_us
        venue_ticks = [e for e in log if isinstance(e, Tick) and e.venue == venue]
        before = [e for e in log[:down_at] if isinstance(e, Tick) and e.venue == venue]
        after = [e for e in log[up_at:] if isinstance(e, Tick) and e.venue == venue]
        assert before and after and len(before) + len(after) == len(venue_ticks)
        # Nothing arrives while the venue is down, and resumed ticks are newer.
        assert all(e.row["local_timestamp"] >= up.at_us for e in after)  # type: ignore[operator]
    received = _ticks(log)
    for key, rows in expected.items():
        live_rows = received[key]
        # What arrived is the file's rows in order, each once: a subsequence of the file
        # missing at most the frames in flight when the server died.
        matched = iter(enumerate(rows))
        positions = []
        for live in live_rows:
            for position, row in matched:
                if all(
                    live[name] == row[name]
                    for name in ("timestamp", *TICK_DATASETS[key[1]].names[4:6])
                    if name in row and name not in NOT_ON_THE_WIRE.get(key[:2], set())
                ):
                    _assert_row(key, live, row)
                    positions.append(position)
                    break
            else:
                pytest.fail(f"{key}: a live row not in the file, or out of order: {live}")
        assert positions[-1] == len(rows) - 1, key  # resumed to the end of the day
    lost = total - sum(isinstance(e, Tick) for e in log)
    assert 0 <= lost < total // 10


class LastRows:
    """Whether every file's last row has arrived, kept up event by event (cheaply: the
    condition is asked after every event)."""

    def __init__(self, expected: dict[Key, list[dict[str, object]]]) -> None:
        self.wanted = {key: rows[-1]["timestamp"] for key, rows in expected.items() if rows}
        self.seen: dict[Key, object] = {}

    def __call__(self, log: list[LiveEvent]) -> bool:
        event = log[-1]
        if isinstance(event, Tick):
            self.seen[(event.venue, event.data_type, event.row["symbol"])] = event.row[  # type: ignore[index]
                "timestamp"
            ]
        return self.seen == self.wanted


def test_dropped_connections_are_reported_and_resubscribed(tardis_server: TardisServer) -> None:
    feeds = {"binance-futures": ["BTCUSDT"]}
    expected = _expected(tardis_server, feeds)
    log: list[LiveEvent] = []

    async def scenario(exchange: ExchangeServer) -> None:
        stream = events(feeds, endpoints=exchange.endpoints, backoff=FAST)
        await _collect(stream, lambda log: len(log) >= 500, log)
        assert exchange.drop_connections("binance-futures") == 1
        await _collect(stream, LastRows(expected), log)
        await stream.aclose()

    with ExchangeServer(DAY, feeds) as exchange:
        asyncio.run(scenario(exchange))
    down_at, down, up, up_at = _outage(log, "binance-futures")
    assert up_at == down_at + 1  # nothing between the loss and the new subscription
    assert up.down_since_us == down.at_us < up.at_us


def test_a_silent_connection_is_noticed_by_its_heartbeat(tardis_server: TardisServer) -> None:
    feeds = {"deribit": ["BTC-PERPETUAL"]}
    expected = _expected(tardis_server, feeds)
    log: list[LiveEvent] = []

    async def scenario(exchange: ExchangeServer) -> None:
        stream = events(feeds, endpoints=exchange.endpoints, backoff=FAST, heartbeat=1.0)
        await _collect(stream, lambda log: len(log) >= 500, log)
        # The connection stays open but nothing comes and pings go unanswered.
        assert exchange.freeze_connections("deribit") == 1
        await _collect(stream, LastRows(expected), log)
        await stream.aclose()

    with ExchangeServer(DAY, feeds) as exchange:
        asyncio.run(scenario(exchange))
    _, down, up, up_at = _outage(log, "deribit")
    assert up.down_since_us == down.at_us < up.at_us
    assert all(isinstance(event, Tick) for event in log[up_at + 1 :])


def test_a_venue_down_at_start_is_reported_before_its_ticks() -> None:
    feeds = {"binance": ["BTCUSDT"]}
    log: list[LiveEvent] = []
    # Bound once to learn a free port, then closed: the feed starts against a dead port.
    probe = ExchangeServer(DAY, feeds, rows_per_day={"trades": 100}).start()
    port = probe.port
    probe.close()
    exchange = ExchangeServer(DAY, feeds, port=port, rows_per_day={"trades": 100})

    async def scenario() -> None:
        stream = events(feeds, endpoints=exchange.endpoints, backoff=FAST)
        await _collect(stream, lambda log: isinstance(log[-1], Disconnected), log)
        await asyncio.to_thread(exchange.start)
        await _collect(stream, lambda log: isinstance(log[-1], Tick), log)
        await stream.aclose()

    try:
        asyncio.run(scenario())
    finally:
        exchange.close()
    down, up, first = log
    assert isinstance(down, Disconnected) and isinstance(up, Reconnected)
    assert up.down_since_us == down.at_us < up.at_us <= first.row["local_timestamp"]  # type: ignore[union-attr]


def test_the_deribit_client_answers_heartbeats_over_the_wire() -> None:
    feed = VenueFeed("deribit", ("BTC-PERPETUAL",), ("derivative_ticker",))
    log: list[LiveEvent] = []

    async def scenario(exchange: ExchangeServer) -> None:
        async def emit(event: LiveEvent) -> None:
            log.append(event)

        # Deribit closes a connection whose test_request goes unanswered; at 0.1 s a
        # second without an outage is ten answered heartbeats.
        protocol = DeribitProtocol(feed, heartbeat_seconds=0.1)
        async with aiohttp.ClientSession() as session:
            task = asyncio.create_task(
                keep_connected(
                    protocol,
                    exchange.endpoint("deribit"),
                    session,
                    emit,
                    backoff=FAST,
                    heartbeat=10,
                )
            )
            await asyncio.sleep(1.5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # A tape that holds ticker rows until the end of the second is not needed: what counts
    # is that the connection was never lost while heartbeats came and went.
    with ExchangeServer(DAY, {"deribit": ["BTC-PERPETUAL"]}, speed=1.0) as exchange:
        asyncio.run(scenario(exchange))
    assert not [event for event in log if isinstance(event, Disconnected)]

"""Live exchange feeds: the universe's instruments, subscribed on each venue's own
WebSocket feed, as `live.events` (ticks in the raw tick tables' columns, and outages).

```python
from live.feeds import events, feeds_from_universe

async for event in events(feeds_from_universe(universe), endpoints={"binance": url}):
    ...  # Tick | Disconnected | Reconnected
```

Venues: `binance` (spot), `binance-futures` (USDⓈ-M) and `deribit`, spoken over their
documented WebSocket protocols with aiohttp (see `binance`, `deribit`). `endpoints`
replaces a venue's WebSocket URL (default: the exchange's production URL), e.g. with
`exchange_local`'s. Each venue runs on its own connection and reconnects on its own.

Why not cryptofeed (3.0): its Binance feed needs REST (`exchangeInfo` for symbols, a
`depth` snapshot to seed its book) besides the WebSocket, subscribes `aggTrade` on spot
where Tardis records `trade`, keeps no sizes in its `bookTicker` ticker and no index
price in its funding object, turns exchange times into float seconds assuming ms, and
reports no outage to its consumer; rows equal to Tardis' value for value, with outages
as events, are simpler to build on the documented protocols directly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp

from live.events import LiveEvent
from live.feeds.binance import DEFAULT_ENDPOINTS as BINANCE_ENDPOINTS
from live.feeds.binance import BinanceProtocol
from live.feeds.config import (
    LIVE_DATA_TYPES,
    SUPPORTED_VENUES,
    VenueFeed,
    VenuesConfig,
    feeds_from_universe,
    venue_feeds,
)
from live.feeds.connection import Backoff, VenueProtocol, keep_connected
from live.feeds.deribit import DEFAULT_ENDPOINT as DERIBIT_ENDPOINT
from live.feeds.deribit import DeribitProtocol

__all__ = [
    "DEFAULT_ENDPOINTS",
    "LIVE_DATA_TYPES",
    "SUPPORTED_VENUES",
    "Backoff",
    "VenueFeed",
    "events",
    "feeds_from_universe",
]

DEFAULT_ENDPOINTS: dict[str, str] = {**BINANCE_ENDPOINTS, "deribit": DERIBIT_ENDPOINT}
# Events waiting for the consumer; when it is full the feeds stop reading their sockets,
# so a slow consumer slows the feeds (TCP back-pressure) instead of growing memory.
QUEUE_SIZE = 100_000


def _protocol(feed: VenueFeed, credentials: tuple[str, str] | None) -> VenueProtocol:
    if feed.venue == "deribit":
        return DeribitProtocol(feed, credentials)
    return BinanceProtocol(feed)


async def events(
    venues_config: VenuesConfig,
    *,
    endpoints: dict[str, str] | None = None,
    deribit_credentials: tuple[str, str] | None = None,
    backoff: Backoff | None = None,
    heartbeat: float = 10.0,
) -> AsyncIterator[LiveEvent]:
    """Every venue's events, as they arrive, until the consumer stops iterating.

    `venues_config`: `VenueFeed`s (see `feeds_from_universe`) or {venue: [Tardis symbol]}
    (every live data type). `endpoints`: {venue: WebSocket URL} overrides.
    `deribit_credentials`: (client id, secret) for Deribit's raw channels (the service
    passes DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET), else the public 100 ms channels.
    `backoff` paces reconnection; `heartbeat`: seconds of silence before a ping that
    must be answered, which is how a silently dead connection is noticed.
    """
    urls = {**DEFAULT_ENDPOINTS, **(endpoints or {})}
    credentials = deribit_credentials
    feeds = venue_feeds(venues_config)
    repeated = sorted({f.venue for f in feeds if [g.venue for g in feeds].count(f.venue) > 1})
    if repeated:
        raise ValueError(f"one VenueFeed per venue (one connection each); repeated: {repeated}")
    protocols = [_protocol(feed, credentials) for feed in feeds]
    empty = [protocol.venue for protocol in protocols if not protocol.subscriptions]
    if empty:
        raise ValueError(
            f"live feeds for {', '.join(empty)} subscribe nothing: none of their data types "
            "has a live stream for their symbols (e.g. a derivative ticker for spot pairs)"
        )
    queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_SIZE)
    async with aiohttp.ClientSession() as session:
        tasks = [
            asyncio.create_task(
                keep_connected(
                    protocol,
                    urls[protocol.venue],
                    session,
                    queue.put,
                    backoff=backoff or Backoff(),
                    heartbeat=heartbeat,
                ),
                name=f"live-feed-{protocol.venue}",
            )
            for protocol in protocols
        ]
        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def _surface(task: asyncio.Task[None]) -> None:
            # A feed task only ends by failing (or being cancelled): stop the iteration.
            if not task.cancelled() and task.exception() and not failed.done():
                failed.set_exception(task.exception())  # type: ignore[arg-type]

        for task in tasks:
            task.add_done_callback(_surface)
        getter: asyncio.Future[LiveEvent] | None = None
        try:
            while True:
                if not queue.empty():
                    yield queue.get_nowait()
                    continue
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait([getter, failed], return_when=asyncio.FIRST_COMPLETED)
                if failed.done():
                    getter.cancel()
                    failed.result()
                yield getter.result()
        finally:
            if getter is not None:
                getter.cancel()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

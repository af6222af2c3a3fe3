"""One venue's connection, kept up: connect, subscribe, read, and after a loss reconnect
with exponential backoff and subscribe again, reporting the outage around it.

The loss is noticed as the socket closing or failing, or as a missed WebSocket ping
(`heartbeat` seconds without a pong), so a server that vanishes without closing is
noticed too. A consumer that stops taking events for longer than that stops the socket
being read (back-pressure), and the pong waits behind it: that also counts as a loss,
as an exchange would drop a client that does not read. A venue that cannot be reached
at start counts as down from the first failed attempt: its `Disconnected` comes before
any tick.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from live.events import Disconnected, LiveEvent, Reconnected
from live.feeds.wire import FeedError, FrameResult

log = logging.getLogger(__name__)


class VenueProtocol(Protocol):
    """A venue's side of the conversation (`binance.BinanceProtocol`, `deribit.DeribitProtocol`)."""

    venue: str

    @property
    def subscriptions(self) -> dict[str, tuple[str, str]]:
        """{stream or channel: (Tardis data type, Tardis symbol)} subscribed."""
        ...

    def url(self, endpoint: str) -> str: ...
    def opening(self) -> list[str]: ...
    def on_frame(self, text: str, local_us: int) -> FrameResult: ...


@dataclass(frozen=True)
class Backoff:
    """Waits between reconnection attempts: `initial` seconds doubling up to `maximum`,
    each with up to `jitter` of itself added at random (so many clients do not return in
    step); back to `initial` once a connection is subscribed."""

    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.1

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * 2 ** max(0, attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))


def now_us() -> int:
    """The wall clock in µs since the epoch (UTC)."""
    return time.time_ns() // 1000


async def keep_connected(
    protocol: VenueProtocol,
    endpoint: str,
    session: aiohttp.ClientSession,
    emit: Callable[[LiveEvent], Awaitable[None]],
    *,
    backoff: Backoff,
    heartbeat: float,
) -> None:
    """Run `protocol` against `endpoint` until cancelled, passing every event to `emit`."""
    venue = protocol.venue
    down_since: int | None = None
    failures = 0  # losses and failed attempts since the last subscribed connection
    url = protocol.url(endpoint)
    while True:
        try:
            async with session.ws_connect(
                url, heartbeat=heartbeat, max_msg_size=1 << 24, autoping=True
            ) as ws:
                for request in protocol.opening():
                    await ws.send_str(request)
                up = False
                async for frame in ws:
                    if frame.type is not aiohttp.WSMsgType.TEXT:
                        if frame.type is aiohttp.WSMsgType.ERROR:
                            raise ConnectionError(f"{venue}: {ws.exception()}")
                        continue
                    local_us = now_us()
                    try:
                        result = protocol.on_frame(frame.data, local_us)
                    except (ValueError, KeyError, TypeError, IndexError) as error:
                        # A frame this client cannot read: a protocol change, never to be
                        # skipped silently; the connection is restarted and it is logged.
                        raise FeedError(
                            f"{venue}: unreadable frame {frame.data[:300]!r}: "
                            f"{type(error).__name__}: {error}"
                        ) from error
                    for reply in result.replies:
                        await ws.send_str(reply)
                    if not up and (result.subscribed or result.ticks):
                        up, failures = True, 0
                        if down_since is not None:
                            await emit(Reconnected(venue, local_us, down_since))
                            down_since = None
                    for tick in result.ticks:
                        await emit(tick)
                reason = f"closed by the server (code {ws.close_code})"
        except FeedError as error:
            reason = str(error)
            log.error("%s at %s: %s; retrying with backoff", venue, endpoint, error)
        except (TimeoutError, aiohttp.ClientError, OSError, ConnectionError) as error:
            reason = f"{type(error).__name__}: {error}"
        if down_since is None:
            down_since = now_us()
            await emit(Disconnected(venue, down_since))
        failures += 1
        wait = backoff.delay(failures)
        log.warning("%s feed at %s lost (%s); reconnecting in %.2f s", venue, url, reason, wait)
        await asyncio.sleep(wait)

"""The live service's outputs across processes: newline-delimited JSON over a socket the
service owns (``tcp://host:port`` or ``unix:/path``).

A consumer connects and sends one request line, ``{"stream": "candles" | "features" |
"ticks", "instrument_key": ..., "timeframe": ... | null, "partial": bool, "capacity":
int}``; the service answers ``{"type": "subscribed"}`` and then one line per item (the
``to_message`` of a bar or feature row, or a tick). A consumer that reads too slowly fills
its queue in the service: it then receives ``{"type": "lagged", "missed": n}`` and the
connection closes; ``{"type": "end"}`` says the service stopped.
"""

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from urllib.parse import urlparse

from live.bars import LiveBar, LiveFeatureRow
from live.events import Tick
from live.hub import DEFAULT_CAPACITY, ConsumerLagged, Hub

log = logging.getLogger("live.wire")
LINE_LIMIT = 16 * 1024 * 1024


def encode(item: object) -> bytes:
    if isinstance(item, LiveBar | LiveFeatureRow):
        message = item.to_message()
    elif isinstance(item, Tick):
        message = {
            "type": "tick",
            "data_type": item.data_type,
            "venue": item.venue,
            "row": item.row,
        }
    else:
        message = item  # type: ignore[assignment]
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(message: dict[str, object]) -> object:
    kind = message["type"]
    if kind == "bar":
        return LiveBar.of_message(message)
    if kind == "features":
        return LiveFeatureRow.of_message(message)
    if kind == "tick":
        return Tick(str(message["data_type"]), str(message["venue"]), dict(message["row"]))  # type: ignore[call-overload]
    raise ValueError(f"unexpected live message {kind!r}")


def _endpoint(address: str) -> tuple[str, str | int, int | None]:
    parsed = urlparse(address)
    if parsed.scheme == "unix":
        return "unix", parsed.path or parsed.netloc, None
    if parsed.scheme == "tcp" and parsed.hostname and parsed.port:
        return "tcp", parsed.hostname, parsed.port
    raise ValueError(
        f"live address {address!r}: use tcp://host:port or unix:/path/to/socket "
        "(MARKET_DATA_LIVE_ADDRESS)"
    )


class LiveServer:
    """Serves the hub's topics on ``address`` until closed."""

    def __init__(self, hub: Hub, address: str) -> None:
        self.hub = hub
        self.address = address
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> "LiveServer":
        kind, host, port = _endpoint(self.address)
        if kind == "unix":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(host))
            self.server = await asyncio.start_unix_server(self._serve, str(host), limit=LINE_LIMIT)
        else:
            self.server = await asyncio.start_server(self._serve, str(host), port, limit=LINE_LIMIT)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        subscription = None
        try:
            request = json.loads(await reader.readline())
            topic = (request["stream"], request["instrument_key"], request.get("timeframe"))
            subscription = self.hub.subscribe(
                topic,
                int(request.get("capacity") or DEFAULT_CAPACITY),
                partial=bool(request.get("partial")),
            )
            writer.write(encode({"type": "subscribed"}))
            try:
                async for item in subscription:
                    writer.write(encode(item))
                    await writer.drain()
                writer.write(encode({"type": "end"}))
            except ConsumerLagged as lagged:
                writer.write(encode({"type": "lagged", "missed": lagged.missed}))
            await writer.drain()
        except (ConnectionError, json.JSONDecodeError, KeyError, ValueError) as error:
            log.info(f"live consumer left: {error!r}")
            with contextlib.suppress(Exception):
                writer.write(encode({"type": "error", "message": str(error)}))
        finally:
            if subscription is not None:
                subscription.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def remote(address: str, request: dict[str, object]) -> AsyncIterator[object]:
    """The items of one subscription served at ``address``; raises ``ConsumerLagged``
    when the service says this consumer fell behind."""
    kind, host, port = _endpoint(address)
    if kind == "unix":
        reader, writer = await asyncio.open_unix_connection(str(host), limit=LINE_LIMIT)
    else:
        reader, writer = await asyncio.open_connection(str(host), port, limit=LINE_LIMIT)
    topic = (str(request["stream"]), str(request["instrument_key"]), request.get("timeframe"))
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        while line := await reader.readline():
            message = json.loads(line)
            kind = message["type"]
            if kind == "subscribed":
                continue
            if kind == "end":
                return
            if kind == "lagged":
                raise ConsumerLagged(topic, int(message["missed"]))  # type: ignore[arg-type]
            if kind == "error":
                raise ValueError(f"the live service at {address} refused: {message['message']}")
            yield decode(message)
        raise ConnectionError(f"the live service at {address} closed the connection")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

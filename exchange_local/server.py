"""The local exchange server: Binance spot, Binance USDⓈ-M futures and Deribit WebSocket
feeds replaying a generated day, on one port, in a background thread.

Paths (each venue's real path under a `/<venue>` prefix):

- `ws://127.0.0.1:<port>/binance/stream`, `/binance/ws[/<stream>]`: Binance spot
  (combined streams wrap payloads as ``{"stream", "data"}``; `?streams=a/b` subscribes on
  connect, ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` later);
- `/binance-futures/stream`, `/binance-futures/ws[/<stream>]`: Binance USDⓈ-M futures;
- `/deribit/ws/api/v2`: Deribit JSON-RPC (`public/auth` with client credentials, which
  `.raw` channels need as on Deribit, `public/subscribe`, `public/unsubscribe`,
  `public/test`, `public/set_heartbeat`, `public/get_time`, `public/hello`);
- `GET /admin/status` (positions, connections), `POST /admin/drop[?venue=v]` (cut the
  connections without a close handshake, as a network failure would), `POST
  /admin/freeze[?venue=v]` (silence them without closing: no frames, no pongs).

`stop()` closes the port and every connection and keeps each venue's position;
`start()` listens again on the same port, so a client sees the server die and come back.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from datetime import date
from typing import Any

from aiohttp import WSMsgType, web

from exchange_local import binance, deribit
from exchange_local.replay import Subscriber, VenueReplay
from exchange_local.tape import LIVE_DATA_TYPES, venue_tape
from exchange_local.wire import Message, wants_micros

log = logging.getLogger(__name__)

VENUES: tuple[str, ...] = (binance.SPOT, binance.FUTURES, deribit.VENUE)
_BINANCE_ERROR_UNKNOWN = {"code": 2, "msg": "Invalid request: unknown method"}
_BINANCE_PING_SECONDS = 20.0


def venue_messages(venue: str, tape: Sequence[Any]) -> list[Message]:
    """The frames `venue` pushes for its tape rows, in order."""
    if venue == deribit.VENUE:
        return list(deribit.messages(tape))
    if venue in (binance.SPOT, binance.FUTURES):
        return list(binance.messages(venue, tape))
    raise ValueError(f"exchange_local speaks {', '.join(VENUES)}; not {venue!r}")


class ExchangeServer:
    """Replays `day` for `symbols` ({venue: [Tardis symbol, ...]}) on 127.0.0.1:`port`
    (0: a free one). `speed`: None as fast as possible, 1.0 real time, k k-fold.
    `rows_per_day` overrides generation volume per data type, as TardisServer's does.
    `start_at_us` (µs since the epoch) skips the frames received before it, so a server
    restarted as a new process can pick the day up where the last one stopped.
    Use as a context manager, or `start()` / `stop()` / `close()`.
    """

    def __init__(
        self,
        day: date,
        symbols: Mapping[str, Sequence[str]],
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        speed: float | None = None,
        hold_when_idle: bool = True,
        data_types: Sequence[str] = LIVE_DATA_TYPES,
        rows_per_day: dict[str, int] | None = None,
        start_at_us: int | None = None,
    ) -> None:
        unknown = set(symbols) - set(VENUES)
        if unknown:
            raise ValueError(f"exchange_local speaks {', '.join(VENUES)}; not {sorted(unknown)}")
        self.day = day
        self.host = host
        self.speed = speed
        self.hold_when_idle = hold_when_idle
        self._port = port
        self._start_at_us = start_at_us
        self._messages = {
            venue: venue_messages(
                venue,
                venue_tape(
                    venue, list(names), day, data_types=data_types, rows_per_day=rows_per_day
                ),
            )
            for venue, names in symbols.items()
        }
        self._channels = {
            venue: {message.channel for message in messages}
            for venue, messages in self._messages.items()
        }
        self._warned: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="exchange-local")
        self._thread.daemon = True
        self._thread.start()
        self._replays: dict[str, VenueReplay] = self._call(self._make_replays())
        # Each open connection with its transport (a drop aborts it, no close handshake)
        # and its subscriber (a freeze silences it).
        self._connections: dict[
            str, dict[web.WebSocketResponse, tuple[asyncio.BaseTransport, Subscriber]]
        ] = {venue: {} for venue in VENUES}
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # -- lifecycle --------------------------------------------------------------------
    def _call(self, coroutine: Any, timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    async def _make_replays(self) -> dict[str, VenueReplay]:
        replays = {
            venue: VenueReplay(
                venue,
                messages,
                self.speed,
                self.hold_when_idle,
                position=bisect.bisect_left(
                    messages, self._start_at_us or 0, key=lambda message: message.local_us
                ),
            )
            for venue, messages in self._messages.items()
        }
        for replay in replays.values():
            self._loop.create_task(replay.run(), name=f"replay-{replay.venue}")
        return replays

    @property
    def port(self) -> int:
        """The bound TCP port (fixed after the first start, reused by later starts)."""
        return self._port

    def endpoint(self, venue: str) -> str:
        """The WebSocket URL a client of `venue` connects to."""
        path = "deribit/ws/api/v2" if venue == deribit.VENUE else f"{venue}/stream"
        return f"ws://{self.host}:{self._port}/{path}"

    @property
    def endpoints(self) -> dict[str, str]:
        """{venue: WebSocket URL} of every venue served."""
        return {venue: self.endpoint(venue) for venue in self._messages}

    def start(self) -> ExchangeServer:
        """Listen (again) on the port; returns self."""
        if self._site is None:
            self._call(self._start())
        return self

    async def _start(self) -> None:
        if self._runner is None:
            app = web.Application()
            app.router.add_get("/admin/status", self._status)
            app.router.add_post("/admin/drop", self._drop)
            app.router.add_post("/admin/freeze", self._freeze_request)
            app.router.add_get("/deribit/ws/api/v2", self._deribit)
            for venue in (binance.SPOT, binance.FUTURES):
                for path in (f"/{venue}/stream", f"/{venue}/ws", f"/{venue}/ws/{{streams}}"):
                    app.router.add_get(path, self._binance_handler(venue))
            self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self._port, reuse_address=True)
        await self._site.start()
        if not self._port:
            server = self._site._server  # the bound socket tells the free port chosen
            self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop listening and cut every connection; positions are kept for `start()`."""
        if self._site is not None:
            self._call(self._stop())

    async def _stop(self) -> None:
        site, self._site = self._site, None
        await self._abort(None)
        if site is not None:
            await site.stop()

    def close(self) -> None:
        """Stop and end the server's thread."""
        self.stop()
        if self._runner is not None:
            self._call(self._runner.cleanup())
            self._runner = None
        self._call(self._cancel_replays())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _cancel_replays(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> ExchangeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faults and state -------------------------------------------------------------
    def drop_connections(self, venue: str | None = None) -> int:
        """Cut `venue`'s connections (all venues' when None) mid-stream; how many were cut."""
        return self._call(self._abort(venue))

    async def _abort(self, venue: str | None) -> int:
        cut = 0
        for name, connections in self._connections.items():
            if venue is not None and name != venue:
                continue
            for ws, (transport, _) in list(connections.items()):
                if isinstance(transport, asyncio.Transport):
                    transport.abort()
                connections.pop(ws, None)
                cut += 1
        return cut

    def freeze_connections(self, venue: str | None = None) -> int:
        """Make `venue`'s connections (all venues' when None) go silent without closing:
        nothing more is pushed and nothing read, so pings go unanswered, as when a
        network path dies; how many were frozen. New connections are served normally."""
        return self._call(self._freeze(venue))

    async def _freeze(self, venue: str | None) -> int:
        frozen = 0
        for name, connections in self._connections.items():
            if venue is not None and name != venue:
                continue
            for transport, subscriber in list(connections.values()):
                subscriber.closed = True
                if isinstance(transport, asyncio.ReadTransport):
                    transport.pause_reading()
                frozen += 1
        return frozen

    def position(self, venue: str) -> int:
        """How many of `venue`'s messages have been pushed so far."""
        return self._replays[venue].position

    def total(self, venue: str) -> int:
        """How many messages `venue`'s day holds."""
        return len(self._messages[venue])

    def finished(self, venue: str) -> bool:
        """Whether `venue`'s tape has been pushed to its end."""
        return self._replays[venue].finished

    def status(self) -> dict[str, Any]:
        """Per venue: position, total, finished and open connections."""
        return {
            venue: {
                "position": replay.position,
                "total": len(replay.messages),
                "finished": replay.finished,
                "connections": len(self._connections[venue]),
            }
            for venue, replay in self._replays.items()
        }

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"day": self.day.isoformat(), "venues": self.status()})

    def _venue_query(self, request: web.Request) -> str | None:
        venue = request.query.get("venue")
        if venue is not None and venue not in self._replays:
            raise web.HTTPNotFound(text=f"no venue {venue!r}; served: {', '.join(self._replays)}")
        return venue

    async def _drop(self, request: web.Request) -> web.Response:
        return web.json_response({"dropped": await self._abort(self._venue_query(request))})

    async def _freeze_request(self, request: web.Request) -> web.Response:
        return web.json_response({"frozen": await self._freeze(self._venue_query(request))})

    # -- protocols --------------------------------------------------------------------
    def _warn_unknown(self, venue: str, channels: set[str]) -> None:
        # Accepted, as the venue would, but nothing on this tape: say so once per channel.
        unknown = channels - self._channels[venue] - self._warned
        if unknown:
            self._warned.update(unknown)
            log.warning(
                "%s: nothing on the %s tape for %s (served: %s)",
                venue,
                self.day,
                ", ".join(sorted(unknown)),
                ", ".join(sorted(self._channels[venue])),
            )

    def _replay(self, venue: str) -> VenueReplay:
        replay = self._replays.get(venue)
        if replay is None:
            raise web.HTTPNotFound(
                text=f"exchange_local serves {', '.join(self._replays)}; not {venue}"
            )
        return replay

    async def _accept(self, request: web.Request, venue: str) -> web.WebSocketResponse:
        # Binance pings every 20 s and drops a client whose pong does not come back;
        # Deribit relies on its JSON heartbeat instead.
        heartbeat = None if venue == deribit.VENUE else _BINANCE_PING_SECONDS
        ws = web.WebSocketResponse(max_msg_size=1 << 20, heartbeat=heartbeat)
        await ws.prepare(request)
        return ws

    def _register(
        self, request: web.Request, venue: str, ws: web.WebSocketResponse, subscriber: Subscriber
    ) -> None:
        if request.transport is not None:
            self._connections[venue][ws] = (request.transport, subscriber)
        self._replay(venue).add(subscriber)

    def _binance_handler(self, venue: str) -> Any:
        async def handle(request: web.Request) -> web.WebSocketResponse:
            return await self._binance(request, venue)

        return handle

    async def _binance(self, request: web.Request, venue: str) -> web.WebSocketResponse:
        replay = self._replay(venue)
        micros = wants_micros(request.query_string)
        combined = request.path.endswith("/stream")
        initial = (
            request.query.get("streams", "") if combined else request.match_info.get("streams", "")
        )
        ws = await self._accept(request, venue)

        async def push(message: Message, sequence: int) -> None:
            data = binance.payload(venue, message, sequence, micros)
            frame = {"stream": message.channel, "data": data} if combined else data
            await ws.send_str(json.dumps(frame, separators=(",", ":")))

        subscriber = Subscriber({s for s in initial.split("/") if s}, push)
        self._register(request, venue, ws, subscriber)
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                reply = self._binance_request(frame.data, subscriber)
                await ws.send_str(json.dumps(reply))
                self._warn_unknown(venue, subscriber.channels)
                replay.changed()
        finally:
            replay.remove(subscriber)
            self._connections[venue].pop(ws, None)
        return ws

    @staticmethod
    def _binance_request(text: str, subscriber: Subscriber) -> dict[str, Any]:
        try:
            request = json.loads(text)
            method, params, ident = request["method"], request.get("params", []), request["id"]
        except (ValueError, KeyError, TypeError):
            return {"code": 3, "msg": "Invalid JSON: expected {method, params, id}"}
        if method == "SUBSCRIBE":
            subscriber.channels.update(params)
            return {"result": None, "id": ident}
        if method == "UNSUBSCRIBE":
            subscriber.channels.difference_update(params)
            return {"result": None, "id": ident}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(subscriber.channels), "id": ident}
        return {**_BINANCE_ERROR_UNKNOWN, "id": ident}

    async def _deribit(self, request: web.Request) -> web.WebSocketResponse:
        replay = self._replay(deribit.VENUE)
        micros = wants_micros(request.query_string)
        ws = await self._accept(request, deribit.VENUE)

        subscribed: dict[str, str] = {}  # canonical channel -> the name subscribed to

        async def push(message: Message, sequence: int) -> None:
            channel = subscribed.get(message.channel, message.channel)
            frame = deribit.notification(message, channel, sequence, micros)
            await ws.send_str(json.dumps(frame, separators=(",", ":")))

        subscriber = Subscriber(set(), push)
        self._register(request, deribit.VENUE, ws, subscriber)
        heartbeat = _DeribitHeartbeat(ws, subscriber)
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                reply = self._deribit_request(frame.data, subscriber, subscribed)
                await ws.send_str(json.dumps(reply))
                heartbeat.on_request(frame.data, reply)
                self._warn_unknown(deribit.VENUE, subscriber.channels)
                replay.changed()
        finally:
            heartbeat.stop()
            replay.remove(subscriber)
            self._connections[deribit.VENUE].pop(ws, None)
        return ws

    @staticmethod
    def _deribit_request(
        text: str, subscriber: Subscriber, subscribed: dict[str, str]
    ) -> dict[str, Any]:
        try:
            request = json.loads(text)
            method, ident = request["method"], request.get("id")
            params = request.get("params") or {}
        except (ValueError, KeyError, TypeError):
            return {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}}
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": ident}
        if method == "public/auth":
            if params.get("grant_type") != "client_credentials" or not (
                params.get("client_id") and params.get("client_secret")
            ):
                return {**reply, "error": {"code": 13004, "message": "invalid_credentials"}}
            subscriber.authorized = True
            token = {"access_token": "local", "expires_in": 900, "token_type": "bearer"}
            return {**reply, "result": {**token, "refresh_token": "local", "scope": "connection"}}
        if method in ("public/subscribe", "public/unsubscribe"):
            channels = [str(channel) for channel in params.get("channels", [])]
            if method == "public/subscribe":
                raw = [channel for channel in channels if channel.endswith(".raw")]
                if raw and not subscriber.authorized:
                    return {**reply, "error": deribit.RAW_UNAUTHORIZED}
                subscribed.update({deribit.canonical(name): name for name in channels})
                subscriber.channels.update(deribit.canonical(name) for name in channels)
            else:
                for name in channels:
                    subscribed.pop(deribit.canonical(name), None)
                    subscriber.channels.discard(deribit.canonical(name))
            return {**reply, "result": channels}
        if method == "public/test":
            return {**reply, "result": {"version": deribit.API_VERSION}}
        if method == "public/set_heartbeat":
            if not isinstance(params.get("interval"), int | float):
                return {**reply, "error": {"code": -32602, "message": "Invalid params: interval"}}
            return {**reply, "result": "ok"}
        if method == "public/get_time":
            return {**reply, "result": int(time.time() * 1000)}
        if method == "public/hello":
            return {**reply, "result": {"version": deribit.API_VERSION}}
        return {**reply, "error": {"code": -32601, "message": f"Method not found: {method}"}}


class _DeribitHeartbeat:
    """Deribit's heartbeat after `public/set_heartbeat`: every `interval` seconds a
    `test_request`, and the connection closed when the previous one went unanswered by
    `public/test`. (Deribit refuses intervals under 10 s; exchange_local takes any.)"""

    def __init__(self, ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
        self.ws = ws
        self.subscriber = subscriber  # a frozen (closed) subscriber gets no heartbeats
        self.task: asyncio.Task[None] | None = None
        self.pending = False

    def on_request(self, text: str, reply: dict[str, Any]) -> None:
        if "error" in reply:
            return
        request = json.loads(text)
        if request.get("method") == "public/test":
            self.pending = False
        elif request.get("method") == "public/set_heartbeat":
            self.stop()
            interval = float((request.get("params") or {}).get("interval", 0))
            if interval > 0:
                self.task = asyncio.create_task(self._beat(interval))

    async def _beat(self, interval: float) -> None:
        request = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
        while not self.ws.closed:
            await asyncio.sleep(interval)
            if self.subscriber.closed:
                return
            if self.pending:
                await self.ws.close(code=1000, message=b"heartbeat test_request unanswered")
                return
            self.pending = True
            await self.ws.send_str(json.dumps(request))

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

"""Deribit's JSON-RPC 2.0 WebSocket API, as the client side: authenticate when credentials
are given, subscribe, turn notifications into rows, answer heartbeats.

Channels per Tardis data type: trades `trades.<instrument>.<interval>`, quotes
`quote.<instrument>`, book_snapshot_5 `book.<instrument>.none.10.100ms` (the best five of
ten grouped levels), derivative_ticker `ticker.<instrument>.<interval>` (mark, index,
last price, open interest, and `funding_8h` as the funding rate on perpetuals). The
interval is `raw` on an authenticated connection (Deribit serves raw channels only
there) and `100ms` without credentials, where Deribit thins the ticker to one per 100 ms.
The URL asks for µs times (`timeUnit=MICROSECOND`, which exchange_local honours; Deribit
itself sends ms, read as well).
"""

from __future__ import annotations

import json
from typing import Any

from live.events import Tick
from live.feeds.config import VenueFeed
from live.feeds.wire import FeedError, FrameResult, book_values, optional_float, tick, to_us

DEFAULT_ENDPOINT = "wss://www.deribit.com/ws/api/v2"
_AUTH, _SUBSCRIBE, _HEARTBEAT, _TEST = 1, 2, 3, 4
HEARTBEAT_SECONDS = 30


def _channels(instrument: str, interval: str) -> dict[str, str]:
    return {
        "trades": f"trades.{instrument}.{interval}",
        "quotes": f"quote.{instrument}",
        "book_snapshot_5": f"book.{instrument}.none.10.100ms",
        "derivative_ticker": f"ticker.{instrument}.{interval}",
    }


class DeribitProtocol:
    """Requests and notification parsing for one Deribit connection's subscriptions."""

    venue = "deribit"

    def __init__(
        self,
        feed: VenueFeed,
        credentials: tuple[str, str] | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.credentials = credentials
        self.heartbeat_seconds = heartbeat_seconds
        interval = "raw" if credentials else "100ms"
        self.channels: dict[str, tuple[str, str]] = {}
        for symbol in feed.symbols:
            for data_type, channel in _channels(symbol, interval).items():
                if feed.wants(data_type, symbol):
                    self.channels[channel] = (data_type, symbol)

    @property
    def subscriptions(self) -> dict[str, tuple[str, str]]:
        """{channel: (Tardis data type, Tardis symbol)} subscribed."""
        return self.channels

    def url(self, endpoint: str) -> str:
        """The API URL, asking for µs time fields."""
        return f"{endpoint}{'&' if '?' in endpoint else '?'}timeUnit=MICROSECOND"

    def _request(self, ident: int, method: str, params: dict[str, Any]) -> str:
        return json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})

    def _subscribe(self) -> str:
        return self._request(_SUBSCRIBE, "public/subscribe", {"channels": sorted(self.channels)})

    def opening(self) -> list[str]:
        """The first requests of a fresh connection (auth first; subscribe once authorized)."""
        heartbeat = self._request(
            _HEARTBEAT, "public/set_heartbeat", {"interval": self.heartbeat_seconds}
        )
        if self.credentials:
            client_id, secret = self.credentials
            auth = {"grant_type": "client_credentials", "client_id": client_id,
                    "client_secret": secret}  # fmt: skip
            return [self._request(_AUTH, "public/auth", auth), heartbeat]
        return [self._subscribe(), heartbeat]

    def on_frame(self, text: str, local_us: int) -> FrameResult:
        """Ticks of a notification; replies confirm, chain or raise FeedError."""
        message = json.loads(text)
        result = FrameResult()
        method = message.get("method")
        if method == "subscription":
            params = message["params"]
            found = self.channels.get(params["channel"])
            if found is not None:
                result.ticks.extend(self._ticks(*found, params["data"], local_us))
            return result
        if method == "heartbeat":
            if message.get("params", {}).get("type") == "test_request":
                result.replies.append(self._request(_TEST, "public/test", {}))
            return result
        if "error" in message:
            raise FeedError(f"deribit refused request {message.get('id')}: {message['error']}")
        if message.get("id") == _AUTH:
            result.replies.append(self._subscribe())
        elif message.get("id") == _SUBSCRIBE:
            missing = set(self.channels) - set(message.get("result") or [])
            if missing:
                raise FeedError(f"deribit did not subscribe {sorted(missing)}")
            result.subscribed = True
        return result

    def _ticks(self, data_type: str, symbol: str, data: Any, local_us: int) -> list[Tick]:
        if data_type == "trades":
            return [self._trade(symbol, trade, local_us) for trade in data]
        if data_type == "quotes":
            values = {
                "ask_amount": optional_float(data.get("best_ask_amount")),
                "ask_price": optional_float(data.get("best_ask_price")) or None,
                "bid_price": optional_float(data.get("best_bid_price")) or None,
                "bid_amount": optional_float(data.get("best_bid_amount")),
            }
        elif data_type == "book_snapshot_5":
            values = book_values(data.get("bids", []), data.get("asks", []))
        else:
            values = {
                "funding_rate": optional_float(data.get("funding_8h")),
                "open_interest": optional_float(data.get("open_interest")),
                "last_price": optional_float(data.get("last_price")),
                "index_price": optional_float(data.get("index_price")),
                "mark_price": optional_float(data.get("mark_price")),
            }
        return [tick(data_type, self.venue, symbol, to_us(data["timestamp"]), local_us, values)]

    def _trade(self, symbol: str, trade: dict[str, Any], local_us: int) -> Tick:
        values = {
            "id": str(trade["trade_id"]),
            "side": trade["direction"],
            "price": float(trade["price"]),
            "amount": float(trade["amount"]),
        }
        return tick("trades", self.venue, symbol, to_us(trade["timestamp"]), local_us, values)

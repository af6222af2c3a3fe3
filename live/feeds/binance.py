"""Binance spot (`binance`) and USDⓈ-M futures (`binance-futures`) market streams, as the
client side: one combined-stream connection per venue, one SUBSCRIBE, payloads to rows.

Streams per Tardis data type: trades `<s>@trade` (spot) / `<s>@aggTrade` (futures; the
aggregate id is the trade id, as in Tardis), quotes `<s>@bookTicker`, book_snapshot_5
`<s>@depth5@100ms`, derivative_ticker `<s>@markPrice@1s` (mark, index, funding rate and
next funding time; Binance has no open interest or last price on this stream). The URL
asks for µs times (`timeUnit=MICROSECOND`); times in ms are read as well. The exchange
time is the trade/transaction time `T`, else the event time `E`; Binance spot's
`bookTicker` and partial depth carry neither, and there the receive time stands in.
"""

from __future__ import annotations

import json
from typing import Any

from live.feeds.config import VenueFeed
from live.feeds.wire import (
    FeedError,
    FrameResult,
    book_values,
    optional_float,
    tick,
    to_us,
)

DEFAULT_ENDPOINTS = {
    "binance": "wss://stream.binance.com:9443/stream",
    "binance-futures": "wss://fstream.binance.com/stream",
}
_SUFFIX = {
    ("binance", "trades"): "trade",
    ("binance-futures", "trades"): "aggTrade",
    ("binance", "quotes"): "bookTicker",
    ("binance-futures", "quotes"): "bookTicker",
    ("binance", "book_snapshot_5"): "depth5@100ms",
    ("binance-futures", "book_snapshot_5"): "depth5@100ms",
    ("binance-futures", "derivative_ticker"): "markPrice@1s",
}
# Binance takes at most this many streams in one SUBSCRIBE request (and 1024 a connection).
_STREAMS_PER_REQUEST = 200


class BinanceProtocol:
    """Requests and frame parsing for one Binance venue's subscriptions."""

    def __init__(self, feed: VenueFeed) -> None:
        self.venue = feed.venue
        self.streams: dict[str, tuple[str, str]] = {}
        for symbol in feed.symbols:
            for data_type in feed.data_types:
                suffix = _SUFFIX.get((self.venue, data_type))
                if suffix is not None and feed.wants(data_type, symbol):
                    self.streams[f"{symbol.lower()}@{suffix}"] = (data_type, symbol)
        self._pending: set[int] = set()

    @property
    def subscriptions(self) -> dict[str, tuple[str, str]]:
        """{stream: (Tardis data type, Tardis symbol)} subscribed."""
        return self.streams

    def url(self, endpoint: str) -> str:
        """The combined-stream URL, asking for µs time fields."""
        return f"{endpoint}{'&' if '?' in endpoint else '?'}timeUnit=MICROSECOND"

    def opening(self) -> list[str]:
        """The SUBSCRIBE requests of a fresh connection."""
        names = sorted(self.streams)
        requests = []
        self._pending = set()
        for number, start in enumerate(range(0, len(names), _STREAMS_PER_REQUEST), 1):
            self._pending.add(number)
            chunk = names[start : start + _STREAMS_PER_REQUEST]
            requests.append(json.dumps({"method": "SUBSCRIBE", "params": chunk, "id": number}))
        return requests

    def on_frame(self, text: str, local_us: int) -> FrameResult:
        """Ticks of a data frame; a SUBSCRIBE reply confirms; an error frame raises FeedError."""
        message = json.loads(text)
        result = FrameResult()
        if "stream" in message:
            found = self.streams.get(message["stream"])
            if found is not None:
                data_type, symbol = found
                result.ticks.append(self._tick(data_type, symbol, message["data"], local_us))
            return result
        if "code" in message and message.get("code"):
            raise FeedError(f"{self.venue} refused a request: {message}")
        if "result" in message and message.get("id") in self._pending:
            self._pending.discard(message["id"])
            result.subscribed = not self._pending
        return result

    def _tick(self, data_type: str, symbol: str, data: dict[str, Any], local_us: int):
        at = data.get("T") or data.get("E")
        timestamp = to_us(at) if at else local_us
        if data_type == "trades":
            trade_id = data["t"] if "t" in data else data["a"]
            values = {
                "id": str(trade_id),
                "side": "sell" if data["m"] else "buy",
                "price": float(data["p"]),
                "amount": float(data["q"]),
            }
        elif data_type == "quotes":
            values = {
                "ask_amount": float(data["A"]),
                "ask_price": float(data["a"]),
                "bid_price": float(data["b"]),
                "bid_amount": float(data["B"]),
            }
        elif data_type == "book_snapshot_5":
            values = book_values(
                data.get("bids", data.get("b", [])), data.get("asks", data.get("a", []))
            )
        else:
            timestamp = to_us(data["E"])
            values = {
                "funding_timestamp": to_us(data["T"]) if data.get("T") else None,
                "funding_rate": optional_float(data.get("r")),
                "index_price": optional_float(data.get("i")),
                "mark_price": optional_float(data.get("p")),
            }
        return tick(data_type, self.venue, symbol, timestamp, local_us, values)

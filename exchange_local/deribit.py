"""Deribit's JSON-RPC 2.0 WebSocket API (`/ws/api/v2`): subscriptions and their notifications.

| Tardis data type  | channel                                  | data                  |
|-------------------|------------------------------------------|-----------------------|
| trades            | `trades.<instrument>.<raw or 100ms>`     | a list of trades      |
| quotes            | `quote.<instrument>`                     | best bid and ask      |
| book_snapshot_5   | `book.<instrument>.none.10.100ms`        | grouped book (top 10) |
| derivative_ticker | `ticker.<instrument>.<raw or 100ms>`     | ticker                |

`.raw` channels need an authenticated connection (`public/auth`), as on Deribit. The
`100ms` channels carry the same notifications here: exchange_local does not thin them
to one per 100 ms as Deribit does.

Notifications read ``{"jsonrpc": "2.0", "method": "subscription", "params": {"channel",
"data"}}``. Trades received together (one burst: the same instrument and arrival time on
the tape) come in one notification, as Deribit batches them. `timestamp` is the row's
exchange time; the ticker's `funding_8h` (and `current_funding`) carry the funding rate,
absent on dated futures as on Deribit; a missing last price is `null`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from exchange_local.tape import TapeRow
from exchange_local.wire import Message, wire_time

VENUE = "deribit"
API_VERSION = "1.2.26"
RAW_UNAUTHORIZED = {"code": 13778, "message": "raw_subscriptions_not_available_for_unauthorized"}
INTERVALS = ("raw", "100ms")
_CHANNEL = {
    "trades": "trades.{}.{{i}}",
    "quotes": "quote.{}",
    "book_snapshot_5": "book.{}.none.10.100ms",
    "derivative_ticker": "ticker.{}.{{i}}",
}


def channel_name(data_type: str, instrument: str, interval: str = "raw") -> str | None:
    """The channel carrying `data_type` of `instrument` (trades and ticker at `interval`);
    None when none does."""
    template = _CHANNEL.get(data_type)
    return None if template is None else template.format(instrument).replace("{i}", interval)


def canonical(channel: str) -> str:
    """The name the tape's messages carry for a subscribed channel (`.100ms` trades and
    ticker channels are served as their `.raw` twins)."""
    if channel.startswith(("trades.", "ticker.")) and channel.endswith(".100ms"):
        return channel.removesuffix(".100ms") + ".raw"
    return channel


def messages(tape: Sequence[TapeRow]) -> Iterator[Message]:
    """Notifications in tape order; a burst of one instrument's trades is one notification."""
    burst: list[TapeRow] = []
    for row in tape:
        if burst and (
            row.data_type != "trades"
            or row.symbol != burst[0].symbol
            or row.local_us != burst[0].local_us
        ):
            yield _message(burst)
            burst = []
        if row.data_type == "trades":
            burst.append(row)
            continue
        channel = channel_name(row.data_type, row.symbol)
        if channel is not None:
            yield Message(channel, row.local_us, (row,))
    if burst:
        yield _message(burst)


def _message(burst: list[TapeRow]) -> Message:
    first = burst[0]
    return Message(channel_name("trades", first.symbol) or "", first.local_us, tuple(burst))


def _levels(row: dict[str, object], side: str) -> list[list[float]]:
    levels = []
    for level in range(5):
        price, amount = row[f"{side}[{level}].price"], row[f"{side}[{level}].amount"]
        if price is None or amount is None:
            break
        levels.append([price, amount])
    return levels


def notification(message: Message, channel: str, sequence: int, micros: bool) -> dict[str, object]:
    """The notification of `message` on the subscribed `channel`; `sequence` numbers
    change ids and trade sequence numbers."""
    return {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel, "data": _data(message, sequence, micros)},
    }


def _data(message: Message, sequence: int, micros: bool) -> object:
    first = message.rows[0]
    at = wire_time(first.timestamp_us, micros)
    name = first.symbol
    if first.data_type == "trades":
        return [
            {
                "trade_seq": sequence + offset,
                "trade_id": str(trade.row["id"]),
                "timestamp": wire_time(trade.timestamp_us, micros),
                "tick_direction": 0,
                "price": trade.row["price"],
                "instrument_name": name,
                "direction": trade.row["side"],
                "amount": trade.row["amount"],
            }
            for offset, trade in enumerate(message.rows)
        ]
    row = first.row
    if first.data_type == "quotes":
        return {
            "timestamp": at,
            "instrument_name": name,
            "best_bid_price": row["bid_price"],
            "best_bid_amount": row["bid_amount"],
            "best_ask_price": row["ask_price"],
            "best_ask_amount": row["ask_amount"],
        }
    if first.data_type == "book_snapshot_5":
        return {
            "timestamp": at,
            "instrument_name": name,
            "change_id": sequence,
            "bids": _levels(row, "bids"),
            "asks": _levels(row, "asks"),
        }
    ticker: dict[str, object] = {
        "timestamp": at,
        "instrument_name": name,
        "state": "open",
        "mark_price": row["mark_price"],
        "index_price": row["index_price"],
        "last_price": row["last_price"],
        "open_interest": row["open_interest"],
    }
    if row["funding_rate"] is not None:
        ticker["funding_8h"] = row["funding_rate"]
        ticker["current_funding"] = row["funding_rate"]
    return ticker

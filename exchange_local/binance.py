"""Binance spot (`binance`) and USDⓈ-M futures (`binance-futures`) market streams.

Streams and payloads follow Binance's documented WebSocket market streams:

| Tardis data type    | spot stream            | futures stream          |
|---------------------|------------------------|-------------------------|
| trades              | `<s>@trade`            | `<s>@aggTrade`          |
| quotes              | `<s>@bookTicker`       | `<s>@bookTicker`        |
| book_snapshot_5     | `<s>@depth5@100ms`     | `<s>@depth5@100ms`      |
| derivative_ticker   | —                      | `<s>@markPrice@1s`      |

`<s>` is the lower-case symbol. Event (`E`) and trade/transaction (`T`) times are the
tape row's exchange `timestamp`. Binance spot's `bookTicker` and partial depth payloads
carry no event time; exchange_local adds `E` and `T` to them (extra keys a client may
ignore) so a feed can keep the exchange time. A derivative row's open interest and last
price are not in `markPriceUpdate` (Binance serves open interest over REST only), so they
are not on this wire either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from exchange_local.tape import TapeRow
from exchange_local.wire import Message, number, wire_time

SPOT = "binance"
FUTURES = "binance-futures"
_SUFFIX = {
    (SPOT, "trades"): "trade",
    (SPOT, "quotes"): "bookTicker",
    (SPOT, "book_snapshot_5"): "depth5@100ms",
    (FUTURES, "trades"): "aggTrade",
    (FUTURES, "quotes"): "bookTicker",
    (FUTURES, "book_snapshot_5"): "depth5@100ms",
    (FUTURES, "derivative_ticker"): "markPrice@1s",
}


def stream_name(venue: str, data_type: str, symbol: str) -> str | None:
    """The stream carrying `data_type` of Tardis `symbol` on `venue`; None when none does."""
    suffix = _SUFFIX.get((venue, data_type))
    return None if suffix is None else f"{symbol.lower()}@{suffix}"


def messages(venue: str, tape: Sequence[TapeRow]) -> Iterator[Message]:
    """One message per tape row (Binance pushes one event per trade, quote or book)."""
    for row in tape:
        channel = stream_name(venue, row.data_type, row.symbol)
        if row.data_type == "derivative_ticker" and None in (
            row.row["mark_price"],
            row.row["index_price"],
        ):
            continue  # a markPriceUpdate always carries both; such a row has no message
        if channel is not None:
            yield Message(channel, row.local_us, (row,))


def _levels(row: dict[str, object], side: str) -> list[list[str]]:
    levels = []
    for level in range(5):
        price, amount = row[f"{side}[{level}].price"], row[f"{side}[{level}].amount"]
        if price is None or amount is None:
            break
        levels.append([number(price), number(amount)])
    return levels


def payload(venue: str, message: Message, sequence: int, micros: bool) -> dict[str, object]:
    """The JSON payload of `message` (the `data` of a combined stream frame).

    `sequence` numbers the venue's messages (update ids); `micros` sets the time unit.
    """
    tape_row = message.rows[0]
    row, symbol = tape_row.row, tape_row.symbol
    at = wire_time(tape_row.timestamp_us, micros)
    if tape_row.data_type == "trades":
        trade_id = int(row["id"])  # type: ignore[arg-type]
        common = {"p": number(row["price"]), "q": number(row["amount"]), "T": at}
        if venue == SPOT:
            return {"e": "trade", "E": at, "s": symbol, "t": trade_id, **common,
                    "m": row["side"] == "sell", "M": True}  # fmt: skip
        return {"e": "aggTrade", "E": at, "s": symbol, "a": trade_id, **common,
                "f": trade_id, "l": trade_id, "m": row["side"] == "sell"}  # fmt: skip
    if tape_row.data_type == "quotes":
        book = {"b": number(row["bid_price"]), "B": number(row["bid_amount"]),
                "a": number(row["ask_price"]), "A": number(row["ask_amount"])}  # fmt: skip
        if venue == SPOT:
            return {"u": sequence, "s": symbol, **book, "E": at, "T": at}
        return {"e": "bookTicker", "u": sequence, "E": at, "T": at, "s": symbol, **book}
    if tape_row.data_type == "book_snapshot_5":
        bids, asks = _levels(row, "bids"), _levels(row, "asks")
        if venue == SPOT:
            return {"lastUpdateId": sequence, "bids": bids, "asks": asks, "E": at, "T": at}
        return {"e": "depthUpdate", "E": at, "T": at, "s": symbol, "U": sequence,
                "u": sequence, "pu": sequence - 1, "b": bids, "a": asks}  # fmt: skip
    # derivative_ticker: markPriceUpdate; "" and 0 are what Binance sends for a contract
    # without funding (a dated future).
    funding = row["funding_rate"]
    next_funding = row["funding_timestamp"]
    return {
        "e": "markPriceUpdate",
        "E": at,
        "s": symbol,
        "p": number(row["mark_price"]),
        "i": number(row["index_price"]),
        "P": number(row["index_price"]),
        "r": "" if funding is None else number(funding),
        "T": 0 if next_funding is None else wire_time(int(next_funding), micros),  # type: ignore[arg-type]
    }

"""Per data type payload builders: the columns after exchange, symbol and the two timestamps."""

from __future__ import annotations

import pyarrow as pa

from tardis_local.chunks import Chunk
from tardis_local.payloads.books import book_snapshot, incremental_book, opening_snapshot, quotes
from tardis_local.payloads.options import options_chain
from tardis_local.payloads.tickers import derivative_ticker
from tardis_local.payloads.trades import liquidations, trades

__all__ = ["columns", "opening_snapshot"]


def columns(data_type: str, chunk: Chunk) -> dict[str, pa.Array]:
    """The `data_type` columns (HEADERS order, after the 4 common ones) for `chunk`'s rows."""
    if data_type == "trades":
        return trades(chunk)
    if data_type == "liquidations":
        return liquidations(chunk)
    if data_type in ("quotes", "book_ticker"):
        return quotes(chunk)
    if data_type.startswith("book_snapshot_"):
        return book_snapshot(chunk, int(data_type.rsplit("_", 1)[1]))
    if data_type == "derivative_ticker":
        return derivative_ticker(chunk)
    if data_type == "options_chain":
        return options_chain(chunk)
    return incremental_book(chunk)

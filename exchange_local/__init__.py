"""A local stand-in for the exchanges' real-time WebSocket feeds (Binance spot, Binance
USDⓈ-M futures, Deribit), replaying the day the local Tardis server generates.

`ExchangeServer(day, {venue: [symbol, ...]})` serves them on one port; see `server`.
"""

from exchange_local.server import VENUES, ExchangeServer

__all__ = ["VENUES", "ExchangeServer"]

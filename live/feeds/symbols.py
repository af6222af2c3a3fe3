"""Instrument identity on a live feed: a Tardis symbol's kind and canonical key.

The kind is read from the venue's naming scheme, as the key itself is (the live service
has no Tardis instruments API): Binance spot symbols are pairs; on Binance USDⓈ-M futures
`BTCUSDT` is a perpetual and `BTCUSDT_240329` a dated future; on Deribit
`BTC-PERPETUAL` is a perpetual, `BTC_USDC` a spot pair, `BTC-29MAR24` a future and
`BTC-29MAR24-50000-C` an option.
"""

from __future__ import annotations

from functools import cache

from market_assets.instruments.keys import instrument_key


def instrument_kind(venue: str, symbol: str) -> str:
    """Tardis' instrument type (spot, perpetual, future, option) of `symbol` on `venue`."""
    if venue == "binance":
        return "spot"
    if venue == "binance-futures":
        return "future" if "_" in symbol else "perpetual"
    if venue == "deribit":
        parts = symbol.split("-")
        if len(parts) == 1:
            return "spot"
        if parts[-1] == "PERPETUAL":
            return "perpetual"
        return "option" if len(parts) == 4 else "future"
    raise ValueError(f"no live naming scheme for venue {venue!r}")


@cache
def key_of(venue: str, symbol: str) -> str:
    """The canonical instrument key of Tardis `symbol` on `venue`."""
    return instrument_key(venue, instrument_kind(venue, symbol), symbol)

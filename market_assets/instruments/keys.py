"""Canonical instrument keys, a function of (venue, Tardis symbol) alone. Pure functions.

Keys read ``VENUE:TYPE:NAME`` in upper case, e.g. ``BINANCE:SPOT_PAIR:BTC-USDT``,
``DERIBIT:FUTURE:BTC-USD-240329``, ``DERIBIT:OPTION:BTC-USD-240329-50000-CALL``. The name
is read from the symbol by the venue's naming scheme, never from metadata, so a key is
the same with or without Tardis' instruments API, on every day. Where the scheme says
nothing (an unknown venue, a month-coded future) the Tardis symbol is the name.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from market_assets.instruments.columns import KEY_TYPES

# Tardis' grouped symbols fetch every instrument of a kind in one file; not instruments.
GROUPED_SYMBOLS = frozenset({"SPOT", "PERPETUALS", "FUTURES", "OPTIONS", "COMBOS"})

# Quote assets tried, longest first, on venues that glue base and quote (``BTCUSDT``).
_GLUED_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
# Venues (by id prefix) whose symbols glue base and quote, and those that dash them.
_GLUED_VENUES = ("binance", "bybit")
_DASHED_VENUES = ("okex", "coinbase")
# The venues named here settle dated contracts at 08:00 UTC.
_EXPIRY_HOUR = 8


@dataclass(frozen=True)
class Terms:
    """What a symbol's name says an instrument is; unknown parts are None."""

    base: str | None
    quote: str | None
    expiry: datetime | None = None
    strike: float | None = None
    option_type: str | None = None  # CALL or PUT


def instrument_key(venue: str, kind: str, symbol: str) -> str:
    """The canonical key of Tardis ``symbol`` of type ``kind`` (Tardis' spot, perpetual,
    future or option) on ``venue``."""
    name = key_name(kind, symbol, terms_from_symbol(venue, kind, symbol))
    return f"{venue}:{KEY_TYPES[kind]}:{name}".upper()


def key_name(kind: str, symbol: str, terms: Terms) -> str:
    """The key's name part: base-quote[-expiry[-strike-type]], else the symbol itself."""
    dated = kind in ("future", "option")
    if terms.base is None or terms.quote is None or (dated and terms.expiry is None):
        return symbol
    name = f"{terms.base}-{terms.quote}"
    if dated:
        name += f"-{terms.expiry:%y%m%d}"
    if kind == "option":
        if terms.strike is None or not terms.option_type:
            return symbol
        name += f"-{_strike_text(terms.strike)}-{terms.option_type}"
    return name


def terms_from_symbol(venue: str, kind: str, symbol: str) -> Terms:
    """Terms read from a symbol by the venue's naming scheme (Deribit's
    ``BTC-29MAR24-50000-C``, OKX's and Coinbase's ``BTC-USD-240329``, Binance's and Bybit's
    glued ``BTCUSDT`` and ``BTCUSDT_240329``); unknown parts, and every part on a venue
    whose scheme is not known here, are None."""
    if venue == "deribit":
        return _deribit_terms(kind, symbol)
    if venue.startswith(_DASHED_VENUES):
        parts = symbol.upper().split("-")
        expiry = _yymmdd(parts[2]) if kind == "future" and len(parts) > 2 else None
        return Terms(parts[0], parts[1] if len(parts) > 1 else None, expiry)
    if not venue.startswith(_GLUED_VENUES):
        return Terms(None, None)
    root, _, suffix = symbol.upper().partition("_")
    expiry = _yymmdd(suffix) if kind == "future" and suffix else None
    for quote in _GLUED_QUOTES:
        if root.endswith(quote) and len(root) > len(quote):
            return Terms(root[: -len(quote)], quote, expiry)
    return Terms(None, None, expiry)


def _deribit_terms(kind: str, symbol: str) -> Terms:
    parts = symbol.upper().split("-")
    base, _, quote = parts[0].partition("_")
    # Deribit's coin-margined contracts are USD contracts: the key names that form.
    quote = quote or "USD"
    if kind in ("spot", "perpetual"):
        return Terms(base, quote)
    expiry = _ddmmmyy(parts[1]) if len(parts) > 1 else None
    if kind == "future":
        return Terms(base, quote, expiry)
    strike = float(parts[2].replace("D", ".")) if len(parts) > 2 else None
    option_type = {"C": "CALL", "P": "PUT"}.get(parts[3]) if len(parts) > 3 else None
    return Terms(base, quote, expiry, strike, option_type)


def _ddmmmyy(text: str) -> datetime | None:
    found = re.fullmatch(r"(\d{1,2})([A-Z]{3})(\d{2})", text)
    if not found or found.group(2) not in _MONTHS:
        return None
    day, month, year = int(found.group(1)), _MONTHS[found.group(2)], 2000 + int(found.group(3))
    return datetime(year, month, day, _EXPIRY_HOUR, tzinfo=UTC)


def _yymmdd(text: str) -> datetime | None:
    if not re.fullmatch(r"\d{6}", text):
        return None
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:])
    return datetime(year, month, day, _EXPIRY_HOUR, tzinfo=UTC)


def _strike_text(strike: float) -> str:
    return f"{strike:.10f}".rstrip("0").rstrip(".")

"""Instrument definitions for one (venue, UTC day) from Tardis metadata. Pure functions.

Canonical keys read ``VENUE:TYPE:SYMBOL`` in upper case, e.g. ``BINANCE:SPOT_PAIR:BTC-USDT``,
``DERIBIT:FUTURE:BTC-USD-240329``, ``DERIBIT:OPTION:BTC-USD-240329-50000-CALL``.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from market_assets.tardis_csv import TIMESTAMP

# Tardis' instrument types and the canonical type names of the key.
KEY_TYPES = {"spot": "SPOT_PAIR", "perpetual": "PERPETUAL", "future": "FUTURE", "option": "OPTION"}

DEFINITIONS_SCHEMA = pa.schema(
    [
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("base", pa.string()),
        pa.field("quote", pa.string()),
        pa.field("expiry", TIMESTAMP),
        pa.field("strike", pa.float64()),
        pa.field("option_type", pa.string()),
        pa.field("available_since", TIMESTAMP),
        pa.field("available_to", TIMESTAMP),
        pa.field("data_types", pa.list_(pa.string())),
        pa.field("metadata_source", pa.string(), nullable=False),
    ]
)

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


@dataclass(frozen=True)
class Terms:
    """What an instrument is, as far as the key needs it."""

    base: str | None
    quote: str | None
    expiry: datetime | None = None
    strike: float | None = None
    option_type: str | None = None  # CALL or PUT


def instrument_key(venue: str, kind: str, symbol: str, terms: Terms) -> str:
    """The canonical key; falls back to the Tardis symbol when base or quote is unknown."""
    key_type = KEY_TYPES[kind]
    if terms.base is None or terms.quote is None:
        name = symbol
    else:
        name = f"{terms.base}-{terms.quote}"
        if kind in ("future", "option") and terms.expiry is not None:
            name += f"-{terms.expiry:%y%m%d}"
        if kind == "option" and terms.strike is not None and terms.option_type:
            name += f"-{_strike_text(terms.strike)}-{terms.option_type}"
    return f"{venue}:{key_type}:{name}".upper()


def definitions_for_day(
    venue: str,
    day: date,
    exchange_details: Mapping[str, Any],
    instruments: Sequence[Mapping[str, Any]] | None,
) -> pa.Table:
    """Every single-instrument symbol Tardis lists for ``venue`` alive on ``day`` (UTC).

    ``instruments`` (the paid instruments API) supplies base, quote, expiry and strike
    when given; otherwise they are read from the symbol by the venue's naming scheme and
    ``metadata_source`` says ``symbol``. Grouped symbols (``OPTIONS``...) are left out.
    """
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    by_id = {str(i["id"]).upper(): i for i in instruments or ()}
    rows = []
    for listed in exchange_details.get("datasets", {}).get("symbols", []):
        kind = str(listed.get("type", "")).lower()
        if kind not in KEY_TYPES or str(listed["id"]).upper() in GROUPED_SYMBOLS:
            continue
        since, until = _when(listed.get("availableSince")), _when(listed.get("availableTo"))
        if (since and since >= end) or (until and until <= start):
            continue
        symbol = str(listed["id"])
        info = by_id.get(symbol.upper())
        terms = terms_from_instrument(info) if info else terms_from_symbol(venue, kind, symbol)
        rows.append(
            {
                "instrument_key": instrument_key(venue, kind, symbol, terms),
                "symbol": symbol,
                "type": KEY_TYPES[kind],
                "base": terms.base,
                "quote": terms.quote,
                "expiry": terms.expiry,
                "strike": terms.strike,
                "option_type": terms.option_type,
                "available_since": since,
                "available_to": until,
                "data_types": list(listed.get("dataTypes", [])),
                "metadata_source": "instruments" if info else "symbol",
            }
        )
    rows.sort(key=lambda row: row["instrument_key"])
    return pa.Table.from_pylist(rows, schema=DEFINITIONS_SCHEMA)


def terms_from_instrument(info: Mapping[str, Any]) -> Terms:
    """Terms from one record of Tardis' instruments API (numbers may arrive as strings)."""
    option = str(info.get("optionType") or "").lower()
    strike = info.get("strikePrice")
    return Terms(
        base=str(info["baseCurrency"]).upper() if info.get("baseCurrency") else None,
        quote=str(info["quoteCurrency"]).upper() if info.get("quoteCurrency") else None,
        expiry=_when(info.get("expiry")),
        strike=float(strike) if strike not in (None, "") else None,
        option_type={"call": "CALL", "put": "PUT"}.get(option),
    )


def terms_from_symbol(venue: str, kind: str, symbol: str) -> Terms:
    """Terms read from a symbol by the venue's naming scheme; unknown parts are None."""
    if venue == "deribit":
        return _deribit_terms(kind, symbol)
    if venue.startswith("okex"):
        parts = symbol.upper().split("-")
        expiry = _yymmdd(parts[2]) if kind == "future" and len(parts) > 2 else None
        return Terms(parts[0], parts[1] if len(parts) > 1 else None, expiry)
    root, _, suffix = symbol.upper().partition("_")
    expiry = _yymmdd(suffix) if kind == "future" and suffix else None
    for quote in _GLUED_QUOTES:
        if root.endswith(quote) and len(root) > len(quote):
            return Terms(root[: -len(quote)], quote, expiry)
    return Terms(None, None, expiry)


def _deribit_terms(kind: str, symbol: str) -> Terms:
    parts = symbol.upper().split("-")
    base, _, quote = parts[0].partition("_")
    quote = quote or "USD"  # Deribit's coin-margined contracts are quoted in USD
    if kind == "spot":
        return Terms(base, quote)
    if kind == "perpetual":
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
    return datetime(year, month, day, 8, tzinfo=UTC)  # Deribit expiries are at 08:00 UTC


def _yymmdd(text: str) -> datetime | None:
    if not re.fullmatch(r"\d{6}", text):
        return None
    return datetime(2000 + int(text[:2]), int(text[2:4]), int(text[4:]), tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _strike_text(strike: float) -> str:
    return f"{strike:.10f}".rstrip("0").rstrip(".")

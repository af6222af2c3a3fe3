"""Instrument definitions for one (venue, UTC day) from Tardis metadata. Pure functions.

Canonical keys read ``VENUE:TYPE:NAME`` in upper case, e.g. ``BINANCE:SPOT_PAIR:BTC-USDT``,
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

# Tardis' grouped symbols fetch every instrument of a kind in one file; not instruments.
GROUPED_SYMBOLS = frozenset({"SPOT", "PERPETUALS", "FUTURES", "OPTIONS", "COMBOS"})

DEFINITIONS_SCHEMA = pa.schema(
    [
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("dataset_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("base", pa.string()),
        pa.field("quote", pa.string()),
        pa.field("settlement", pa.string()),
        pa.field("inverse", pa.bool_()),
        pa.field("contract_type", pa.string()),
        pa.field("contract_multiplier", pa.float64()),
        pa.field("tick_size", pa.float64()),
        pa.field("lot_size", pa.float64()),
        pa.field("min_size", pa.float64()),
        pa.field("min_notional", pa.float64()),
        pa.field("maker_fee", pa.float64()),
        pa.field("taker_fee", pa.float64()),
        pa.field("expiry", TIMESTAMP),
        pa.field("strike", pa.float64()),
        pa.field("option_type", pa.string()),
        pa.field("underlying", pa.string()),
        pa.field("listing_time", TIMESTAMP),
        pa.field("available_since", TIMESTAMP),
        pa.field("available_to", TIMESTAMP),
        pa.field("data_types", pa.list_(pa.string())),
        pa.field("metadata_source", pa.string(), nullable=False),
    ]
)

# Instruments API fields (after ``changes[]``) and the definition columns they fill.
_NUMBERS = {
    "contractMultiplier": "contract_multiplier",
    "priceIncrement": "tick_size",
    "amountIncrement": "lot_size",
    "minTradeAmount": "min_size",
    "minNotional": "min_notional",
    "makerFee": "maker_fee",
    "takerFee": "taker_fee",
    "strikePrice": "strike",
}

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
    """What an instrument is, as far as its key needs it."""

    base: str | None
    quote: str | None
    expiry: datetime | None = None
    strike: float | None = None
    option_type: str | None = None  # CALL or PUT


def instrument_key(venue: str, kind: str, symbol: str, terms: Terms) -> str:
    """The canonical key; the Tardis symbol stands in for the name when base or quote is
    unknown, or when a dated contract's expiry is."""
    key_type = KEY_TYPES[kind]
    dated = kind in ("future", "option")
    if terms.base is None or terms.quote is None or (dated and terms.expiry is None):
        name = symbol
    else:
        name = f"{terms.base}-{terms.quote}"
        if dated:
            name += f"-{terms.expiry:%y%m%d}"
        if kind == "option":
            if terms.strike is None or not terms.option_type:
                name = symbol
            else:
                name += f"-{_strike_text(terms.strike)}-{terms.option_type}"
    return f"{venue}:{key_type}:{name}".upper()


def definitions_for_day(
    venue: str,
    day: date,
    exchange_details: Mapping[str, Any],
    instruments: Sequence[Mapping[str, Any]] | None,
) -> pa.Table:
    """Every single-instrument symbol Tardis lists for ``venue`` alive on ``day`` (UTC).

    An instrument alive at any moment of the day belongs to it (listed at noon, expired at
    08:00). With ``instruments`` (Tardis' paid instruments API) every field comes from it,
    with ``changes[]`` applied so the values are those in force at 00:00 UTC that day.
    Without it only what exchange details carry is filled; the key's base, quote and
    expiry are then read from the symbol by the venue's naming scheme, and
    ``metadata_source`` says ``exchange_details``. Grouped symbols (``OPTIONS``...) are
    left out.
    """
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    by_dataset_id: dict[str, Mapping[str, Any]] = {}
    for info in instruments or ():
        by_dataset_id[str(info.get("datasetId") or info["id"]).upper()] = info
    rows = []
    for listed in exchange_details.get("datasets", {}).get("symbols", []):
        kind = str(listed.get("type", "")).lower()
        dataset_id = str(listed["id"]).upper()
        if kind not in KEY_TYPES or dataset_id in GROUPED_SYMBOLS:
            continue
        since, until = _when(listed.get("availableSince")), _when(listed.get("availableTo"))
        if (since and since >= end) or (until and until <= start):
            continue
        info = by_dataset_id.get(dataset_id)
        if info is not None:
            row = _from_instrument(venue, kind, as_of(info, start))
        else:
            row = _from_symbol(venue, kind, str(listed["id"]))
        row.update(
            dataset_id=dataset_id,
            available_since=since,
            available_to=until,
            data_types=list(listed.get("dataTypes", [])),
        )
        rows.append(row)
    rows.sort(key=lambda row: row["instrument_key"])
    return pa.Table.from_pylist(rows, schema=DEFINITIONS_SCHEMA)


def as_of(info: Mapping[str, Any], moment: datetime) -> dict[str, Any]:
    """An instruments-API record with ``changes[]`` undone back to ``moment``.

    Each change holds the values in force until its ``until``; applying those later
    than ``moment``, latest first, leaves the values in force at ``moment``.
    """
    current = {k: v for k, v in info.items() if k != "changes"}
    changes = sorted(info.get("changes") or (), key=lambda c: _when(c["until"]), reverse=True)
    for change in changes:
        if _when(change["until"]) > moment:
            current.update({k: v for k, v in change.items() if k != "until"})
    return current


def _from_instrument(venue: str, kind: str, info: Mapping[str, Any]) -> dict[str, Any]:
    terms = terms_from_instrument(info)
    row: dict[str, Any] = {
        "instrument_key": instrument_key(venue, kind, str(info["id"]), terms),
        "symbol": str(info["id"]),
        "type": KEY_TYPES[kind],
        "base": terms.base,
        "quote": terms.quote,
        "settlement": _upper(info.get("settlementCurrency")),
        "inverse": _flag(info.get("inverse")),
        "contract_type": info.get("contractType"),
        "expiry": terms.expiry,
        "option_type": terms.option_type,
        "underlying": info.get("underlyingIndex"),
        "listing_time": _when(info.get("availableSince")),
        "metadata_source": "instruments",
    }
    row.update({column: _number(info.get(field)) for field, column in _NUMBERS.items()})
    return row


def _from_symbol(venue: str, kind: str, symbol: str) -> dict[str, Any]:
    terms = terms_from_symbol(venue, kind, symbol)
    return {
        "instrument_key": instrument_key(venue, kind, symbol, terms),
        "symbol": symbol,
        "type": KEY_TYPES[kind],
        "metadata_source": "exchange_details",
    }


def terms_from_instrument(info: Mapping[str, Any]) -> Terms:
    """Terms from one record of Tardis' instruments API (numbers may arrive as strings)."""
    option = str(info.get("optionType") or "").lower()
    return Terms(
        base=_upper(info.get("baseCurrency")),
        quote=_upper(info.get("quoteCurrency")),
        expiry=_when(info.get("expiry")),
        strike=_number(info.get("strikePrice")),
        option_type={"call": "CALL", "put": "PUT"}.get(option),
    )


def terms_from_symbol(venue: str, kind: str, symbol: str) -> Terms:
    """Terms read from a symbol by the venue's naming scheme; unknown parts are None.

    Only for keys when Tardis' instruments API is out of reach (no paid key).
    """
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
    return datetime(year, month, day, 8, tzinfo=UTC)  # Deribit expiries are at 08:00 UTC


def _yymmdd(text: str) -> datetime | None:
    if not re.fullmatch(r"\d{6}", text):
        return None
    return datetime(2000 + int(text[:2]), int(text[2:4]), int(text[4:]), tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _number(value: Any) -> float | None:
    # Tardis sends some numbers as strings ("0.5"); empty means not provided.
    if value in (None, ""):
        return None
    return float(value)


def _flag(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _upper(value: Any) -> str | None:
    return str(value).upper() if value not in (None, "") else None


def _strike_text(strike: float) -> str:
    return f"{strike:.10f}".rstrip("0").rstrip(".")

"""Instrument definitions of one (venue, UTC day) from Tardis metadata. Pure functions.

Every row's key comes from the venue and symbol alone (``keys.instrument_key``). The
symbol's naming scheme fills base, quote, expiry, strike and option type; Tardis'
instruments API, when it answers (a paid key), fills every column, its values winning.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from market_assets.instruments.columns import DEFINITIONS, KEY_TYPES
from market_assets.instruments.keys import GROUPED_SYMBOLS, instrument_key, terms_from_symbol

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


def definitions_for_day(
    venue: str,
    day: date,
    exchange_details: Mapping[str, Any],
    instruments: Sequence[Mapping[str, Any]] | None,
) -> pa.Table:
    """Every single-instrument symbol Tardis lists for ``venue`` alive on ``day`` (UTC),
    as a table of ``DEFINITIONS``, sorted by key.

    An instrument alive at any moment of the day belongs to it (listed at noon, expired at
    08:00). With ``instruments`` (Tardis' instruments API) its record, with ``changes[]``
    applied so the values are those in force at 00:00 UTC that day, fills the columns and
    ``metadata_source`` says ``instruments``; otherwise only the naming scheme and exchange
    details fill them and it says ``exchange_details``. Grouped symbols are left out.
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
        row = _from_symbol(venue, kind, str(listed["id"]))
        info = by_dataset_id.get(dataset_id)
        if info is not None:
            row.update(_from_instrument(as_of(info, start)))
        row.update(
            dataset_id=dataset_id,
            available_since=since,
            available_to=until,
            data_types=list(listed.get("dataTypes", [])),
        )
        rows.append(row)
    rows.sort(key=lambda row: row["instrument_key"])
    return pa.Table.from_pylist(rows, schema=DEFINITIONS.schema)


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


def _from_symbol(venue: str, kind: str, symbol: str) -> dict[str, Any]:
    terms = terms_from_symbol(venue, kind, symbol)
    return {
        "instrument_key": instrument_key(venue, kind, symbol),
        "symbol": symbol,
        "type": KEY_TYPES[kind],
        "base": terms.base,
        "quote": terms.quote,
        "expiry": terms.expiry,
        "strike": terms.strike,
        "option_type": terms.option_type,
        "metadata_source": "exchange_details",
    }


def _from_instrument(info: Mapping[str, Any]) -> dict[str, Any]:
    """The columns an instruments-API record fills (numbers may arrive as strings);
    fields it leaves empty keep what the naming scheme said."""
    option = str(info.get("optionType") or "").lower()
    row: dict[str, Any] = {
        "symbol": str(info["id"]),
        "base": _upper(info.get("baseCurrency")),
        "quote": _upper(info.get("quoteCurrency")),
        "settlement": _upper(info.get("settlementCurrency")),
        "inverse": _flag(info.get("inverse")),
        "contract_type": info.get("contractType"),
        "expiry": _when(info.get("expiry")),
        "option_type": {"call": "CALL", "put": "PUT"}.get(option),
        "underlying": info.get("underlyingIndex"),
        "listing_time": _when(info.get("availableSince")),
        **{column: _number(info.get(field)) for field, column in _NUMBERS.items()},
    }
    known = {column: value for column, value in row.items() if value is not None}
    return {**known, "metadata_source": "instruments"}


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

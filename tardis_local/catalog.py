"""A fixed, fake catalog of exchanges and instruments, and the queries Tardis' metadata APIs answer.

The records live in `metadata/` as JSON in the shapes Tardis answers with:
`exchanges.json` holds GET /v1/exchanges/{id} minus what follows from the instruments
(`availableSymbols`, `datasets`), and `instruments/{exchange}.json` is GET
/v1/instruments/{exchange}. Everything is invented but plausible: tick and lot sizes,
fees and listing dates resemble the real venues, so code written against this catalog
meets the quirks it will meet against Tardis: OKX (and Bybit's dated future) send
numbers as strings, Binance's BTCUSDT perpetual has a `changes` history, contracts
expire on 2024-03-29, Binance's SOLUSDT is listed at 06:00 UTC (its first file starts
there), and grouped symbols (SPOT, PERPETUALS, FUTURES, OPTIONS) bundle instruments.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from tardis_local.timestamps import day_start, format_iso, parse_iso

SPOT_DATA_TYPES: tuple[str, ...] = (
    "trades",
    "book_snapshot_5",
    "book_snapshot_25",
    "quotes",
    "book_ticker",
    "incremental_book_L2",
)
DERIVATIVE_DATA_TYPES: tuple[str, ...] = (*SPOT_DATA_TYPES, "derivative_ticker", "liquidations")
# Deribit options have no derivative_ticker/liquidations; their ticker lives in options_chain.
OPTION_DATA_TYPES: tuple[str, ...] = (
    "trades",
    "book_snapshot_5",
    "book_snapshot_25",
    "quotes",
    "incremental_book_L2",
)


@dataclass(frozen=True)
class GroupedSymbol:
    """A grouped dataset symbol (a file of many instruments' rows), as datasets.symbols lists it.

    `type` is its entry's type there, `member_type` the instrument type of its members.
    """

    type: str
    member_type: str
    data_types: tuple[str, ...]


_GROUPED_DERIVATIVE_TYPES = ("trades", "quotes", "derivative_ticker", "liquidations")
GROUPED_SYMBOLS: dict[str, GroupedSymbol] = {
    "SPOT": GroupedSymbol(
        type="spot", member_type="spot", data_types=("trades", "quotes", "book_ticker")
    ),
    "PERPETUALS": GroupedSymbol(
        type="perpetuals", member_type="perpetual", data_types=_GROUPED_DERIVATIVE_TYPES
    ),
    "FUTURES": GroupedSymbol(
        type="futures", member_type="future", data_types=_GROUPED_DERIVATIVE_TYPES
    ),
    "OPTIONS": GroupedSymbol(
        type="options", member_type="option", data_types=("trades", "quotes", "options_chain")
    ),
}

_METADATA = resources.files("tardis_local") / "metadata"


def _load(*parts: str) -> Any:
    return json.loads(_METADATA.joinpath(*parts).read_text(encoding="utf-8"))


# Exchange records by id, in VENUES order; instruments per exchange, in Tardis' listing order.
_EXCHANGES: dict[str, dict[str, Any]] = {record["id"]: record for record in _load("exchanges.json")}
VENUES: tuple[str, ...] = tuple(_EXCHANGES)
_INSTRUMENTS: dict[str, list[dict[str, Any]]] = {
    exchange: _load("instruments", f"{exchange}.json") for exchange in VENUES
}


def _check_exchange(exchange: str) -> None:
    if exchange not in _INSTRUMENTS:
        raise ValueError(f"unknown exchange {exchange!r}; known: {', '.join(VENUES)}")


def instruments(exchange: str) -> list[dict[str, Any]]:
    """All instruments of `exchange`, as GET /v1/instruments/{exchange} returns them (copies)."""
    _check_exchange(exchange)
    return copy.deepcopy(_INSTRUMENTS[exchange])


def instrument(exchange: str, symbol: str) -> dict[str, Any]:
    """One instrument by its Tardis id (e.g. "BTC-PERPETUAL"); ValueError names unknown ones."""
    _check_exchange(exchange)
    for candidate in _INSTRUMENTS[exchange]:
        if candidate["id"] == symbol or candidate["datasetId"] == symbol:
            return copy.deepcopy(candidate)
    raise ValueError(f"unknown symbol {symbol!r} on {exchange}")


def instrument_as_of(exchange: str, symbol: str, day: date) -> dict[str, Any]:
    """The instrument as defined on `day` (UTC): `changes` entries with `until` > day applied.

    Each `changes` entry holds the values in force before its `until`; the earliest
    applicable entry wins because it describes the oldest state.
    """
    current = instrument(exchange, symbol)
    moment = day_start(day)
    for change in sorted(
        current.get("changes", []), key=lambda entry: entry["until"], reverse=True
    ):
        if moment < parse_iso(change["until"]):
            current.update({key: value for key, value in change.items() if key != "until"})
    return current


# Liquid USDT-margined perpetuals a busy derivatives venue lists beside BTC and ETH, as
# (base, priceIncrement, amountIncrement) like Binance's; `list_liquid_perpetuals` adds them.
LIQUID_PERPETUALS: tuple[tuple[str, str, str], ...] = (
    ("SOL", "0.01", "1"),
    ("BNB", "0.01", "0.01"),
    ("XRP", "0.0001", "0.1"),
    ("DOGE", "0.00001", "1"),
    ("ADA", "0.0001", "1"),
    ("AVAX", "0.001", "1"),
    ("LINK", "0.001", "0.01"),
    ("DOT", "0.001", "0.1"),
    ("MATIC", "0.0001", "1"),
    ("LTC", "0.01", "0.001"),
    ("BCH", "0.01", "0.001"),
    ("TRX", "0.00001", "1"),
    ("ATOM", "0.001", "0.01"),
    ("NEAR", "0.001", "1"),
    ("UNI", "0.001", "1"),
    ("ETC", "0.001", "0.01"),
    ("FIL", "0.001", "0.1"),
    ("APT", "0.001", "0.1"),
    ("ARB", "0.0001", "0.1"),
    ("OP", "0.0001", "0.1"),
    ("INJ", "0.001", "0.1"),
    ("SUI", "0.0001", "0.1"),
    ("SEI", "0.0001", "1"),
    ("TIA", "0.001", "1"),
    ("WLD", "0.001", "1"),
    ("AAVE", "0.01", "0.1"),
    ("MKR", "0.1", "0.001"),
    ("RUNE", "0.001", "1"),
    ("FTM", "0.0001", "1"),
    ("SAND", "0.0001", "1"),
    ("GALA", "0.00001", "1"),
    ("XLM", "0.00001", "1"),
    ("ALGO", "0.0001", "0.1"),
    ("EOS", "0.001", "0.1"),
    ("DYDX", "0.001", "0.1"),
    ("LDO", "0.001", "1"),
    ("CRV", "0.001", "0.1"),
)
_LIQUID_SINCE = "2021-01-01T00:00:00.000Z"


def list_liquid_perpetuals(exchange: str, count: int) -> list[str]:
    """The dataset ids of `count` linear USDT perpetuals of `exchange`, for a venue-day of
    many instruments: its own first, then `LIQUID_PERPETUALS` added to this process's
    catalogue (instruments API, exchange details and generated files alike) as copies of
    its first linear perpetual with their own base, increments and listing date.

    Raises ValueError when the exchange has no linear perpetual to copy or `count` is more
    than it can list. Adding is idempotent: a second call lists the same instruments.
    """
    _check_exchange(exchange)
    listed = _INSTRUMENTS[exchange]
    own = [
        item
        for item in listed
        if item.get("contractType") == "linear_perpetual" and item["quoteCurrency"] == "USDT"
    ]
    if not own:
        raise ValueError(f"{exchange} lists no linear USDT perpetual to model others on")
    chosen = [item["datasetId"] for item in own][:count]
    for base, tick, lot in LIQUID_PERPETUALS:
        if len(chosen) >= count:
            break
        symbol = f"{base}USDT"
        if symbol in chosen:
            continue
        if not any(item["id"] == symbol for item in listed):
            record = {key: value for key, value in own[0].items() if key != "changes"}
            record.update(
                id=symbol,
                datasetId=symbol,
                baseCurrency=base,
                availableSince=_LIQUID_SINCE,
                priceIncrement=float(tick),
                amountIncrement=float(lot),
                minTradeAmount=float(lot),
            )
            listed.append(record)
        chosen.append(symbol)
    if len(chosen) < count:
        raise ValueError(f"{exchange} can list {len(chosen)} linear USDT perpetuals, not {count}")
    return chosen


def grouped_members(exchange: str, grouped_symbol: str) -> list[dict[str, Any]]:
    """Instruments whose rows a grouped symbol (SPOT, PERPETUALS, FUTURES, OPTIONS) file carries."""
    _check_exchange(exchange)
    member_type = GROUPED_SYMBOLS[grouped_symbol].member_type
    return [copy.deepcopy(item) for item in _INSTRUMENTS[exchange] if item["type"] == member_type]


def _grouped_symbols(exchange: str) -> list[str]:
    kinds = {item["type"] for item in _INSTRUMENTS[exchange]}
    return [name for name, grouped in GROUPED_SYMBOLS.items() if grouped.member_type in kinds]


def symbol_data_types(exchange: str, symbol: str) -> tuple[str, ...]:
    """Data types Tardis publishes for (exchange, symbol), grouped symbols included."""
    _check_exchange(exchange)
    if symbol in GROUPED_SYMBOLS:
        if symbol not in _grouped_symbols(exchange):
            raise ValueError(f"unknown symbol {symbol!r} on {exchange}")
        return GROUPED_SYMBOLS[symbol].data_types
    kind = instrument(exchange, symbol)["type"]
    if kind == "option":
        return OPTION_DATA_TYPES
    return SPOT_DATA_TYPES if kind == "spot" else DERIVATIVE_DATA_TYPES


def availability(exchange: str, symbol: str) -> tuple[datetime, datetime | None]:
    """[availableSince, availableTo) of a symbol, UTC; a grouped symbol spans its members."""
    if symbol in GROUPED_SYMBOLS:
        members = grouped_members(exchange, symbol)
        if not members:
            raise ValueError(f"unknown symbol {symbol!r} on {exchange}")
        return min(parse_iso(item["availableSince"]) for item in members), None
    item = instrument(exchange, symbol)
    until = item.get("availableTo")
    return parse_iso(item["availableSince"]), parse_iso(until) if until else None


def is_available(exchange: str, symbol: str, day: date) -> bool:
    """True when any part of the UTC `day` lies inside the symbol's availability."""
    since, until = availability(exchange, symbol)
    start = day_start(day)
    return start + timedelta(days=1) > since and (until is None or start < until)


def exchange_details(exchange: str, exported_until: datetime) -> dict[str, Any]:
    """GET /v1/exchanges/{exchange} as Tardis shapes it, seen at `exported_until` (UTC).

    Symbols listed after `exported_until` are left out, as they did not exist yet.
    """
    _check_exchange(exchange)
    record = _EXCHANGES[exchange]
    horizon = exported_until if exported_until.tzinfo else exported_until.replace(tzinfo=UTC)
    available_symbols: list[dict[str, Any]] = []
    dataset_symbols: list[dict[str, Any]] = []
    for name in _grouped_symbols(exchange):
        grouped_since, _ = availability(exchange, name)
        dataset_symbols.append(
            {
                "id": name,
                "type": GROUPED_SYMBOLS[name].type,
                "availableSince": format_iso(grouped_since),
                "dataTypes": list(GROUPED_SYMBOLS[name].data_types),
            }
        )
    for item in _INSTRUMENTS[exchange]:
        if parse_iso(item["availableSince"]) >= horizon:
            continue
        entry: dict[str, Any] = {
            "id": item["datasetId"],
            "type": item["type"],
            "availableSince": item["availableSince"],
        }
        if "availableTo" in item:
            entry["availableTo"] = item["availableTo"]
        available_symbols.append(dict(entry))
        dataset_symbols.append(
            {**entry, "dataTypes": list(symbol_data_types(exchange, item["id"]))}
        )
    return {
        "id": exchange,
        "name": record["name"],
        "enabled": record["enabled"],
        "availableSince": record["availableSince"],
        "availableChannels": list(record["availableChannels"]),
        "availableSymbols": available_symbols,
        "incidentReports": copy.deepcopy(record["incidentReports"]),
        "datasets": {
            "formats": ["csv"],
            "exportedFrom": record["availableSince"],
            "exportedUntil": format_iso(horizon),
            "stats": {},
            "symbols": dataset_symbols,
        },
    }

"""A fixed, fake catalog of exchanges and instruments shaped like Tardis' metadata APIs.

Everything here is invented but plausible: tick and lot sizes, fees and listing dates
resemble the real venues so that code written against this catalog meets the same
quirks (numbers sent as strings, `changes` history, expired contracts, mid-day
listings, grouped symbols) that it will meet against Tardis.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

VENUES: tuple[str, ...] = (
    "binance",
    "binance-futures",
    "deribit",
    "bybit",
    "bybit-spot",
    "okex",
    "okex-futures",
    "okex-swap",
)

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

# Grouped symbol -> (dataset type string Tardis uses, member instrument type, data types).
GROUPED_SYMBOLS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "SPOT": ("spot", "spot", ("trades", "quotes", "book_ticker")),
    "PERPETUALS": (
        "perpetuals",
        "perpetual",
        ("trades", "quotes", "derivative_ticker", "liquidations"),
    ),
    "FUTURES": ("futures", "future", ("trades", "quotes", "derivative_ticker", "liquidations")),
    "OPTIONS": ("options", "option", ("trades", "quotes", "options_chain")),
}

# Exchange availability start and one incident report each (from, to, details).
_EXCHANGES: dict[str, tuple[str, str, str, str, str]] = {
    "binance": (
        "Binance Spot",
        "2019-03-30T00:00:00.000Z",
        "2024-01-02T10:00:00.000Z",
        "2024-01-02T11:30:00.000Z",
        "Websocket connection issues on collector side, data for all symbols may be missing.",
    ),
    "binance-futures": (
        "Binance USDT Futures",
        "2019-11-17T00:00:00.000Z",
        "2024-01-05T03:10:00.000Z",
        "2024-01-05T03:25:00.000Z",
        "Binance Futures API outage, no data received from exchange.",
    ),
    "deribit": (
        "Deribit",
        "2019-03-30T00:00:00.000Z",
        "2024-01-08T08:00:00.000Z",
        "2024-01-08T08:20:00.000Z",
        "Deribit scheduled maintenance.",
    ),
    "bybit": (
        "Bybit Derivatives",
        "2019-11-07T00:00:00.000Z",
        "2024-01-03T14:00:00.000Z",
        "2024-01-03T14:45:00.000Z",
        "Bybit websocket API returned stale order book snapshots.",
    ),
    "bybit-spot": (
        "Bybit Spot",
        "2021-12-04T00:00:00.000Z",
        "2024-01-03T14:00:00.000Z",
        "2024-01-03T14:45:00.000Z",
        "Bybit websocket API returned stale order book snapshots.",
    ),
    "okex": (
        "OKX Spot",
        "2019-08-01T00:00:00.000Z",
        "2024-01-10T20:00:00.000Z",
        "2024-01-10T20:05:00.000Z",
        "Collector restart, short gap in data.",
    ),
    "okex-futures": (
        "OKX Futures",
        "2019-08-01T00:00:00.000Z",
        "2024-01-10T20:00:00.000Z",
        "2024-01-10T20:05:00.000Z",
        "Collector restart, short gap in data.",
    ),
    "okex-swap": (
        "OKX Swap",
        "2020-03-25T00:00:00.000Z",
        "2024-01-10T20:00:00.000Z",
        "2024-01-10T20:05:00.000Z",
        "Collector restart, short gap in data.",
    ),
}

_EXPIRY_MAR24 = "2024-03-29T08:00:00.000Z"


def _instrument(
    exchange: str,
    symbol: str,
    kind: str,
    base: str,
    quote: str,
    since: str,
    tick: float | str,
    lot: float | str,
    *,
    maker: float = 0.0002,
    taker: float = 0.0004,
    inverse: bool | None = None,
    multiplier: float | str | None = None,
    settlement: str | None = None,
    expiry: str | None = None,
    strike: float | None = None,
    option_type: str | None = None,
    underlying_index: str | None = None,
    min_notional: float | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build one instrument in the GET /v1/instruments shape (absent fields omitted)."""
    if kind == "spot":
        contract_type = "spot"
    elif kind == "option":
        contract_type = f"{option_type}_option"
    else:
        contract_type = f"{'inverse' if inverse else 'linear'}_{kind}"
    instrument: dict[str, Any] = {
        "id": symbol,
        "datasetId": symbol.replace(":", "-").replace("/", "-").upper(),
        "exchange": exchange,
        "baseCurrency": base,
        "quoteCurrency": quote,
        "type": kind,
        "contractType": contract_type,
        "active": expiry is None,
        "availableSince": since,
        "availableTo": expiry,
        "expiry": expiry,
        "priceIncrement": tick,
        "amountIncrement": lot,
        "minTradeAmount": lot,
        "minNotional": min_notional,
        "makerFee": maker,
        "takerFee": taker,
        "inverse": inverse,
        "contractMultiplier": multiplier,
        "quanto": False if kind != "spot" else None,
        "settlementCurrency": settlement,
        "strikePrice": strike,
        "optionType": option_type,
        "underlyingIndex": underlying_index,
        "changes": changes,
    }
    return {key: value for key, value in instrument.items() if value is not None}


def _deribit_option(symbol: str, since: str, underlying: str) -> dict[str, Any]:
    """A Deribit option from its symbol: BASE-DDMMMYY-STRIKE-C|P, `d` as decimal point."""
    underlying_pair, _, strike_text, call_put = symbol.split("-")
    base, _, quote = underlying_pair.partition("_")
    linear = quote == "USDC"
    return _instrument(
        "deribit",
        symbol,
        "option",
        base,
        quote if linear else "USD",
        since,
        0.0001,
        1 if linear or base == "ETH" else 0.1,
        maker=0.0003,
        taker=0.0003,
        inverse=not linear,
        multiplier=1,
        settlement=quote if linear else base,
        expiry=_EXPIRY_MAR24,
        strike=float(strike_text.replace("d", ".")),
        option_type="call" if call_put == "C" else "put",
        underlying_index=underlying,
    )


_INSTRUMENTS: dict[str, list[dict[str, Any]]] = {
    "binance": [
        _instrument(
            "binance",
            "BTCUSDT",
            "spot",
            "BTC",
            "USDT",
            "2019-03-30T00:00:00.000Z",
            0.01,
            0.00001,
            maker=0.001,
            taker=0.001,
            min_notional=5,
        ),
        _instrument(
            "binance",
            "ETHUSDT",
            "spot",
            "ETH",
            "USDT",
            "2019-03-30T00:00:00.000Z",
            0.01,
            0.0001,
            maker=0.001,
            taker=0.001,
            min_notional=5,
        ),
        # Listed mid-day: the first day's file only holds data from 06:00 UTC.
        _instrument(
            "binance",
            "SOLUSDT",
            "spot",
            "SOL",
            "USDT",
            "2020-08-11T06:00:00.000Z",
            0.01,
            0.001,
            maker=0.001,
            taker=0.001,
            min_notional=5,
        ),
    ],
    "binance-futures": [
        _instrument(
            "binance-futures",
            "BTCUSDT",
            "perpetual",
            "BTC",
            "USDT",
            "2019-11-17T00:00:00.000Z",
            0.1,
            0.001,
            inverse=False,
            multiplier=1,
            settlement="USDT",
            changes=[
                {"until": "2023-06-01T00:00:00.000Z", "priceIncrement": 0.01, "takerFee": 0.0005}
            ],
        ),
        _instrument(
            "binance-futures",
            "ETHUSDT",
            "perpetual",
            "ETH",
            "USDT",
            "2019-11-27T00:00:00.000Z",
            0.01,
            0.001,
            inverse=False,
            multiplier=1,
            settlement="USDT",
        ),
        _instrument(
            "binance-futures",
            "1000PEPEUSDT",
            "perpetual",
            "1000PEPE",
            "USDT",
            "2023-05-05T00:00:00.000Z",
            0.0000001,
            1,
            inverse=False,
            multiplier=1,
            settlement="USDT",
        ),
        _instrument(
            "binance-futures",
            "BTCUSDT_240329",
            "future",
            "BTC",
            "USDT",
            "2023-12-15T00:00:00.000Z",
            0.1,
            0.001,
            inverse=False,
            multiplier=1,
            settlement="USDT",
            expiry=_EXPIRY_MAR24,
        ),
    ],
    "deribit": [
        _instrument(
            "deribit",
            "BTC-PERPETUAL",
            "perpetual",
            "BTC",
            "USD",
            "2019-03-30T00:00:00.000Z",
            0.5,
            10,
            maker=0.0,
            taker=0.0005,
            inverse=True,
            multiplier=10,
            settlement="BTC",
        ),
        _instrument(
            "deribit",
            "ETH-PERPETUAL",
            "perpetual",
            "ETH",
            "USD",
            "2019-03-30T00:00:00.000Z",
            0.05,
            1,
            maker=0.0,
            taker=0.0005,
            inverse=True,
            multiplier=1,
            settlement="ETH",
        ),
        _instrument(
            "deribit",
            "BTC-29MAR24",
            "future",
            "BTC",
            "USD",
            "2023-03-24T00:00:00.000Z",
            2.5,
            10,
            maker=0.0,
            taker=0.0005,
            inverse=True,
            multiplier=10,
            settlement="BTC",
            expiry=_EXPIRY_MAR24,
        ),
        _deribit_option("BTC-29MAR24-50000-C", "2023-09-29T00:00:00.000Z", "BTC-29MAR24"),
        _deribit_option("BTC-29MAR24-50000-P", "2023-09-29T00:00:00.000Z", "BTC-29MAR24"),
        _deribit_option("BTC-29MAR24-60000-C", "2023-09-29T00:00:00.000Z", "BTC-29MAR24"),
        _deribit_option("ETH-29MAR24-3000-C", "2023-12-01T00:00:00.000Z", "SYN.ETH-29MAR24"),
        _deribit_option(
            "XRP_USDC-29MAR24-0d55-C", "2024-01-05T00:00:00.000Z", "SYN.XRP_USDC-29MAR24"
        ),
        _instrument(
            "deribit",
            "BTC_USDC",
            "spot",
            "BTC",
            "USDC",
            "2022-10-01T00:00:00.000Z",
            1,
            0.0001,
            maker=0.0,
            taker=0.0,
        ),
        _instrument(
            "deribit",
            "ETH_USDC",
            "spot",
            "ETH",
            "USDC",
            "2022-10-01T00:00:00.000Z",
            0.1,
            0.001,
            maker=0.0,
            taker=0.0,
        ),
    ],
    "bybit": [
        _instrument(
            "bybit",
            "BTCUSDT",
            "perpetual",
            "BTC",
            "USDT",
            "2020-03-25T00:00:00.000Z",
            0.1,
            0.001,
            maker=0.0001,
            taker=0.0006,
            inverse=False,
            multiplier=1,
            settlement="USDT",
        ),
        _instrument(
            "bybit",
            "ETHUSDT",
            "perpetual",
            "ETH",
            "USDT",
            "2020-10-21T00:00:00.000Z",
            0.01,
            0.01,
            maker=0.0001,
            taker=0.0006,
            inverse=False,
            multiplier=1,
            settlement="USDT",
        ),
        _instrument(
            "bybit",
            "BTCUSD",
            "perpetual",
            "BTC",
            "USD",
            "2019-11-07T00:00:00.000Z",
            0.5,
            1,
            maker=0.0001,
            taker=0.0006,
            inverse=True,
            multiplier=1,
            settlement="BTC",
        ),
        # Bybit's dated inverse futures carry a month code: H = March.
        _instrument(
            "bybit",
            "BTCUSDH24",
            "future",
            "BTC",
            "USD",
            "2023-09-29T00:00:00.000Z",
            "0.5",
            "1",
            maker=0.0001,
            taker=0.0006,
            inverse=True,
            multiplier="1",
            settlement="BTC",
            expiry=_EXPIRY_MAR24,
        ),
    ],
    "bybit-spot": [
        _instrument(
            "bybit-spot",
            "BTCUSDT",
            "spot",
            "BTC",
            "USDT",
            "2021-12-04T00:00:00.000Z",
            0.01,
            0.000001,
            maker=0.001,
            taker=0.001,
        ),
        _instrument(
            "bybit-spot",
            "ETHUSDT",
            "spot",
            "ETH",
            "USDT",
            "2021-12-04T00:00:00.000Z",
            0.01,
            0.00001,
            maker=0.001,
            taker=0.001,
        ),
    ],
    # OKX sends its increments as strings; consumers must coerce them.
    "okex": [
        _instrument(
            "okex",
            "BTC-USDT",
            "spot",
            "BTC",
            "USDT",
            "2019-08-01T00:00:00.000Z",
            "0.1",
            "0.00000001",
            maker=0.0008,
            taker=0.001,
        ),
        _instrument(
            "okex",
            "ETH-USDT",
            "spot",
            "ETH",
            "USDT",
            "2019-08-01T00:00:00.000Z",
            "0.01",
            "0.000001",
            maker=0.0008,
            taker=0.001,
        ),
    ],
    "okex-swap": [
        _instrument(
            "okex-swap",
            "BTC-USDT-SWAP",
            "perpetual",
            "BTC",
            "USDT",
            "2020-03-25T00:00:00.000Z",
            "0.1",
            "1",
            maker=0.0002,
            taker=0.0005,
            inverse=False,
            multiplier="0.01",
            settlement="USDT",
        ),
        _instrument(
            "okex-swap",
            "ETH-USDT-SWAP",
            "perpetual",
            "ETH",
            "USDT",
            "2020-03-25T00:00:00.000Z",
            "0.01",
            "1",
            maker=0.0002,
            taker=0.0005,
            inverse=False,
            multiplier="0.1",
            settlement="USDT",
        ),
    ],
    "okex-futures": [
        _instrument(
            "okex-futures",
            "BTC-USD-240329",
            "future",
            "BTC",
            "USD",
            "2023-12-15T00:00:00.000Z",
            "0.1",
            "1",
            maker=0.0002,
            taker=0.0005,
            inverse=True,
            multiplier="100",
            settlement="BTC",
            expiry=_EXPIRY_MAR24,
        ),
    ],
}


def parse_iso(text: str) -> datetime:
    """Parse a Tardis ISO timestamp ("2019-03-30T00:00:00.000Z") into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_iso(moment: datetime) -> str:
    """Format an aware (or naive = UTC) datetime the way Tardis does, millisecond precision."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day_start(day: date) -> datetime:
    """Midnight UTC starting `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


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


def grouped_members(exchange: str, grouped_symbol: str) -> list[dict[str, Any]]:
    """Instruments whose rows a grouped symbol (SPOT, PERPETUALS, FUTURES, OPTIONS) file carries."""
    _check_exchange(exchange)
    member_type = GROUPED_SYMBOLS[grouped_symbol][1]
    return [copy.deepcopy(item) for item in _INSTRUMENTS[exchange] if item["type"] == member_type]


def _grouped_symbols(exchange: str) -> list[str]:
    kinds = {item["type"] for item in _INSTRUMENTS[exchange]}
    return [name for name, (_, member_type, _) in GROUPED_SYMBOLS.items() if member_type in kinds]


def symbol_data_types(exchange: str, symbol: str) -> tuple[str, ...]:
    """Data types Tardis publishes for (exchange, symbol), grouped symbols included."""
    _check_exchange(exchange)
    if symbol in GROUPED_SYMBOLS:
        if symbol not in _grouped_symbols(exchange):
            raise ValueError(f"unknown symbol {symbol!r} on {exchange}")
        return GROUPED_SYMBOLS[symbol][2]
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
    name, since, incident_from, incident_to, incident_details = _EXCHANGES[exchange]
    horizon = exported_until if exported_until.tzinfo else exported_until.replace(tzinfo=UTC)
    available_symbols: list[dict[str, Any]] = []
    dataset_symbols: list[dict[str, Any]] = []
    for grouped in _grouped_symbols(exchange):
        grouped_since, _ = availability(exchange, grouped)
        dataset_symbols.append(
            {
                "id": grouped,
                "type": GROUPED_SYMBOLS[grouped][0],
                "availableSince": format_iso(grouped_since),
                "dataTypes": list(GROUPED_SYMBOLS[grouped][2]),
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
        "name": name,
        "enabled": True,
        "availableSince": since,
        "availableChannels": [],
        "availableSymbols": available_symbols,
        "incidentReports": [
            {
                "from": incident_from,
                "to": incident_to,
                "status": "resolved",
                "details": incident_details,
            }
        ],
        "datasets": {
            "formats": ["csv"],
            "exportedFrom": since,
            "exportedUntil": format_iso(horizon),
            "stats": {},
            "symbols": dataset_symbols,
        },
    }

"""Per Tardis data type: the exact CSV header, the default volume and the message timing profile."""

from __future__ import annotations

from dataclasses import dataclass


def _book_header(levels: int) -> tuple[str, ...]:
    columns: list[str] = []
    for level in range(levels):
        columns += [
            f"asks[{level}].price",
            f"asks[{level}].amount",
            f"bids[{level}].price",
            f"bids[{level}].amount",
        ]
    return tuple(columns)


_PREFIX = ("exchange", "symbol", "timestamp", "local_timestamp")
HEADERS: dict[str, tuple[str, ...]] = {
    "trades": (*_PREFIX, "id", "side", "price", "amount"),
    "book_snapshot_5": (*_PREFIX, *_book_header(5)),
    "book_snapshot_25": (*_PREFIX, *_book_header(25)),
    "quotes": (*_PREFIX, "ask_amount", "ask_price", "bid_price", "bid_amount"),
    "book_ticker": (*_PREFIX, "ask_amount", "ask_price", "bid_price", "bid_amount"),
    "derivative_ticker": (
        *_PREFIX,
        "funding_timestamp",
        "funding_rate",
        "predicted_funding_rate",
        "open_interest",
        "last_price",
        "index_price",
        "mark_price",
    ),
    "liquidations": (*_PREFIX, "id", "side", "price", "amount"),
    "options_chain": (
        *_PREFIX,
        "type",
        "strike_price",
        "expiration",
        "open_interest",
        "last_price",
        "bid_price",
        "bid_amount",
        "bid_iv",
        "ask_price",
        "ask_amount",
        "ask_iv",
        "mark_price",
        "mark_iv",
        "underlying_index",
        "underlying_price",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
    ),
    "incremental_book_L2": (*_PREFIX, "is_snapshot", "side", "price", "amount"),
}

# Rows per symbol and exchange day; for grouped symbols, per member instrument.
DEFAULT_ROWS_PER_DAY: dict[str, int] = {
    "trades": 2_000,
    "book_snapshot_5": 1_000,
    "book_snapshot_25": 1_000,
    "quotes": 2_000,
    "book_ticker": 2_000,
    "derivative_ticker": 500,
    "liquidations": 50,
    "options_chain": 50,
    "incremental_book_L2": 3_000,
}


@dataclass(frozen=True)
class Profile:
    """How a data type's rows arrive: bursts of rows per message, messages straddling midnight."""

    burst_share: float  # share of exchange messages that carry several rows at one timestamp
    midnight_groups: int  # messages forced into the last ms of a day, so they land in the next file


PROFILES: dict[str, Profile] = {
    "trades": Profile(0.08, 3),
    "book_snapshot_5": Profile(0.0, 1),
    "book_snapshot_25": Profile(0.0, 1),
    "quotes": Profile(0.0, 1),
    "book_ticker": Profile(0.0, 1),
    "derivative_ticker": Profile(0.0, 1),
    "liquidations": Profile(0.05, 0),
    "options_chain": Profile(0.0, 0),
    "incremental_book_L2": Profile(0.3, 2),
}

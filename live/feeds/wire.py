"""What the venue protocols share: the frame result, time units and tick rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from live.events import Tick
from live.feeds.symbols import key_of
from market_assets.ticks.columns import TICK_DATASETS

# Epoch times at or above this are µs (2.0e14 µs is 1976; 2.0e14 ms is the year 8300).
_MICROS_FROM = 10**14
BOOK_LEVELS = 5
# Per data type, the columns after instrument_key, symbol, timestamp, local_timestamp.
_VALUE_COLUMNS = {name: tuple(dataset.names[4:]) for name, dataset in TICK_DATASETS.items()}


class FeedError(RuntimeError):
    """A venue refused a request (bad subscription, bad credentials); the message says which."""


@dataclass
class FrameResult:
    """What one received frame gives: ticks, requests to send back, and whether it confirms
    the subscriptions."""

    ticks: list[Tick] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    subscribed: bool = False


def to_us(value: object) -> int:
    """An exchange epoch time (ms by default, µs where the connection asked for it) in µs."""
    number = int(value)  # type: ignore[call-overload]
    return number if number >= _MICROS_FROM else number * 1000


def optional_float(value: object) -> float | None:
    """A number, or None where the venue sends none (null, "", missing)."""
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]


def tick(
    data_type: str, venue: str, symbol: str, timestamp: int, local_us: int, values: dict
) -> Tick:
    """A Tick whose row has exactly the dataset's columns, in its order (absent: None)."""
    row: dict[str, object] = {
        "instrument_key": key_of(venue, symbol),
        "symbol": symbol,
        "timestamp": timestamp,
        "local_timestamp": local_us,
    }
    for name in _VALUE_COLUMNS[data_type]:
        row[name] = values.get(name)
    return Tick(data_type, venue, row)


def book_values(bids: list, asks: list) -> dict[str, object]:
    """The book_snapshot_5 columns of the best five levels of [price, amount] lists."""
    values: dict[str, object] = {}
    for side, levels in (("bids", bids), ("asks", asks)):
        for level, (price, amount) in enumerate(levels[:BOOK_LEVELS]):
            values[f"{side}[{level}].price"] = float(price)
            values[f"{side}[{level}].amount"] = float(amount)
    return values

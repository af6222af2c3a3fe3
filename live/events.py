"""What the live feeds yield: ticks in the raw tick tables' columns, and feed outages.

The contract between the feed client (`live.feeds`) and everything that builds bars from
it. A `Tick.row` holds exactly the columns of `market_assets.ticks.columns`' dataset for
its `data_type` (same names, same units; every timestamp an int of µs since the epoch,
UTC), `instrument_key` and `symbol` (the Tardis symbol) included, so a live row is a row
of the lake's tick table. `timestamp` is the exchange's event time as Tardis records it;
`local_timestamp` is when this process received the message.

A `Disconnected` is yielded once when a venue's connection is lost (`at_us`: when the
loss was noticed); a `Reconnected` once the venue is subscribed again (`at_us`: when the
first subscription was confirmed; `down_since_us`: the matching `Disconnected.at_us`).
Ticks between them were never received.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Disconnected", "LiveEvent", "Reconnected", "Tick"]


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick: a row of the Tardis data type's raw tick table on `venue`."""

    data_type: str  # a Tardis data type: "trades", "quotes", "derivative_ticker", "book_snapshot_5"
    venue: str  # Tardis exchange id
    row: dict[str, object]


@dataclass(frozen=True, slots=True)
class Disconnected:
    """`venue`'s feed was lost at `at_us` (µs since the epoch, UTC)."""

    venue: str
    at_us: int


@dataclass(frozen=True, slots=True)
class Reconnected:
    """`venue`'s feed is subscribed again at `at_us`, after the outage begun at `down_since_us`."""

    venue: str
    at_us: int
    down_since_us: int


LiveEvent = Tick | Disconnected | Reconnected

"""What a live feed subscribes to: per venue, Tardis symbols and the live data types.

`feeds_from_universe` reads the universe (market_assets/universe.py): a venue's explicit
`symbols` with the venue's data types that a live feed carries (trades, quotes,
book_snapshot_5, derivative_ticker; the derivative ticker for derivatives only). Filter
rules (e.g. the options chain within an expiry horizon) select from instrument
definitions, which a live feed does not resolve; they are left to the batch graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from live.feeds.symbols import instrument_kind
from market_assets.universe import Universe

LIVE_DATA_TYPES: tuple[str, ...] = ("trades", "quotes", "book_snapshot_5", "derivative_ticker")
SUPPORTED_VENUES: tuple[str, ...] = ("binance", "binance-futures", "deribit")


@dataclass(frozen=True)
class VenueFeed:
    """One venue's subscriptions: Tardis `symbols` and Tardis `data_types`."""

    venue: str
    symbols: tuple[str, ...]
    data_types: tuple[str, ...] = LIVE_DATA_TYPES

    def __post_init__(self) -> None:
        if self.venue not in SUPPORTED_VENUES:
            raise ValueError(
                f"no live feed for venue {self.venue!r}; supported: {', '.join(SUPPORTED_VENUES)}"
            )
        unknown = set(self.data_types) - set(LIVE_DATA_TYPES)
        if unknown:
            raise ValueError(
                f"{self.venue}: live feeds carry {', '.join(LIVE_DATA_TYPES)}; "
                f"not {', '.join(sorted(unknown))}"
            )

    def wants(self, data_type: str, symbol: str) -> bool:
        """Whether `data_type` of `symbol` is subscribed (no derivative ticker for spot)."""
        if data_type not in self.data_types:
            return False
        return data_type != "derivative_ticker" or instrument_kind(self.venue, symbol) != "spot"


VenuesConfig = Iterable[VenueFeed] | Mapping[str, Sequence[str]]


def venue_feeds(config: VenuesConfig) -> list[VenueFeed]:
    """`config` as VenueFeeds: VenueFeeds as they are, {venue: [symbol, ...]} with every
    live data type."""
    if isinstance(config, Mapping):
        return [VenueFeed(venue, tuple(symbols)) for venue, symbols in config.items()]
    return list(config)


def feeds_from_universe(universe: Universe) -> list[VenueFeed]:
    """The live subscriptions of `universe`'s venues that have a live feed (see module doc)."""
    feeds = []
    for venue in universe.venue_ids:
        if venue not in SUPPORTED_VENUES:
            continue
        selection = universe.for_venue(venue)
        data_types = tuple(t for t in LIVE_DATA_TYPES if t in selection.data_types)
        if selection.symbols and data_types:
            feeds.append(VenueFeed(venue, tuple(selection.symbols), data_types))
    return feeds

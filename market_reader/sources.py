"""Which lake files hold the rows a read asks for.

Ticks follow the day window (``resources.lake_handles.DayWindow``): the rows stamped in a
range sit in the files of every day it touches and of the day after, since Tardis cuts
files by receive time. Bars (candles, features) and definitions are stamped inside their
partition's day.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from market_reader.layout import SINGLE_FILE, Asset, tick_asset, tick_file, venue_of
from market_reader.scan import Source
from resources.lake_handles import DayWindow, days_between


def tick_sources(
    data_type: str, instrument_key: str, ranges: Iterable[tuple[datetime, datetime]]
) -> tuple[Asset, list[Source], list[str] | None]:
    """(``ticks/{data_type}``, the files holding ``instrument_key``'s ticks stamped in
    ``ranges``, oldest first, and the instruments to keep of their rows: the key for a
    grouped file, None for the instrument's own file)."""
    asset = tick_asset(data_type)
    venue = venue_of(instrument_key)
    name, grouped = tick_file(data_type, instrument_key)
    required: set[str] = set()
    following: set[str] = set()
    for start, end in ranges:
        days, after = DayWindow.days_holding(start, end)
        required.update(days)
        following.add(after)
    sources = [
        Source(asset, day, venue, name, instrument_key, required=day in required)
        for day in sorted(required | following)
    ]
    return asset, sources, [instrument_key] if grouped else None


def bar_sources(
    asset: Asset, instrument_keys: Sequence[str], ranges: Iterable[tuple[datetime, datetime]]
) -> list[Source]:
    """The partitions of ``asset`` holding the bars of ``instrument_keys`` stamped in
    ``ranges``: every day a range touches, for every venue of the keys."""
    days = sorted({day for start, end in ranges for day in days_between(start, end)})
    venues = sorted({venue_of(key) for key in instrument_keys})
    return [Source(asset, day, venue, SINGLE_FILE) for day in days for venue in venues]

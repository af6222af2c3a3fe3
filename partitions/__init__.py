"""Partition definitions shared by every asset: UTC day × Tardis venue.

Dagster sorts multi-partition dimensions by name, so a key reads
``2024-01-01|binance-futures`` (date first, then venue).
"""

from datetime import date

from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

# Tardis exchange ids the platform ingests.
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

# Tardis' historical data starts on 2019-03-30 for its oldest venues.
FIRST_DAY = "2019-03-30"

daily_partitions = DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
venue_partitions = StaticPartitionsDefinition(list(VENUES))
market_partitions = MultiPartitionsDefinition({"date": daily_partitions, "venue": venue_partitions})


def market_partition_key(day: date | str, venue: str) -> MultiPartitionKey:
    """The partition key of one (UTC day, venue); ``day`` as a date or ``YYYY-MM-DD``."""
    return MultiPartitionKey({"date": str(day), "venue": venue})

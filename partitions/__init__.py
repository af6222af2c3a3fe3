"""Partition definitions shared by every asset: UTC day × Tardis venue, and candle timeframes.

The venue dimension is the universe's venues (``market_partitions(venues)``, bound where
the Definitions are assembled): the partitions are what the user ingests.

Dagster sorts multi-partition dimensions by name, so a key reads
``2024-01-01|binance-futures`` (date first, then venue).
"""

import warnings
from collections.abc import Sequence
from datetime import date

from dagster import (
    BetaWarning,
    DailyPartitionsDefinition,
    DimensionPartitionMapping,
    IdentityPartitionMapping,
    MultiPartitionKey,
    MultiPartitionMapping,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    TimeWindowPartitionMapping,
)

# Tardis' historical data starts on 2019-03-30 for its oldest venues.
FIRST_DAY = "2019-03-30"

# Candle timeframes: name -> seconds. Every one divides a day and is a multiple of the
# smallest, so every bar close of every timeframe is on the 15-second grid.
TIMEFRAMES: dict[str, int] = {
    "15s": 15,
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3_600,
    "4h": 14_400,
    "1d": 86_400,
}

daily_partitions = DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")


def market_partitions(venues: Sequence[str]) -> MultiPartitionsDefinition:
    """UTC day × venue, for the venues the universe ingests (Tardis exchange ids)."""
    if not venues:
        raise ValueError("the universe names no venue: there is nothing to partition")
    return MultiPartitionsDefinition(
        {"date": daily_partitions, "venue": StaticPartitionsDefinition(sorted(venues))}
    )


# The next-day mapping below is the documented way to read a neighbouring partition;
# Dagster still labels its parts beta, and repeating that on every import helps nobody.
warnings.filterwarnings("ignore", message=".*MultiPartitionMapping", category=BetaWarning)
warnings.filterwarnings(
    "ignore", message=".*allow_nonexistent_upstream_partitions", category=BetaWarning
)

# Day D of a venue reads its ticks of D and D+1: Tardis cuts files by receive time, so
# the last trades of D sit in D+1's file. D+1 is left out while it is not a partition yet
# (the day is not over); the candles say so and are rebuilt once D+1's ticks land.
WITH_NEXT_DAY = MultiPartitionMapping(
    {
        "date": DimensionPartitionMapping(
            "date",
            TimeWindowPartitionMapping(
                start_offset=0, end_offset=1, allow_nonexistent_upstream_partitions=True
            ),
        ),
        "venue": DimensionPartitionMapping("venue", IdentityPartitionMapping()),
    }
)


# MFT feature timeframes: every candle timeframe but the 15-second one.
FEATURE_TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")


def with_previous_days(days: int) -> MultiPartitionMapping:
    """Day D of a venue reads days D − ``days`` … D of an upstream asset (a look-back);
    days before the first partition are simply not there."""
    return MultiPartitionMapping(
        {
            "date": DimensionPartitionMapping(
                "date",
                TimeWindowPartitionMapping(
                    start_offset=-days, end_offset=0, allow_nonexistent_upstream_partitions=True
                ),
            ),
            "venue": DimensionPartitionMapping("venue", IdentityPartitionMapping()),
        }
    )


def market_partition_key(day: date | str, venue: str) -> MultiPartitionKey:
    """The partition key of one (UTC day, venue); ``day`` as a date or ``YYYY-MM-DD``."""
    return MultiPartitionKey({"date": str(day), "venue": venue})


def venues_of(partitions: MultiPartitionsDefinition) -> list[str]:
    """The venue dimension of a date × venue partitions definition."""
    return list(partitions.get_partitions_def_for_dimension("venue").get_partition_keys())

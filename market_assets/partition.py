"""The (day, venue) of the partition an asset or check is running for."""

from datetime import date

from dagster import AssetCheckExecutionContext, AssetExecutionContext, MultiPartitionKey


def day_and_venue(context: AssetExecutionContext | AssetCheckExecutionContext) -> tuple[date, str]:
    """The UTC day and Tardis venue of the single partition being materialised."""
    key = context.partition_key
    if not isinstance(key, MultiPartitionKey):
        raise ValueError(f"expected a date|venue partition key, got {key!r}")
    dimensions = key.keys_by_dimension
    return date.fromisoformat(dimensions["date"]), dimensions["venue"]

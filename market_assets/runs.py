"""How a step meets its partition: the (day, venue) it runs for, one partition per run, retries."""

import warnings
from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetExecutionContext,
    BackfillPolicy,
    BetaWarning,
    MultiPartitionKey,
    RetryPolicy,
)

# Backfill policies are the documented way to say "one partition per run"; Dagster still
# labels the parameter beta, and repeating that on every import helps nobody.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)

# A backfill launches one run per (day, venue): runs are what the queue, the per-venue
# limits and the Kubernetes launcher schedule, and a partition is written whole by one run.
ONE_PARTITION_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)

# One more try after a pause for what may pass (an endpoint that did not answer, a lake
# write that failed). Tardis files retry within their own deadline, so a file that kept
# failing, and refusals (no key, no file, bad content, a missing upstream partition), are
# failures with allow_retries=False that this policy never repeats.
TARDIS_RETRY = RetryPolicy(max_retries=1, delay=15)


def day_and_venue(context: AssetExecutionContext | AssetCheckExecutionContext) -> tuple[date, str]:
    """The UTC day and Tardis venue of the single partition being materialised."""
    key = context.partition_key
    if not isinstance(key, MultiPartitionKey):
        raise ValueError(f"expected a date|venue partition key, got {key!r}")
    dimensions = key.keys_by_dimension
    return date.fromisoformat(dimensions["date"]), dimensions["venue"]

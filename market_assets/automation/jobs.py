"""The jobs the sensors request and backfills run, one run per (day, venue)."""

from dagster import AssetSelection, define_asset_job, in_process_executor

# Everything that comes straight from Tardis for a (day, venue): requested as one run.
INGEST_SELECTION = AssetSelection.assets("instrument_definitions") | AssetSelection.groups("ticks")

daily_ingest_job = define_asset_job(
    "daily_ingest",
    selection=INGEST_SELECTION,
    description="Instrument definitions and every raw tick type of one (day, venue).",
    # The run is the unit of parallelism (one per day and venue, queued and pooled); its
    # thirty-odd steps run in one process instead of paying Dagster's start-up each.
    executor_def=in_process_executor,
)

# What is computed from the ticks: candles, features and their warehouse tables. The
# automation sensor keeps them current; this job is for backfilling them (one run per day
# and venue, in date order: a feature day reads the candles of the days before it).
DERIVED_SELECTION = AssetSelection.groups("candles", "features", "warehouse")
derived_job = define_asset_job(
    "candles_and_warehouse",
    selection=DERIVED_SELECTION,
    description=(
        "Candles and MFT features of every timeframe and their warehouse tables for one "
        "(day, venue)."
    ),
    executor_def=in_process_executor,
)

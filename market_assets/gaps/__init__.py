"""Gap report: which (day, venue) partitions are materialised, missing, failed or failing
their checks, read from the Dagster instance. ``python -m market_assets.gaps --help``."""

"""Raw Tardis ticks per (day, venue), one Parquet file per instrument."""

"""Everything that talks to the outside world: the Tardis source, the universe file, the
Parquet lake and the warehouse. ``resources.bindings`` binds them from the environment.

Importing this package imports nothing else, so the lake's modules (``resources.lake``,
``resources.lake_handles``) load without Dagster.
"""

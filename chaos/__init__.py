"""The fault matrix: each fault a user's bad day can bring, run against the real components.

``python -m chaos`` (``make chaos``) starts the local Tardis server, the GCS emulator
behind a fault-injecting proxy, DuckDB and the BigQuery emulator, runs the ``dagster`` CLI
in subprocesses the way a user does, injects one fault per row and prints a table: the
fault, the outcome expected and observed, the time to recover or fail, and for the
partition the rows lost and duplicated (against the generated source files, after the
user's rerun when the row ends in a failure) and the partial files a reader could see
right after the fault.
"""

"""Candles checked against an independent, plain-pandas reference.

The reference below reimplements the written semantics (market_assets/candles/bars.py and
options.py docstrings, ARCHITECTURE.md "Candles") bar by bar with pandas group-bys and
as-of joins, without the project's numpy helpers, on small synthetic days that contain
the awkward cases: late trades in the next day's file, rows of the day's file stamped the
day before, exchange timestamps out of order within a file, equal timestamps, empty bars,
instruments without book or ticker data, a book with missing levels and a time before its
first snapshot, ticker rows with null fields, and an options chain whose chosen expiry
changes during the day.
"""

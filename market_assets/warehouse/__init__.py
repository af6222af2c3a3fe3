"""Warehouse tables: the candles of every timeframe as SQL tables, one per timeframe."""

"""Tardis market data as a Dagster asset graph: ``dagster ... -m market_assets``."""

from market_assets.definitions import defs

__all__ = ["defs"]

"""Tardis market data as a Dagster asset graph: ``dagster ... -m market_assets``.

Importing this package, or any pure module inside it (``market_assets.candles.bars``...),
builds nothing: ``defs`` is assembled from the environment on first access, which is what
Dagster's loader does.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "defs":
        from market_assets.definitions import defs

        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # Dagster's loader finds the code location among the names the package lists.
    return sorted([*globals(), "defs"])

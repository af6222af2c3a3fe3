"""Everything that talks to the outside world, bound from the environment contract.

The resource keys are the same everywhere; only what they are bound to changes:
``tardis`` (HTTP or mirror) and ``io_manager`` (the Parquet lake, local or ``gs://``).
"""

import os
from typing import Any

from dagster import EnvVar

from resources.io_manager import LakeDays, LakeIOManager, LakePartition
from resources.lake import LakeFile, ParquetLake, TickStream
from resources.tardis import (
    DEFAULT_API_ENDPOINT,
    DEFAULT_DATASETS_ENDPOINT,
    SourceFile,
    TardisError,
    TardisSource,
)

__all__ = [
    "LakeDays",
    "LakeFile",
    "LakeIOManager",
    "LakePartition",
    "ParquetLake",
    "SourceFile",
    "TardisError",
    "TardisSource",
    "TickStream",
    "resources_from_env",
]


def resources_from_env() -> dict[str, Any]:
    """Resources for the current environment (see the contract in ARCHITECTURE.md)."""
    return {
        "tardis": TardisSource(
            # Read at run time through EnvVar so the key never shows in config or logs.
            api_key=EnvVar("TARDIS_API_KEY") if os.environ.get("TARDIS_API_KEY") else "",
            datasets_endpoint=os.environ.get("TARDIS_DATASETS_ENDPOINT")
            or DEFAULT_DATASETS_ENDPOINT,
            api_endpoint=os.environ.get("TARDIS_API_ENDPOINT") or DEFAULT_API_ENDPOINT,
            mirror=os.environ.get("TARDIS_MIRROR", ""),
        ),
        "io_manager": LakeIOManager(root=os.environ.get("MARKET_DATA_ROOT") or "./data"),
    }

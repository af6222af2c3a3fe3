"""Everything that talks to the outside world, bound from the environment contract.

The resource keys are the same everywhere; only what they are bound to changes:
``tardis`` (HTTP or mirror), ``io_manager`` (the Parquet lake, local or ``gs://``) and
``warehouse_io_manager`` (DuckDB or BigQuery).
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
from resources.warehouse import warehouse_from_url

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
    lake_root = os.environ.get("MARKET_DATA_ROOT") or "./data"
    return {
        "tardis": TardisSource(
            # Read at run time through EnvVar so the key never shows in config or logs.
            api_key=EnvVar("TARDIS_API_KEY") if os.environ.get("TARDIS_API_KEY") else "",
            datasets_endpoint=os.environ.get("TARDIS_DATASETS_ENDPOINT")
            or DEFAULT_DATASETS_ENDPOINT,
            api_endpoint=os.environ.get("TARDIS_API_ENDPOINT") or DEFAULT_API_ENDPOINT,
            mirror=os.environ.get("TARDIS_MIRROR", ""),
        ),
        "io_manager": LakeIOManager(root=lake_root),
        "warehouse_io_manager": warehouse_from_url(
            os.environ.get("MARKET_DATA_WAREHOUSE", ""), lake_root
        ),
    }

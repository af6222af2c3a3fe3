"""The resources bound from the environment contract.

The resource keys are the same everywhere; only what they are bound to changes:
``tardis`` (HTTP or mirror), ``universe`` (the universe file), ``io_manager`` (the Parquet
lake, local or ``gs://``) and ``warehouse_io_manager`` (DuckDB or BigQuery).
"""

from typing import Any

from dagster import EnvVar

from resources.environment import Environment
from resources.io_manager import LakeIOManager
from resources.tardis import TardisSource
from resources.universe import UniverseResource
from resources.warehouse import warehouse_from_url


def build_resources(environment: Environment) -> dict[str, Any]:
    """Resources for ``environment`` (see the contract in docs/ARCHITECTURE.md)."""
    anonymous_gcs = bool(environment.storage_emulator_host)
    return {
        "tardis": TardisSource(
            # Read at run time through EnvVar so the key never shows in config or logs.
            api_key=EnvVar("TARDIS_API_KEY") if environment.tardis_api_key_set else "",
            datasets_endpoint=environment.tardis_datasets_endpoint,
            api_endpoint=environment.tardis_api_endpoint,
            mirror=environment.tardis_mirror,
            anonymous_gcs=anonymous_gcs,
            deadline_seconds=environment.tardis_file_deadline_seconds,
        ),
        "universe": UniverseResource(path=environment.universe_path),
        "io_manager": LakeIOManager(root=environment.lake_root, anonymous_gcs=anonymous_gcs),
        "warehouse_io_manager": warehouse_from_url(
            environment.warehouse_url,
            environment.lake_root,
            bigquery_emulator_host=environment.bigquery_emulator_host,
        ),
    }

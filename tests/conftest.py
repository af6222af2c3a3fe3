"""Shared fixtures: a local Tardis-compatible server, a temporary lake, bound resources."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gcp_storage_emulator.server import create_server

from resources.io_manager import LakeIOManager
from resources.tardis import TardisSource
from resources.universe import UniverseResource
from resources.warehouse import DEFAULT_DUCKDB_FILE, DuckDBWarehouseIOManager
from tardis_local.server import TardisServer
from tests import emulators

# Every day the tests touch is exported; the 3rd of January's ETHUSDT trades are empty.
EXPORTED_UNTIL = datetime(2024, 1, 10, tzinfo=UTC)
EMPTY_FILES = frozenset({("binance", "trades", "ETHUSDT", "2024-01-03")})
API_KEY = "test-key"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The contract's variables must come from the test, never from the developer's shell.
    for name in list(os.environ):
        if name.startswith(("TARDIS_", "MARKET_DATA_", "BIGQUERY_EMULATOR_")):
            monkeypatch.delenv(name)


@pytest.fixture
def tardis_server() -> Iterator[TardisServer]:
    with TardisServer(exported_until=EXPORTED_UNTIL, empty_files=set(EMPTY_FILES)) as server:
        yield server


@pytest.fixture
def lake_root(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def bind_resources(
    server: TardisServer,
    lake_root: Path | str,
    *,
    api_key: str = API_KEY,
    timeout_seconds: int = 5,
    deadline_seconds: int = 120,
) -> dict:
    """Resources as production binds them, pointed at the local server and lake (a
    ``gs://`` one on the GCS emulator), the bundled universe, and the embedded DuckDB
    warehouse beside a local lake (in a temporary folder otherwise)."""
    local = not str(lake_root).startswith("gs://")
    folder = Path(lake_root) if local else Path(tempfile.mkdtemp(prefix="warehouse-"))
    return {
        "tardis": TardisSource(
            api_key=api_key,
            datasets_endpoint=server.datasets_endpoint,
            api_endpoint=server.api_endpoint,
            timeout_seconds=timeout_seconds,
            deadline_seconds=deadline_seconds,
        ),
        "universe": UniverseResource(),
        "io_manager": LakeIOManager(root=str(lake_root), anonymous_gcs=not local),
        "warehouse_io_manager": DuckDBWarehouseIOManager(
            database=str(folder / DEFAULT_DUCKDB_FILE)
        ),
    }


@contextmanager
def gcs_emulator(bucket: str = "market-data") -> Iterator[str]:
    """gcp-storage-emulator in memory on a free port, with the variables its clients need
    set while it runs (gcsfs reads the namespace switch on import); yields the bucket."""
    port = emulators.free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
        env.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        try:
            yield bucket
        finally:
            server.stop()


BIGQUERY_PROJECT = "test-project"


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint of a local BigQuery emulator, for ``BIGQUERY_EMULATOR_HOST``."""
    home = tmp_path_factory.mktemp("bigquery-home")
    with emulators.bigquery_emulator(home, BIGQUERY_PROJECT) as endpoint:
        yield endpoint

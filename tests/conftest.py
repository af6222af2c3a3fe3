"""Shared fixtures: a local Tardis-compatible server, a temporary lake, bound resources."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from resources import LakeIOManager, TardisSource
from tardis_local.server import TardisServer

# Every day the tests touch is exported; the 3rd of January's ETHUSDT trades are empty.
EXPORTED_UNTIL = datetime(2024, 1, 10, tzinfo=UTC)
EMPTY_FILES = frozenset({("binance", "trades", "ETHUSDT", "2024-01-03")})
API_KEY = "test-key"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The contract's variables must come from the test, never from the developer's shell.
    for name in list(os.environ):
        if name.startswith(("TARDIS_", "MARKET_DATA_")):
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
    """Resources as production binds them, pointed at the local server and lake."""
    return {
        "tardis": TardisSource(
            api_key=api_key,
            datasets_endpoint=server.datasets_endpoint,
            api_endpoint=server.api_endpoint,
            timeout_seconds=timeout_seconds,
            deadline_seconds=deadline_seconds,
        ),
        "io_manager": LakeIOManager(root=str(lake_root)),
    }

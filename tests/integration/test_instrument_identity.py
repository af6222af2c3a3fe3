"""A lake built with a Tardis API key and one built without hold the same keys."""

from pathlib import Path

import pyarrow.compute as pc
from dagster import AssetKey, materialize

from market_assets.definitions import defs
from resources.lake import ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import API_KEY, EXPORTED_UNTIL, bind_resources

# The first day of a month downloads without a key.
DAY, VENUE = "2024-01-01", "deribit"
ASSETS = [
    defs.get_assets_def("instrument_definitions"),
    defs.get_assets_def(AssetKey(["ticks", "trades"])),
    defs.get_assets_def(AssetKey(["ticks", "options_chain"])),
]


def keys_in(lake: Path, asset_path: tuple[str, ...]) -> list[str]:
    table = ParquetLake(str(lake)).read(asset_path, DAY, VENUE)
    return sorted(pc.unique(table["instrument_key"].cast("string")).to_pylist())


def test_keys_do_not_depend_on_the_api_key(tmp_path: Path) -> None:
    lakes = {"with": tmp_path / "with-key", "without": tmp_path / "without-key"}
    # As on Tardis, the instruments API answers only with a key.
    with TardisServer(exported_until=EXPORTED_UNTIL, instruments_require_key=True) as server:
        for name, lake in lakes.items():
            key = API_KEY if name == "with" else ""
            resources = bind_resources(server, lake, api_key=key)
            result = materialize(ASSETS, resources=resources, partition_key=f"{DAY}|{VENUE}")
            assert result.success, name

    definitions = {
        name: ParquetLake(str(lake)).read(("instrument_definitions",), DAY, VENUE)
        for name, lake in lakes.items()
    }
    assert set(definitions["with"]["metadata_source"].to_pylist()) == {"instruments"}
    assert set(definitions["without"]["metadata_source"].to_pylist()) == {"exchange_details"}
    assert (
        definitions["with"]["instrument_key"].to_pylist()
        == definitions["without"]["instrument_key"].to_pylist()
    )
    for asset_path in (("ticks", "trades"), ("ticks", "options_chain")):
        found = {name: keys_in(lake, asset_path) for name, lake in lakes.items()}
        assert found["with"] == found["without"], asset_path
        assert found["with"], asset_path
    # Deribit's inverse options keep the contract's USD form either way.
    assert "DERIBIT:OPTION:BTC-USD-240329-50000-CALL" in keys_in(
        lakes["without"], ("ticks", "options_chain")
    )

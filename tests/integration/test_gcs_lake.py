"""The same partitions on a gs:// lake and from a gs:// Tardis mirror, on the GCS emulator."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, AssetSelection, materialize

from market_assets.definitions import defs
from resources.io_manager import LakeIOManager
from resources.lake import ParquetLake
from resources.storage import upath
from resources.tardis import TardisSource
from resources.universe import UniverseResource
from tardis_local.mirror import write_mirror
from tardis_local.server import TardisServer
from tests.conftest import bind_resources, gcs_emulator

TRADES = ("ticks", "trades")
ASSETS = [defs.get_assets_def("instrument_definitions"), defs.get_assets_def(AssetKey(TRADES))]


@pytest.fixture
def gcs_bucket() -> Iterator[str]:
    with gcs_emulator() as bucket:
        yield bucket


def test_partition_lands_on_a_gcs_lake_and_reruns_exactly(
    tardis_server: TardisServer, gcs_bucket: str
) -> None:
    root = f"gs://{gcs_bucket}/lake"
    resources = bind_resources(tardis_server, root)

    first = materialize(ASSETS, resources=resources, partition_key="2024-01-02|binance")
    again = materialize(ASSETS, resources=resources, partition_key="2024-01-02|binance")

    assert first.success and again.success
    lake = ParquetLake(root, anonymous=True)
    names = [p.name for p in lake.files(TRADES, "2024-01-02", "binance")]
    assert names == ["BINANCE__SPOT_PAIR__BTC-USDT.parquet", "BINANCE__SPOT_PAIR__ETH-USDT.parquet"]
    table = lake.read(TRADES, "2024-01-02", "binance")
    assert (
        table.num_rows
        == again.asset_materializations_for_node("ticks__trades")[0].metadata["rows"].value
    )
    assert not upath(f"{root}/_staging", anonymous=True).exists()


def test_mirror_on_gcs_needs_no_http(tmp_path: Path, gcs_bucket: str) -> None:
    local_mirror = tmp_path / "mirror"
    write_mirror(local_mirror, [date(2024, 1, 2)], exchanges=["deribit"], data_types=["trades"])
    remote = upath(f"gs://{gcs_bucket}/tardis", anonymous=True)
    for path in local_mirror.rglob("*"):
        if path.is_file():
            remote.fs.put_file(str(path), f"{remote.path}/{path.relative_to(local_mirror)}")

    resources = {
        # No endpoint reachable: the mirror alone must serve metadata and files.
        "tardis": TardisSource(
            mirror=str(remote),
            anonymous_gcs=True,
            datasets_endpoint="http://127.0.0.1:9/unreachable",
            api_endpoint="http://127.0.0.1:9/unreachable",
        ),
        "universe": UniverseResource(),
        "io_manager": LakeIOManager(root=str(tmp_path / "lake")),
    }
    result = materialize(ASSETS, resources=resources, partition_key="2024-01-02|deribit")

    assert result.success
    table = ParquetLake(str(tmp_path / "lake")).read(TRADES, "2024-01-02", "deribit")
    assert "DERIBIT:PERPETUAL:BTC-USD" in set(table.column("instrument_key").to_pylist())
    sources = result.asset_materializations_for_node("ticks__trades")[0].metadata["sources"]
    assert all(r.data["url"].startswith("gs://") for r in sources.value.records)


def test_candles_read_the_next_day_from_a_gcs_lake(
    tardis_server: TardisServer, gcs_bucket: str
) -> None:
    root = f"gs://{gcs_bucket}/lake"
    resources = bind_resources(tardis_server, root)
    everything = [a for a in defs.assets if AssetKey("coverage_heatmap") not in a.keys]
    for day in ("2024-01-02", "2024-01-03"):
        ingest = materialize(
            everything,
            selection=[*ASSETS],
            resources=resources,
            partition_key=f"{day}|binance",
        )
        assert ingest.success

    built = materialize(
        everything,
        # One timeframe of the multi-asset: the others are not built.
        selection=AssetSelection.assets(AssetKey(["candles", "1h"])),
        resources=resources,
        partition_key="2024-01-02|binance",
    )

    assert built.success
    [event] = built.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["next_day_included"].value is True
    assert metadata["late_trades_from_next_day"].value > 0
    bars = ParquetLake(root, anonymous=True).read(("candles", "1h"), "2024-01-02", "binance")
    assert bars.num_rows == 2 * 24

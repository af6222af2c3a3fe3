"""Each Tardis file is read once: parsed from the same bytes that are hashed, its gzip
stream checked whole as the parse ends, before anything of the partition lands."""

import hashlib
import urllib.request
from datetime import date
from pathlib import Path

from dagster import AssetKey, materialize

from market_assets.definitions import defs
from resources.lake import ParquetLake
from resources.tardis import TardisSource
from tardis_local.mirror import write_mirror
from tardis_local.server import TardisServer
from tests.conftest import API_KEY, bind_resources

TRADES = AssetKey(["ticks", "trades"])
ASSETS = [defs.get_assets_def("instrument_definitions"), defs.get_assets_def(TRADES)]
CHECKS = list(defs.asset_checks or [])
BTC = "/trades/2024/01/02/BTCUSDT"


def run(resources: dict):
    return materialize(
        [*ASSETS, *CHECKS],
        resources=resources,
        partition_key="2024-01-02|binance",
        raise_on_error=False,
    )


def failure(result) -> str:
    return "\n".join(str(e.step_failure_data.error) for e in result.all_events if e.is_step_failure)


def test_the_sha256_of_the_one_read_is_the_served_bodys(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    result = run(bind_resources(tardis_server, lake_root))

    assert result.success
    records = result.asset_materializations_for_node("ticks__trades")[0].metadata["sources"]
    for record in records.value.records:
        request = urllib.request.Request(
            record.data["url"], headers={"Authorization": f"Bearer {API_KEY}"}
        )
        with urllib.request.urlopen(request) as answer:
            assert record.data["sha256"] == hashlib.sha256(answer.read()).hexdigest()
        assert record.data["empty_source"] is False


def test_a_body_cut_short_every_time_fails_after_three_downloads_and_lands_nothing(
    tardis_server: TardisServer, lake_root: Path
) -> None:
    tardis_server.inject("truncate", path_contains=BTC, times=10)

    result = run(bind_resources(tardis_server, lake_root))

    assert not result.success
    assert "BTCUSDT.csv.gz arrived truncated 3 times" in failure(result)
    assert [s for _, p, s in tardis_server.requests if BTC in p] == [200, 200, 200]
    assert ParquetLake(str(lake_root)).files(TRADES.path, "2024-01-02", "binance") == []


def test_a_cut_copy_in_a_mirror_is_final_and_names_the_fix(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_mirror(mirror, [date(2024, 1, 2)], exchanges=["binance"], data_types=["trades"])
    cut = mirror / "binance_trades_2024-01-02_ETHUSDT.csv.gz"
    cut.write_bytes(cut.read_bytes()[:-100])
    resources = bind_resources(TardisServer(), tmp_path / "lake")
    resources["tardis"] = TardisSource(mirror=str(mirror))

    result = run(resources)

    assert not result.success
    assert f"the Tardis mirror's copy {cut} is truncated or corrupt" in failure(result)
    assert "download it into the mirror again" in failure(result)
    lake = ParquetLake(str(tmp_path / "lake"))
    assert lake.files(TRADES.path, "2024-01-02", "binance") == []

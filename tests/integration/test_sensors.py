"""The daily sensors, evaluated with build_sensor_context against the local Tardis server."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import DagsterInstance, build_sensor_context, materialize

from market_assets.automation.sensors import recent_gaps_sensor, tardis_exports_sensor
from market_assets.definitions import defs
from market_assets.universe import load_universe
from tardis_local.server import TardisServer
from tests.conftest import bind_resources

VENUES = sorted(load_universe().venues)


def evaluate(sensor, server: TardisServer, lake_root: Path, cursor=None, instance=None):
    context = build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources=bind_resources(server, lake_root),
        definitions=defs,
    )
    return sensor(context), context


def test_new_export_requests_exactly_one_day_per_venue(lake_root: Path) -> None:
    with TardisServer(exported_until=datetime(2024, 1, 10, tzinfo=UTC)) as server:
        first, _ = evaluate(tardis_exports_sensor, server, lake_root)
        unchanged, _ = evaluate(tardis_exports_sensor, server, lake_root, cursor=first.cursor)
        server.exported_until += timedelta(days=1)
        moved, _ = evaluate(tardis_exports_sensor, server, lake_root, cursor=unchanged.cursor)

    # The first reading only records where Tardis stands: history is for backfills.
    assert first.run_requests == []
    assert set(json.loads(first.cursor)) == set(VENUES)
    assert unchanged.run_requests == []
    assert unchanged.skip_reason is not None
    keys = sorted(request.partition_key for request in moved.run_requests)
    assert keys == sorted(f"2024-01-10|{venue}" for venue in VENUES)
    assert json.loads(moved.cursor)["deribit"].startswith("2024-01-11")


def test_recent_gaps_are_requested_and_filled_ones_are_not(lake_root: Path) -> None:
    instance = DagsterInstance.ephemeral()
    with TardisServer(exported_until=datetime(2024, 1, 10, tzinfo=UTC)) as server:
        resources = bind_resources(server, lake_root)
        done = materialize(
            [*defs.assets, *defs.asset_checks],
            resources=resources,
            partition_key="2024-01-09|binance",
            instance=instance,
        )
        assert done.success
        result, _ = evaluate(recent_gaps_sensor, server, lake_root, instance=instance)

    requested = {r.partition_key for r in result.run_requests}
    # Seven exported days per venue, all missing but the one just materialised.
    assert len(requested) == 7 * len(VENUES) - 1
    assert "2024-01-09|binance" not in requested
    assert "2024-01-09|deribit" in requested and "2024-01-03|binance" in requested
    assert "2024-01-02|binance" not in requested  # outside the look-back

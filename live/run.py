"""The live service assembled from the environment: the universe's feeds in, the hub, its
socket, the ``live_candles_{tf}`` tables and the features out."""

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from datetime import UTC, date, datetime, timedelta

from live.events import LiveEvent
from live.features import LiveFeatures, lake_history
from live.hub import Hub
from live.service import LiveService, LiveSettings
from live.tables import live_tables
from live.wire import LiveServer
from market_assets.universe import load_universe
from market_reader import Lake
from market_reader.errors import MissingDataError
from partitions import TIMEFRAMES
from resources.environment import Environment

log = logging.getLogger("live")
# How many days back the instrument definitions are looked for.
DEFINITION_DAYS = 7


def published_data_types(
    lake_root: str, feeds: dict[str, Collection[str]], today: date | None = None
) -> dict[str, frozenset[str]]:
    """Per instrument key, the data types its bars read: those Tardis publishes for it
    (the lake's latest instrument definitions) that its venue's feed carries. Instruments
    without definitions are left out (a type then counts once a tick of it came)."""
    lake = Lake(lake_root)
    found: dict[str, frozenset[str]] = {}
    day = today or datetime.now(UTC).date()
    for venue, carried in feeds.items():
        for back in range(DEFINITION_DAYS):
            try:
                table = lake.instruments(day - timedelta(days=back), venue, as_="arrow")
            except (MissingDataError, FileNotFoundError, OSError):
                continue
            for key, types in zip(
                table["instrument_key"].to_pylist(), table["data_types"].to_pylist(), strict=True
            ):
                found[key] = frozenset(types or ()) & frozenset(carried)
            break
    return found


def live_settings(environment: Environment) -> LiveSettings:
    """The service's settings from the environment: the timeframes it builds (the partial
    updates of those of them that have partials), and the grace."""
    timeframes = {timeframe: TIMEFRAMES[timeframe] for timeframe in environment.live_timeframes}
    return LiveSettings(
        timeframes=timeframes,
        partial_timeframes=tuple(t for t in LiveSettings.partial_timeframes if t in timeframes),
        grace_us=environment.live_grace_ms * 1_000,
    )


def feed_events(
    environment: Environment, endpoints: dict[str, str] | None
) -> AsyncIterator[LiveEvent]:
    from live.feeds import events, feeds_from_universe

    universe = load_universe(environment.universe_path or None)
    return events(
        feeds_from_universe(universe),
        endpoints=endpoints,
        deribit_credentials=environment.deribit_credentials,
    )


async def serve(
    environment: Environment,
    *,
    endpoints: dict[str, str] | None = None,
    events: AsyncIterator[LiveEvent] | None = None,
    settings: LiveSettings | None = None,
) -> LiveService:
    """Run the service until the feed ends or the task is cancelled; the service (with
    its stats) once it stopped."""
    from live.feeds import feeds_from_universe

    universe = load_universe(environment.universe_path or None)
    carried = {feed.venue: feed.data_types for feed in feeds_from_universe(universe)}
    data_types = await asyncio.to_thread(published_data_types, environment.lake_root, carried)
    hub = Hub()
    server = await LiveServer(hub, environment.live_address).start()
    service = LiveService(
        hub,
        live_tables(environment),
        LiveFeatures(lake_history(environment.lake_root)),
        settings or live_settings(environment),
        data_types.get,
    )
    log.info(f"live service: consumers at {environment.live_address}")
    try:
        await service.run(events if events is not None else feed_events(environment, endpoints))
    finally:
        await server.close()
    return service

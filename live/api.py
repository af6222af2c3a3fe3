"""The consumer API: ``async for bar in live_candles(instrument_key, timeframe)``, and the
same for features and raw ticks.

``source`` is the service's ``Hub`` when the consumer runs in the service's process, or
the address of its socket (``tcp://host:port`` or ``unix:/path``; default:
``MARKET_DATA_LIVE_ADDRESS``). A consumer that falls behind gets ``ConsumerLagged``.
"""

from collections.abc import AsyncIterator
from typing import cast

from live.bars import LiveBar, LiveFeatureRow
from live.events import Tick
from live.hub import DEFAULT_CAPACITY, Hub, Topic, iterate
from live.wire import remote
from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES
from resources.environment import Environment

Source = Hub | str | None


async def _items(
    topic: Topic, source: Source, capacity: int, partial: bool = False
) -> AsyncIterator[object]:
    if isinstance(source, Hub):
        async for item in iterate(source.subscribe(topic, capacity, partial=partial)):
            yield item
        return
    address = source or Environment.read().live_address
    stream, key, timeframe = topic
    request = {
        "stream": stream,
        "instrument_key": key,
        "timeframe": timeframe,
        "partial": partial,
        "capacity": capacity,
    }
    async for item in remote(address, request):
        yield item


async def live_candles(
    instrument_key: str,
    timeframe: str,
    *,
    source: Source = None,
    partial: bool = False,
    capacity: int = DEFAULT_CAPACITY,
) -> AsyncIterator[LiveBar]:
    """Each closed ``timeframe`` bar of ``instrument_key`` once, as it closes (with
    ``partial``, also the open bar's updates, marked ``partial``)."""
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"no {timeframe!r} candles: choose one of {', '.join(TIMEFRAMES)}")
    async for item in _items(("candles", instrument_key, timeframe), source, capacity, partial):
        yield cast(LiveBar, item)


async def live_features(
    instrument_key: str,
    timeframe: str,
    *,
    source: Source = None,
    capacity: int = DEFAULT_CAPACITY,
) -> AsyncIterator[LiveFeatureRow]:
    """The MFT features of each closed ``timeframe`` bar of ``instrument_key``."""
    if timeframe not in FEATURE_TIMEFRAMES:
        raise ValueError(
            f"no {timeframe!r} features: choose one of {', '.join(FEATURE_TIMEFRAMES)}"
        )
    async for item in _items(("features", instrument_key, timeframe), source, capacity):
        yield cast(LiveFeatureRow, item)


async def live_ticks(
    instrument_key: str, *, source: Source = None, capacity: int = DEFAULT_CAPACITY
) -> AsyncIterator[Tick]:
    """Every raw tick of ``instrument_key`` (all its data types) as the feed delivers it."""
    async for item in _items(("ticks", instrument_key, None), source, capacity):
        yield cast(Tick, item)

"""The consumer API in-process and across processes (the service's socket), and a
consumer that falls behind is told so."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from live import ConsumerLagged, Hub, live_candles, live_ticks
from live.bars import LiveBar
from live.events import Tick
from live.wire import LiveServer

KEY = "BINANCE:SPOT_PAIR:BTC-USDT"
CONSUMER = """
import asyncio, json, sys
from live import live_candles

async def main():
    seen = []
    async for bar in live_candles(sys.argv[2], "1m", source=sys.argv[1], partial=True):
        seen.append([bar.timestamp_us, bar.partial, bar.complete, bar.row["close"]])
    print(json.dumps(seen))

asyncio.run(main())
"""


def bar(n: int, partial: bool = False) -> LiveBar:
    row = {"instrument_key": KEY, "timestamp": n * 60_000_000, "close": float(n)}
    return LiveBar("1m", row, partial, n % 2 == 0, n)


async def wait_for_subscriber(hub: Hub, topic: tuple) -> None:
    for _ in range(500):
        if hub.wants(topic):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody subscribed to {topic}")


def test_a_consumer_in_another_process_gets_each_bar_and_the_partials(tmp_path: Path) -> None:
    address = f"unix:{tmp_path / 'live.sock'}"

    async def serve() -> str:
        hub = Hub()
        server = await LiveServer(hub, address).start()
        consumer = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CONSUMER, address, KEY, stdout=subprocess.PIPE
        )
        await wait_for_subscriber(hub, ("candles", KEY, "1m"))
        hub.publish(("candles", KEY, "1m"), bar(0, partial=True), partial=True)
        for n in range(3):
            hub.publish(("candles", KEY, "1m"), bar(n))
        hub.publish(("candles", "OTHER", "1m"), bar(9))
        hub.close()  # the service stops: consumers end after what was sent
        out, _ = await asyncio.wait_for(consumer.communicate(), 60)
        await server.close()
        return out.decode()

    seen = json.loads(asyncio.run(serve()))
    assert seen == [
        [0, True, True, 0.0],
        [0, False, True, 0.0],
        [60_000_000, False, False, 1.0],
        [120_000_000, False, True, 2.0],
    ]


def test_a_consumer_that_falls_behind_is_told_in_process_and_across_processes(
    tmp_path: Path,
) -> None:
    async def in_process() -> tuple[list[int], ConsumerLagged]:
        hub = Hub()
        got: list[int] = []
        stream = live_candles(KEY, "1m", source=hub, capacity=3)
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        for n in range(10):  # nobody reads while ten bars arrive
            hub.publish(("candles", KEY, "1m"), bar(n))
        got.append((await first).timestamp_us // 60_000_000)
        with pytest.raises(ConsumerLagged) as lagged:
            async for item in stream:
                got.append(item.timestamp_us // 60_000_000)
        return got, lagged.value

    got, lagged = asyncio.run(in_process())
    assert got == [0, 1, 2]  # what was queued is delivered, then the consumer is told
    assert lagged.missed == 7 and "fell behind" in str(lagged)

    address = f"unix:{tmp_path / 'live.sock'}"

    async def across() -> ConsumerLagged:
        hub = Hub()
        server = await LiveServer(hub, address).start()
        stream = live_ticks(KEY, source=address, capacity=5)
        reader = asyncio.ensure_future(stream.__anext__())
        await wait_for_subscriber(hub, ("ticks", KEY, None))
        big = {"instrument_key": KEY, "timestamp": 0, "payload": "x" * 1_000_000}
        for _ in range(200):  # far more than the socket and five queued items hold
            hub.publish(("ticks", KEY, None), Tick("trades", "binance", big))
        try:
            await reader
            async for _ in stream:
                pass
        except ConsumerLagged as error:
            return error
        finally:
            await server.close()
        raise AssertionError("the slow consumer was never told")

    told = asyncio.run(across())
    assert told.missed > 0

"""Benchmark: from a trade's arrival to its bar's update, at 10,000 trades a second.

Trades of six instruments (one taking half the flow) are fed to the live service at a
steady 10,000 a second for ``--seconds``; each is stamped with the moment it was due to
arrive. A consumer per instrument subscribes to the 15-second bars' partial updates: a
trade's latency is from its due time to the first update whose trade count includes it.
The service runs as in production (hub, closing bars of every timeframe, the
``live_candles`` DuckDB tables, 1m features); the peer is the floor: a plain running
OHLCV dict per bar updated and published through the same hub for every trade.
Prints p50/p99/max in ms, peak RSS and the ratios. Target: ours p99 ≤ 5 ms.

    .venv/bin/python bench/live.py [--seconds 20] [--rate 10000]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import measure, peak_rss_mb, report

BENCH = Path(__file__).resolve().parent
# This file is named like the ``live`` package it measures: import that, not this file.
sys.path[:] = [str(BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

KEYS = [f"BENCH:PERPETUAL:COIN{n}-USDT" for n in range(6)]
WEIGHTS = [0.5, 0.2, 0.1, 0.1, 0.05, 0.05]
TICK = 0.001  # the producer wakes every ms and sends the trades due by then


def trades(rate: int, seconds: float):
    """(due time in µs, instrument index) of each trade, on a steady schedule."""
    import numpy as np

    count = int(rate * seconds)
    picks = np.random.default_rng(7).choice(len(KEYS), size=count, p=WEIGHTS)
    return count, picks


async def feed(rate: int, seconds: float, due: dict):
    """Trades as live ``Tick`` events, each when due (``due[(key, n)]``: its due µs)."""
    from live.events import Tick

    count, picks = trades(rate, seconds)
    start = time.time_ns() // 1_000
    sent = 0
    while sent < count:
        now = time.time_ns() // 1_000
        ready = min(count, int((now - start) * rate / 1e6) + 1)
        for n in range(sent, ready):
            at = start + int(n * 1e6 / rate)
            key = KEYS[picks[n]]
            due.setdefault(key, []).append(at)
            row = {
                "instrument_key": key,
                "symbol": key.rsplit(":", 1)[1],
                "timestamp": at - 2_000,
                "local_timestamp": at,
                "id": str(n),
                "side": "buy" if n % 2 else "sell",
                "price": 100.0 + (n % 97) * 0.01,
                "amount": 0.001 * (1 + n % 13),
            }
            yield Tick("trades", "bench", row)
        sent = ready
        await asyncio.sleep(TICK)


class Latencies:
    """Per instrument: each trade's due time, matched to the first update counting it."""

    def __init__(self, due: dict) -> None:
        self.due = due
        self.counted: dict[str, int] = {}
        self.bar_first: dict[tuple[str, int], int] = {}
        self.seen: dict[str, int] = {}
        self.samples: list[float] = []

    def update(self, key: str, bar_start: int, trade_count: int) -> None:
        now = time.time_ns() // 1_000
        # Trades are numbered per instrument in arrival order; a bar's count says how
        # many of its trades the update includes.
        first = self.bar_first.setdefault((key, bar_start), self.seen.get(key, 0))
        upto = first + trade_count
        done = self.seen.get(key, 0)
        for at in self.due[key][done:upto]:
            self.samples.append((now - at) / 1_000)
        self.seen[key] = max(done, upto)


def summary(samples: list[float]) -> dict:
    import numpy as np

    values = np.asarray(samples)
    return {
        "trades": int(values.size),
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
    }


async def run_ours(rate: int, seconds: float) -> dict:
    from live import Hub, live_candles
    from live.features import LiveFeatures
    from live.service import LiveService, LiveSettings
    from live.tables import LiveTables
    from resources.warehouse import DuckDBDialect

    due: dict = {}
    latencies = Latencies(due)
    hub = Hub()
    with tempfile.TemporaryDirectory() as folder:
        tables = LiveTables(DuckDBDialect(str(Path(folder) / "live_candles.duckdb")))
        service = LiveService(
            hub,
            tables,
            LiveFeatures(timeframes=("1m",)),
            LiveSettings(partial_timeframes=("15s",)),
            lambda key: ["trades"],
        )

        async def consume(key: str) -> None:
            async for bar in live_candles(key, "15s", source=hub, partial=True, capacity=1 << 20):
                if bar.partial:
                    latencies.update(key, bar.timestamp_us, int(bar.row["trade_count"]))

        consumers = [asyncio.create_task(consume(key)) for key in KEYS]
        await asyncio.sleep(0)
        await service.run(feed(rate, seconds, due))
        await asyncio.gather(*consumers)
        figures = summary(latencies.samples) | {"closed_bars": service.stats.bars}
        return figures | {"stored": service.stats.stored}


async def run_peer(rate: int, seconds: float) -> dict:
    """The floor: a running OHLCV dict per 15 s bar, published per trade."""
    from live import Hub
    from live.hub import iterate

    due: dict = {}
    latencies = Latencies(due)
    hub = Hub()
    bars: dict[tuple[str, int], dict] = {}

    async def consume(key: str) -> None:
        async for bar in iterate(hub.subscribe(("candles", key, "15s"), 1 << 20)):
            latencies.update(key, bar["timestamp"], bar["trade_count"])

    consumers = [asyncio.create_task(consume(key)) for key in KEYS]
    await asyncio.sleep(0)
    async for tick in feed(rate, seconds, due):
        row = tick.row
        start = row["timestamp"] - row["timestamp"] % 15_000_000
        bar = bars.get((row["instrument_key"], start))
        if bar is None:
            bar = bars[(row["instrument_key"], start)] = {
                "timestamp": start,
                "open": row["price"],
                "high": row["price"],
                "low": row["price"],
                "volume": 0.0,
                "trade_count": 0,
            }
        bar["high"] = max(bar["high"], row["price"])
        bar["low"] = min(bar["low"], row["price"])
        bar["close"] = row["price"]
        bar["volume"] += row["amount"]
        bar["trade_count"] += 1
        hub.publish(("candles", row["instrument_key"], "15s"), dict(bar))
    hub.close()
    await asyncio.gather(*consumers)
    return summary(latencies.samples)


def child(name: str, rate: int, seconds: float) -> None:
    run = run_ours if name == "ours" else run_peer
    figures = asyncio.run(run(rate, seconds))
    report(figures | {"peak_rss_mb": peak_rss_mb()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--child", nargs="*")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], arguments.rate, arguments.seconds)
        return
    extra = ["--rate", str(arguments.rate), "--seconds", str(arguments.seconds)]
    figures = {name: measure(__file__, name, *extra) for name in ("ours", "peer")}
    print(f"live bars: {arguments.rate:,} trades/s for {arguments.seconds:.0f} s, 6 instruments")
    for name, row in figures.items():
        print(
            f"  {name:5} trades {row['trades']:>8,}  p50 {row['p50_ms']:6.2f} ms  "
            f"p99 {row['p99_ms']:6.2f} ms  max {row['max_ms']:7.2f} ms  "
            f"peak RSS {row['peak_rss_mb']:6.0f} MB"
        )
    ours, peer = figures["ours"], figures["peer"]
    print(f"  ours closed {ours['closed_bars']:,} bars, stored {ours['stored']:,}")
    print(f"  p99 ours / peer: {ours['p99_ms'] / peer['p99_ms']:.1f}x  (target: ours p99 <= 5 ms)")


if __name__ == "__main__":
    main()

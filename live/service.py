"""The live service: feed events in; bars, features and ticks out to the hub and the
``live_candles_{tf}`` tables.

Events are taken in micro-batches: whatever arrived while the last batch was processed
is processed together, so a busy feed costs one partial update per touched bar per
batch rather than per tick, and a quiet one answers each tick at once. Every
``close_seconds`` (after a batch, or on a timer for quiet venues), every slot a venue's
clock has passed closes (``live.clock``): the slots are cut on the loop, the batch
function lays their bars in a worker thread (one close at a time, so ticks keep being
answered meanwhile), and the closed bars are published, queued for the tables (written
off the event loop, every ``flush_seconds``) and for the features (computed off the
loop).

A restarted service reads the latest bar of each table first and emits nothing at or
before it: the tables never hold a bar twice.
"""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field

from live.bars import LiveBar
from live.builder import InstrumentBars, closing_bars, slot_of
from live.clock import VenueClock
from live.events import Disconnected, LiveEvent, Reconnected, Tick
from live.features import LiveFeatures
from live.hub import Hub
from live.tables import LiveTables
from partitions import TIMEFRAMES

log = logging.getLogger("live")
# Events taken from the inbox at once, at most.
MAX_BATCH = 5_000
# How long a worker thread may hold the GIL before the event loop's turn.
SWITCH_SECONDS = 0.0005

# instrument_key -> the Tardis data types it publishes, None when unknown.
DataTypes = Callable[[str], Collection[str] | None]


@dataclass(frozen=True)
class LiveSettings:
    """How bars are cut and emitted (the environment's ``MARKET_DATA_LIVE_*``)."""

    timeframes: dict[str, int] = field(default_factory=lambda: dict(TIMEFRAMES))
    # Timeframes whose open bar is republished (``partial``) after each batch of trades.
    partial_timeframes: tuple[str, ...] = ("15s", "1m")
    # Exchange time a bar stays open past its end for late messages.
    grace_us: int = 2_000_000
    flush_seconds: float = 1.0
    # Bars close at most this often (wall time) and on a timer for quiet feeds: a fast
    # feed then closes many slots in one call of the batch function.
    close_seconds: float = 0.05
    clock_seconds: float = 0.25


@dataclass
class ServiceStats:
    ticks: int = 0
    bars: int = 0
    skipped_resumed: int = 0
    stored: int = 0
    features: int = 0
    disconnects: int = 0


_TIMER = object()
_END = object()


class LiveService:
    """Builds every instrument's bars from feed events (see module docstring)."""

    def __init__(
        self,
        hub: Hub,
        tables: LiveTables | None = None,
        features: LiveFeatures | None = None,
        settings: LiveSettings | None = None,
        data_types: DataTypes | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.tables = tables
        self.features = features
        self.settings = settings or LiveSettings()
        self.data_types = data_types or (lambda key: None)
        self.wall = wall
        self.clocks: dict[str, VenueClock] = {}
        self.venue_start: dict[str, int] = {}
        self.builders: dict[str, dict[str, InstrumentBars]] = {}
        self.resume: dict[tuple[str, str], int] = {}
        self.stats = ServiceStats()
        self._unstored: list[LiveBar] = []
        self._features: asyncio.Queue[LiveBar | None] = asyncio.Queue()
        self._closed_at = 0.0
        self._closing: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[object] | None = None
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()

    async def run(self, events: AsyncIterator[LiveEvent]) -> None:
        """Consume ``events`` until they end (or the task is cancelled); store what closed."""
        if self.tables is not None:
            self.resume = await asyncio.to_thread(
                self.tables.last_bars, list(self.settings.timeframes)
            )
        # Bars are laid (and stored, and features computed) in worker threads: the loop
        # takes the GIL back within a millisecond to answer ticks, not Python's 5 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_SECONDS))
        inbox: asyncio.Queue[object] = asyncio.Queue()
        self._inbox = inbox
        helpers = [
            asyncio.create_task(self._read(events, inbox)),
            asyncio.create_task(self._timer(inbox)),
            asyncio.create_task(self._store_every()),
            asyncio.create_task(self._compute_features()),
        ]
        self.ready.set()
        try:
            while True:
                batch = [await inbox.get()]
                while not inbox.empty() and len(batch) < MAX_BATCH:
                    batch.append(inbox.get_nowait())
                ended = self._process(batch)
                if self._closing is not None and self._closing.done():
                    self._closing.result()  # a failed close ends the run, as it would inline
                    self._closing = None
                if ended:
                    if self._closing is not None:
                        await self._closing
                    await self._close()
                    break
                if self._closing is None and (
                    self.wall() - self._closed_at >= self.settings.close_seconds
                ):
                    self._closed_at = self.wall()
                    self._closing = asyncio.create_task(self._close())
        finally:
            if self._closing is not None:
                self._closing.cancel()
            # The feed and the timer stop now; the writer and the features finish their work.
            for helper in helpers[:2]:
                helper.cancel()
            self._stopping.set()
            await self._features.put(None)
            await asyncio.gather(*helpers, return_exceptions=True)
            await self._store()
            self.hub.close()

    def stop(self) -> None:
        """End the run once what already arrived is processed (closed bars are stored)."""
        if self._inbox is not None:
            self._inbox.put_nowait(_END)

    async def _read(self, events: AsyncIterator[LiveEvent], inbox: asyncio.Queue[object]) -> None:
        try:
            async for event in events:
                inbox.put_nowait(event)
        finally:
            inbox.put_nowait(_END)

    async def _timer(self, inbox: asyncio.Queue[object]) -> None:
        while True:
            await asyncio.sleep(self.settings.clock_seconds)
            inbox.put_nowait(_TIMER)

    def _process(self, batch: list[object]) -> bool:
        """Handle a batch of events; True when the feed ended."""
        now_us = time.time_ns() // 1_000
        touched: dict[tuple[str, str], set[int]] = {}
        ended = False
        for event in batch:
            if isinstance(event, Tick):
                self._tick(event, touched)
            elif isinstance(event, Disconnected):
                self.stats.disconnects += 1
                self._clock(event.venue).disconnected()
                log.warning(f"{event.venue}: feed lost; bars it touches are marked incomplete")
            elif isinstance(event, Reconnected):
                self._clock(event.venue).reconnected()
                down = (event.at_us - event.down_since_us) / 1e6
                log.warning(f"{event.venue}: feed back after {down:.1f} s")
            elif event is _END:
                ended = True
        for venue, key in touched:
            builder, clock = self.builders[venue][key], self.clocks[venue]
            wanted = tuple(
                tf
                for tf in self.settings.partial_timeframes
                if self.hub.wants(("candles", key, tf), partial=True)
            )
            # With nobody asking, the fresh trades are simply let go.
            for bar in builder.partials(wanted, clock.outage_overlaps, now_us):
                self.hub.publish(("candles", key, bar.timeframe), bar, partial=True)
        return ended

    def _clock(self, venue: str) -> VenueClock:
        clock = self.clocks.get(venue)
        if clock is None:
            clock = self.clocks[venue] = VenueClock(venue, self.settings.grace_us, self.wall)
            self.builders[venue] = {}
        return clock

    def _tick(self, tick: Tick, touched: dict[tuple[str, str], set[int]]) -> None:
        self.stats.ticks += 1
        row = tick.row
        key = str(row["instrument_key"])
        timestamp = int(row["timestamp"])  # type: ignore[call-overload]
        clock = self._clock(tick.venue)
        clock.saw(timestamp)
        builder = self.builders[tick.venue].get(key)
        if builder is None:
            start = self.venue_start.setdefault(tick.venue, slot_of(timestamp))
            builder = InstrumentBars(key, start, self.settings.timeframes, self.data_types(key))
            self.builders[tick.venue][key] = builder
        slot = builder.add(tick.data_type, row)
        if slot is not None and tick.data_type == "trades":
            touched.setdefault((tick.venue, key), set()).add(slot)
        topic = ("ticks", key, None)
        if self.hub.wants(topic):
            self.hub.publish(topic, tick)

    async def _close(self) -> None:
        """Close every slot the venues' clocks passed. The slots are cut here (cheap); the
        batch function lays the bars in a worker thread, so the loop keeps answering ticks
        meanwhile; the bars are then emitted here, in order. One close runs at a time."""
        jobs = []
        for venue, clock in self.clocks.items():
            until = clock.closes_until()
            for builder in self.builders[venue].values():
                windows = builder.close_slots(until)
                if windows:
                    jobs.append((clock, builder, windows))
        if jobs:
            laid = await asyncio.to_thread(lambda: [closing_bars(job[2]) for job in jobs])
            now_us = time.time_ns() // 1_000
            for (clock, builder, _), bars in zip(jobs, laid, strict=True):
                for bar in builder.finish(bars, clock.outage_overlaps, now_us):
                    self._emit(bar)
        for clock in self.clocks.values():
            clock.forget_before(clock.closes_until() - US_PER_DAY_MARGIN)

    def _emit(self, bar: LiveBar) -> None:
        if self.resume.get((bar.timeframe, bar.instrument_key), -1) >= bar.timestamp_us:
            self.stats.skipped_resumed += 1
            return
        self.stats.bars += 1
        self.hub.publish(("candles", bar.instrument_key, bar.timeframe), bar)
        self._unstored.append(bar)
        if self.features is not None and self.features.wants(bar):
            self._features.put_nowait(bar)

    async def _store_every(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.flush_seconds)
            await self._store()

    async def _store(self) -> None:
        if self.tables is None or not self._unstored:
            self._unstored = []
            return
        bars, self._unstored = self._unstored, []
        try:
            self.stats.stored += await asyncio.to_thread(self.tables.append, bars)
        except Exception:
            self._unstored = bars + self._unstored  # kept for the next flush
            log.exception(f"{len(bars)} closed bars not stored yet; retrying at the next flush")

    async def _compute_features(self) -> None:
        while True:
            bar = await self._features.get()
            if bar is None or self.features is None:
                return
            try:
                row = await asyncio.to_thread(self.features.add, bar)
            except Exception:
                log.exception(f"{bar.instrument_key} {bar.timeframe}: features not computed")
                continue
            self.stats.features += 1
            emitted = type(row)(row.timeframe, row.row, time.time_ns() // 1_000)
            self.hub.publish(("features", bar.instrument_key, bar.timeframe), emitted)


# Outages are kept a day past the clock: the open day bar may still overlap them.
US_PER_DAY_MARGIN = 86_400 * 1_000_000

"""In-process publish/subscribe of the live service's outputs, with bounded queues.

A subscription is a topic, ``(stream, instrument_key, timeframe)`` with ``stream`` one of
``candles``, ``features``, ``ticks`` (``timeframe`` None for ticks), and a queue of at
most ``capacity`` items. Publishing never waits for a consumer: when a subscriber's queue
is full, it is marked as lagging and what it missed is counted; it then receives what
was queued before and, instead of the next item, ``ConsumerLagged`` naming how many
items it missed. It is told, never silently skipped.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

STREAMS = ("candles", "features", "ticks")
Topic = tuple[str, str, str | None]
DEFAULT_CAPACITY = 10_000


class ConsumerLagged(Exception):
    """A consumer fell behind the stream and ``missed`` items were not delivered to it;
    closed bars can be read back from the ``live_candles_{tf}`` tables."""

    def __init__(self, topic: Topic, missed: int) -> None:
        stream, key, timeframe = topic
        what = f"{stream} of {key}" + (f" {timeframe}" if timeframe else "")
        super().__init__(
            f"the consumer of {what} fell behind: {missed} items were not delivered to it; "
            "consume faster or subscribe with a larger capacity, and read the closed bars "
            "it missed from the live_candles tables"
        )
        self.topic = topic
        self.missed = missed


class Subscription:
    """One consumer's queue on a topic; iterate it with ``async for``."""

    def __init__(self, hub: "Hub", topic: Topic, capacity: int, partial: bool) -> None:
        self.hub = hub
        self.topic = topic
        self.partial = partial
        self.queue: asyncio.Queue[object] = asyncio.Queue(capacity)
        self.missed = 0

    def offer(self, item: object) -> None:
        if self.missed:
            self.missed += 1
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.missed = 1

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> object:
        if self.missed and self.queue.empty():
            self.close()
            raise ConsumerLagged(self.topic, self.missed)
        item = await self.queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def end(self) -> None:
        """The stream ends: the consumer stops after what is queued."""
        if not self.missed:
            try:
                self.queue.put_nowait(_CLOSED)
            except asyncio.QueueFull:
                self.missed = 1


_CLOSED = object()


class Hub:
    """Topics to their subscriptions; lives in the service's event loop."""

    def __init__(self) -> None:
        self.subscriptions: dict[Topic, set[Subscription]] = defaultdict(set)

    def subscribe(
        self, topic: Topic, capacity: int = DEFAULT_CAPACITY, *, partial: bool = False
    ) -> Subscription:
        """A new subscription to ``topic``; ``partial`` also delivers partial bar updates."""
        if topic[0] not in STREAMS:
            raise ValueError(f"no live stream {topic[0]!r}: choose one of {STREAMS}")
        subscription = Subscription(self, topic, capacity, partial)
        self.subscriptions[topic].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.get(subscription.topic, set()).discard(subscription)

    def wants(self, topic: Topic, *, partial: bool = False) -> bool:
        """Does anyone subscribe to ``topic`` (to its partial updates, with ``partial``)?"""
        return any(s.partial or not partial for s in self.subscriptions.get(topic, ()))

    def publish(self, topic: Topic, item: object, *, partial: bool = False) -> None:
        """Offer ``item`` to the topic's subscribers (a partial update: to those that
        asked for them)."""
        for subscription in list(self.subscriptions.get(topic, ())):
            if subscription.partial or not partial:
                subscription.offer(item)

    def close(self) -> None:
        """End every subscription (the service stops)."""
        for subscriptions in self.subscriptions.values():
            for subscription in subscriptions:
                subscription.end()


async def iterate(subscription: Subscription) -> AsyncIterator[object]:
    """The subscription's items until it ends; unsubscribes when the consumer leaves."""
    try:
        async for item in subscription:
            yield item
    finally:
        subscription.close()

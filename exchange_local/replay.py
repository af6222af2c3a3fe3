"""One venue's replay: its messages pushed, in tape order and at the chosen speed, to the
connections subscribed to their channels.

The replay keeps one position, like an exchange's single live stream: a connection that
subscribes late, or comes back after a drop, receives what is pushed from then on.
With `hold_when_idle` (the default) the tape only advances while some connection is
subscribed to the venue, so an outage loses only the frames in flight, and a test can
stop and restart the server without the day running past unobserved. Frames are
pushed to one connection after another and each push waits for its socket, so the
slowest reader sets the pace (as fast as possible means as fast as the clients read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from exchange_local.wire import Message

US_PER_SECOND = 1_000_000
# As fast as possible still yields to the event loop this often (new connections, drops).
_YIELD_EVERY = 64


@dataclass(eq=False)
class Subscriber:
    """A connection's subscriptions and how to push a message to it."""

    channels: set[str]
    push: Callable[[Message, int], Awaitable[None]]
    closed: bool = False
    pushed: int = 0
    authorized: bool = False  # Deribit: authenticated with public/auth


@dataclass(eq=False)
class VenueReplay:
    """Pushes `messages` to `subscribers`; `speed` None is as fast as possible, 1.0 real time
    (by the tape's receive times), k k-fold."""

    venue: str
    messages: Sequence[Message]
    speed: float | None = None
    hold_when_idle: bool = True
    position: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        self._wake.set()

    def remove(self, subscriber: Subscriber) -> None:
        subscriber.closed = True
        self.subscribers.discard(subscriber)

    def changed(self) -> None:
        """A subscriber's channels changed: the replay looks again whether anyone listens."""
        self._wake.set()

    def _listening(self) -> bool:
        return any(s.channels and not s.closed for s in self.subscribers)

    async def run(self) -> None:
        """Replay to the end of the tape (then stay quiet, as a feed with no news)."""
        anchor: tuple[float, int] | None = None  # (wall seconds, tape µs) pacing is measured from
        while self.position < len(self.messages):
            if self.hold_when_idle and not self._listening():
                self._wake.clear()
                await self._wake.wait()
                anchor = None
                continue
            message = self.messages[self.position]
            if self.speed:
                if anchor is None:
                    anchor = (time.monotonic(), message.local_us)
                due = anchor[0] + (message.local_us - anchor[1]) / US_PER_SECOND / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            sequence = self.position + 1
            self.position += 1
            for subscriber in list(self.subscribers):
                if message.channel in subscriber.channels and not subscriber.closed:
                    try:
                        await subscriber.push(message, sequence)
                        subscriber.pushed += 1
                    except (ConnectionError, RuntimeError):
                        self.remove(subscriber)
            if not self.speed and self.position % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self.finished = True

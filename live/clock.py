"""A venue's clock in exchange time, and the stretches its feed was down. Pure.

Bars close on exchange time, the time the batch candles are cut on: the clock is the
latest exchange timestamp the venue sent, moved on by the wall time elapsed since, so a
quiet venue's bars still close, and a replayed day (faster than real time) closes its
bars as its ticks say. A bar closes once the clock is ``grace`` past its end, the time
late messages of other streams of the venue are given.

An outage runs from the clock's reading when the feed was lost to its reading at the
first tick after the venue came back; every bar overlapping it is incomplete.
"""

import time
from collections.abc import Callable

WallClock = Callable[[], float]  # seconds, monotonic


class VenueClock:
    """Exchange time of one venue (µs UTC) and its outages."""

    def __init__(self, venue: str, grace_us: int, wall: WallClock = time.monotonic) -> None:
        self.venue = venue
        self.grace_us = grace_us
        self._wall = wall
        self.latest_us: int | None = None
        self._latest_wall = 0.0
        self.down_since_us: int | None = None  # exchange time; None while connected
        self._back = False  # reconnected, waiting for the first tick
        self.outages: list[tuple[int, int]] = []

    def saw(self, timestamp_us: int) -> None:
        """A tick stamped ``timestamp_us`` arrived."""
        if self.latest_us is None or timestamp_us > self.now_us():
            self.latest_us = timestamp_us
            self._latest_wall = self._wall()
        if self._back and self.down_since_us is not None:
            self.outages.append((self.down_since_us, self.now_us()))
            self.down_since_us, self._back = None, False

    def now_us(self) -> int:
        """The venue's exchange time now (0 before its first tick)."""
        if self.latest_us is None:
            return 0
        return self.latest_us + int((self._wall() - self._latest_wall) * 1_000_000)

    def closes_until(self) -> int:
        """Bars ending at or before this (µs) can close."""
        return self.now_us() - self.grace_us if self.latest_us is not None else 0

    def disconnected(self) -> None:
        if self.down_since_us is None:
            self.down_since_us = self.now_us() if self.latest_us is not None else 0
        self._back = False

    def reconnected(self) -> None:
        if self.down_since_us is not None:
            self._back = True

    def outage_overlaps(self, start_us: int, end_us: int) -> bool:
        """Did an outage (past or still running) touch ``[start_us, end_us)``?"""
        if self.down_since_us is not None and self.down_since_us < end_us:
            return True
        return any(down < end_us and up > start_us for down, up in self.outages)

    def forget_before(self, start_us: int) -> None:
        """Outages that ended before ``start_us`` touch no bar still open."""
        self.outages = [(down, up) for down, up in self.outages if up > start_us]

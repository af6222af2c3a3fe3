"""Holes inside a day: an instrument's longest silence against its usual spacing. Pure."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

# A silence is a hole when it is this many times the usual spacing between ticks...
SILENCE_FACTOR = 100
# ...and at least this long: busy instruments pause for seconds without anything missing.
SILENCE_FLOOR_SECONDS = 300
# Gaps shorter than this (µs) are counted in a histogram of as many buckets, the rest kept
# as they are: a day holds at most 86,400 s / 65.5 ms = 1.3 million such longer gaps.
_COUNTED_US = 1 << 16


@dataclass(frozen=True)
class Silence:
    """The longest stretch without a tick, in exchange time, and the usual spacing."""

    start: datetime
    end: datetime
    seconds: float
    usual_spacing_seconds: float

    @property
    def is_hole(self) -> bool:
        """Whether the silence is far above the instrument's usual spacing."""
        limit = max(SILENCE_FACTOR * self.usual_spacing_seconds, SILENCE_FLOOR_SECONDS)
        return self.seconds > limit


def longest_silence(timestamps_us: np.ndarray, day_start_us: int, day_end_us: int) -> Silence:
    """The longest gap between ticks of one instrument over ``[day_start, day_end)``.

    ``timestamps_us`` are exchange timestamps (µs since the epoch, UTC) in any order;
    the day's edges count, so a feed that starts late or stops early is a silence too.
    The usual spacing is the median gap between consecutive distinct timestamps. Of equal
    longest gaps, the earliest is reported. ``timestamps_us`` is left as it was.
    """
    return longest_silence_in_pieces([(timestamps_us, None)], day_start_us, day_end_us)


def longest_silence_in_pieces(
    pieces: Iterable[tuple[np.ndarray, int | None]], day_start_us: int, day_end_us: int
) -> Silence:
    """``longest_silence`` of the timestamps of every piece, each given with the smallest
    timestamp of all the pieces after it (None for the last): what a stored file's row
    groups and their footer statistics say. A piece is sorted (a day's file is ordered by
    receive time, so its exchange times are nearly sorted) together with whatever of the
    piece before may still be passed by a later one; the rest is placed for good. Memory
    is a few pieces, not the day, and the pieces are left as they were.
    """
    scan = _Scan(day_start_us, day_end_us)
    held = np.empty(0, np.int64)
    for values, later_minimum in pieces:
        inside = _inside(values, day_start_us, day_end_us)
        merged = np.concatenate((held, inside)) if held.size else inside
        if merged.size > 1 and bool((merged[1:] < merged[:-1]).any()):
            merged = np.sort(merged, kind="stable")  # a copy: the piece itself is untouched
        if later_minimum is None:
            settled = merged.size
        else:
            # Nothing after is earlier than this (nor than the day's start).
            floor = max(int(later_minimum), day_start_us)
            settled = int(np.searchsorted(merged, floor, side="right"))
        scan.place(merged[:settled])
        held = merged[settled:]
    scan.place(held)
    return scan.result()


def _inside(values: np.ndarray, day_start_us: int, day_end_us: int) -> np.ndarray:
    if not values.size or day_start_us <= values.min() <= values.max() < day_end_us:
        return values
    return values[(values >= day_start_us) & (values < day_end_us)]


class _Scan:
    """The day's distinct timestamps taken in order, a run at a time: the widest gap (the
    earliest of equal ones) and the gaps' distribution, for their median."""

    def __init__(self, day_start_us: int, day_end_us: int) -> None:
        self.day_start_us, self.day_end_us = day_start_us, day_end_us
        self.first: int | None = None
        self.last: int | None = None
        self.widest = -1
        self.widest_bounds = (0, 0)
        self.counted = np.zeros(_COUNTED_US, np.int64)  # pages touched only as used
        self.used = 0
        self.kept: list[np.ndarray] = []

    def place(self, ordered: np.ndarray) -> None:
        """The next timestamps in order, none earlier than any placed before."""
        if not ordered.size:
            return
        if self.last is None:
            self.first = int(ordered[0])
            steps, lefts = np.diff(ordered), ordered[:-1]
        else:
            steps, lefts = np.diff(ordered, prepend=self.last), None
        if steps.size:
            at = int(np.argmax(steps))
            if steps[at] > self.widest:  # strictly: of equal gaps the earliest stays
                self.widest = int(steps[at])
                left = int(lefts[at]) if lefts is not None else self._left(ordered, at)
                self.widest_bounds = (left, left + self.widest)
            # Repeated timestamps make zero steps: the gaps are those between distinct ones.
            gaps = steps[steps > 0]
            short = gaps < _COUNTED_US
            counts = np.bincount(gaps[short])  # as long as the longest short gap needs
            self.counted[: counts.size] += counts
            self.used = max(self.used, counts.size)
            if not short.all():
                self.kept.append(gaps[~short])
        self.last = int(ordered[-1])

    def _left(self, ordered: np.ndarray, at: int) -> int:
        return self.last if at == 0 else int(ordered[at - 1])  # type: ignore[return-value]

    def result(self) -> Silence:
        start, end = self.day_start_us, self.day_end_us
        if self.first is None or self.last is None:
            whole = (end - start) / 1e6
            return Silence(_utc(start), _utc(end), whole, whole)
        before, after = self.first - start, end - self.last
        if before >= self.widest and before >= after:
            bounds = (start, self.first)
        elif self.widest >= after:
            bounds = self.widest_bounds
        else:
            bounds = (self.last, end)
        gap = (bounds[1] - bounds[0]) / 1e6
        median = self._median()
        return Silence(
            start=_utc(bounds[0]),
            end=_utc(bounds[1]),
            seconds=gap,
            usual_spacing_seconds=gap if median is None else median / 1e6,
        )

    def _median(self) -> float | None:
        """The median gap, exactly: counted gaps by their histogram, the longer ones
        sorted (sorting, unlike numpy's partition, does not slow down on the millions of
        repeats that timestamps in whole milliseconds make)."""
        below = np.cumsum(self.counted[: max(self.used, 1)])
        kept = np.sort(np.concatenate(self.kept)) if self.kept else np.empty(0, np.int64)
        total = int(below[-1]) + kept.size
        if not total:
            return None

        def kth(k: int) -> int:  # the k-th smallest, from 0
            if k < below[-1]:
                return int(np.searchsorted(below, k, side="right"))
            return int(kept[k - int(below[-1])])

        half = total // 2
        return float(kth(half)) if total % 2 else (kth(half - 1) + kth(half)) / 2


def _utc(microseconds: int) -> datetime:
    return datetime.fromtimestamp(microseconds / 1e6, tz=UTC)

"""Holes inside a day: an instrument's longest silence against its usual spacing. Pure."""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

# A silence is a hole when it is this many times the usual spacing between ticks...
SILENCE_FACTOR = 100
# ...and at least this long: busy instruments pause for seconds without anything missing.
SILENCE_FLOOR_SECONDS = 300


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
    longest gaps, the earliest is reported.
    """
    inside = timestamps_us[(timestamps_us >= day_start_us) & (timestamps_us < day_end_us)]
    steps = np.diff(inside)
    # A day's file is ordered by receive time, so its exchange times are nearly sorted:
    # one linear pass says whether a sort is needed, and timsort is linear on such runs.
    if (steps < 0).any():
        inside = np.sort(inside, kind="stable")
        steps = np.diff(inside)
    # Repeated timestamps make zero steps, which never win against the day's end (> 0):
    # the gaps between distinct timestamps are read without first making them unique.
    edges = np.concatenate(([day_start_us], inside, [day_end_us]))
    gaps = np.diff(edges)
    longest = int(np.argmax(gaps))
    distinct = steps[steps > 0]
    usual = float(np.median(distinct)) / 1e6 if distinct.size else float(gaps[longest]) / 1e6
    return Silence(
        start=_utc(int(edges[longest])),
        end=_utc(int(edges[longest + 1])),
        seconds=float(gaps[longest]) / 1e6,
        usual_spacing_seconds=usual,
    )


def _utc(microseconds: int) -> datetime:
    return datetime.fromtimestamp(microseconds / 1e6, tz=UTC)

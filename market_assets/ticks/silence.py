"""Holes inside a day: an instrument's longest silence against its usual spacing. Pure."""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

# A silence is a hole when it is this many times the usual spacing between ticks...
SILENCE_FACTOR = 100
# ...and at least this long: busy instruments pause for seconds without anything missing.
SILENCE_FLOOR_SECONDS = 300
# The median's counting buckets: 2**17 of them over the high bits of the gaps.
_HIGH_BITS = 17


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
    if (
        timestamps_us.size
        and day_start_us <= timestamps_us.min() <= timestamps_us.max() < day_end_us
    ):
        inside = timestamps_us.copy()  # a busy day's file: every tick inside the day
    else:
        inside = timestamps_us[(timestamps_us >= day_start_us) & (timestamps_us < day_end_us)]
    if not inside.size:
        whole = (day_end_us - day_start_us) / 1e6
        return Silence(_utc(day_start_us), _utc(day_end_us), whole, whole)
    # Two arrays of the day's size, worked in place: a busy day has millions of ticks,
    # and each fresh array of that size costs more in page faults than its arithmetic.
    steps = np.diff(inside)
    # A day's file is ordered by receive time, so its exchange times are nearly sorted:
    # one linear pass says whether a sort is needed, and timsort is linear on such runs.
    if (steps < 0).any():
        inside.sort(kind="stable")
        np.subtract(inside[1:], inside[:-1], out=steps)
    # The gaps are the day's start to the first tick, the steps, the last tick to the
    # day's end; repeated timestamps make zero steps, which never win against the last
    # gap (> 0), so distinct timestamps need not be made unique first.
    first, last = int(inside[0]) - day_start_us, day_end_us - int(inside[-1])
    middle = int(np.argmax(steps)) if steps.size else -1
    widest = int(steps[middle]) if steps.size else -1
    if first >= widest and first >= last:
        bounds = (day_start_us, int(inside[0]))
    elif widest >= last:
        bounds = (int(inside[middle]), int(inside[middle + 1]))
    else:
        bounds = (int(inside[-1]), day_end_us)
    gap = bounds[1] - bounds[0]
    positive = steps > 0
    count = int(np.count_nonzero(positive))
    # The distinct gaps go where the timestamps were (no longer needed), and the median's
    # scratch where the steps were.
    distinct = np.compress(positive, steps, out=inside[:count])
    return Silence(
        start=_utc(bounds[0]),
        end=_utc(bounds[1]),
        seconds=gap / 1e6,
        usual_spacing_seconds=_median(distinct, steps[:count]) / 1e6 if count else gap / 1e6,
    )


def _median(values: np.ndarray, scratch: np.ndarray) -> float:
    """``np.median`` of positive int64 ``values``, by counting: linear however many
    values repeat (timestamps in whole milliseconds make gaps that repeat by the
    million, on which numpy's partition slows down a hundredfold). The high bits are
    counted first, then the low bits of the values in the bucket holding the middle.
    ``scratch``, an int64 array of the same size, is written over."""
    shift = max(0, int(values.max()).bit_length() - _HIGH_BITS)
    high = np.right_shift(values, shift, out=scratch)
    below = np.cumsum(np.bincount(high))

    def kth(k: int) -> int:  # the k-th smallest, from 0
        bucket = int(np.searchsorted(below, k, side="right"))
        rank = k - (int(below[bucket - 1]) if bucket else 0)
        low = values[high == bucket] & ((1 << shift) - 1)
        return (bucket << shift) | int(np.searchsorted(np.cumsum(np.bincount(low)), rank, "right"))

    half = values.size // 2
    return float(kth(half)) if values.size % 2 else (kth(half - 1) + kth(half)) / 2


def _utc(microseconds: int) -> datetime:
    return datetime.fromtimestamp(microseconds / 1e6, tz=UTC)

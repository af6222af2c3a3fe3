"""Holes inside a day."""

from datetime import UTC, datetime
from itertools import pairwise

import numpy as np

from market_assets.ticks.silence import longest_silence

DAY = int(datetime(2024, 1, 2, tzinfo=UTC).timestamp() * 1e6)
US = 1_000_000


def test_a_steady_feed_has_no_hole() -> None:
    ticks = np.arange(DAY, DAY + 86_400 * US, 2 * US)
    silence = longest_silence(ticks, DAY, DAY + 86_400 * US)
    assert silence.usual_spacing_seconds == 2
    assert not silence.is_hole


def test_an_hour_without_ticks_is_a_hole_with_its_bounds() -> None:
    ticks = np.arange(DAY, DAY + 86_400 * US, 2 * US)
    ticks = ticks[(ticks < DAY + 36_000 * US) | (ticks >= DAY + 39_600 * US)]
    silence = longest_silence(ticks[::-1], DAY, DAY + 86_400 * US)  # order does not matter
    assert silence.is_hole
    assert silence.start == datetime(2024, 1, 2, 9, 59, 58, tzinfo=UTC)
    assert silence.end == datetime(2024, 1, 2, 11, tzinfo=UTC)


def test_a_feed_that_stops_early_is_silent_until_midnight() -> None:
    ticks = np.arange(DAY, DAY + 3_600 * US, US)
    silence = longest_silence(ticks, DAY, DAY + 86_400 * US)
    assert silence.end == datetime(2024, 1, 3, tzinfo=UTC)
    assert silence.is_hole


def test_sparse_instruments_are_judged_by_their_own_spacing() -> None:
    ticks = np.arange(DAY, DAY + 86_400 * US, 600 * US)  # a trade every ten minutes
    assert not longest_silence(ticks, DAY, DAY + 86_400 * US).is_hole


def _brute_force(ticks: list[int], start: int, end: int) -> tuple[int, int, float]:
    """(start, end) of the earliest longest gap and the median distinct spacing (s), by
    walking the sorted distinct timestamps one by one."""
    points = sorted({t for t in ticks if start <= t < end})
    edges = [start, *points, end]
    best = 0
    for i in range(1, len(edges) - 1):
        if edges[i + 1] - edges[i] > edges[best + 1] - edges[best]:
            best = i
    spacings = sorted(b - a for a, b in pairwise(points))
    if not spacings:
        usual = (edges[best + 1] - edges[best]) / 1e6
    elif len(spacings) % 2:
        usual = spacings[len(spacings) // 2] / 1e6
    else:
        usual = (spacings[len(spacings) // 2 - 1] + spacings[len(spacings) // 2]) / 2e6
    return edges[best], edges[best + 1], usual


def test_the_kernel_agrees_with_a_brute_force_walk_on_nearly_sorted_days() -> None:
    generator = np.random.default_rng(7)
    end = DAY + 86_400 * US
    cases = [
        [],
        [DAY],
        [DAY + 5 * US] * 4,
        [DAY, DAY + 10 * US, DAY + 20 * US, end - 10 * US],  # equal gaps: the earliest wins
        [DAY - US, end, end + US],  # nothing inside the day
    ]
    for _ in range(40):
        n = int(generator.integers(2, 3_000))
        # Bursts of equal timestamps, rare steps back as in a file ordered by receive time,
        # a hole now and then, and a few ticks outside the day.
        steps = generator.choice([0, 1, 3, 40, 900], n, p=[0.2, 0.3, 0.3, 0.19, 0.01]) * US
        ticks = DAY + int(generator.integers(-100, 5_000)) * US + np.cumsum(steps)
        back = generator.random(n) < 0.02
        ticks[back] -= generator.integers(1, 2_000, int(back.sum())) * 1_000
        cases.append(ticks.tolist())
    for ticks in cases:
        given = np.array(ticks, dtype=np.int64)
        found = longest_silence(given, DAY, end)
        assert given.tolist() == ticks  # worked on its own copy
        first, last, usual = _brute_force(ticks, DAY, end)
        assert (found.start, found.end) == (
            datetime.fromtimestamp(first / 1e6, tz=UTC),
            datetime.fromtimestamp(last / 1e6, tz=UTC),
        ), ticks[:20]
        assert found.seconds == (last - first) / 1e6
        assert found.usual_spacing_seconds == usual

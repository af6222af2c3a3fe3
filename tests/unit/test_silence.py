"""Holes inside a day."""

from datetime import UTC, datetime

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

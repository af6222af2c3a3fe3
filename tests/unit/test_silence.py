"""Holes inside a day."""

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from market_assets.ticks.checks import timestamp_pieces
from market_assets.ticks.silence import longest_silence, longest_silence_in_pieces

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


def _nearly_sorted_days(generator: np.random.Generator, unit: int) -> list[list[int]]:
    """Bursts of equal timestamps, rare steps back as in a file ordered by receive time,
    a hole now and then, and a few ticks outside the day; steps in ``unit`` µs."""
    days = []
    for _ in range(40):
        n = int(generator.integers(2, 3_000))
        steps = generator.choice([0, 1, 3, 40, 900], n, p=[0.2, 0.3, 0.3, 0.19, 0.01]) * unit
        ticks = DAY + int(generator.integers(-100, 5_000)) * unit + np.cumsum(steps)
        back = generator.random(n) < 0.02
        ticks[back] -= generator.integers(1, 2_000, int(back.sum())) * max(unit // 1_000, 1)
        days.append(ticks.tolist())
    return days


def _assert_brute_force(found, ticks: list[int], end: int) -> None:
    first, last, usual = _brute_force(ticks, DAY, end)
    assert (found.start, found.end) == (
        datetime.fromtimestamp(first / 1e6, tz=UTC),
        datetime.fromtimestamp(last / 1e6, tz=UTC),
    ), ticks[:20]
    assert found.seconds == (last - first) / 1e6
    assert found.usual_spacing_seconds == usual


def test_the_kernel_agrees_with_a_brute_force_walk_on_nearly_sorted_days() -> None:
    generator = np.random.default_rng(7)
    end = DAY + 86_400 * US
    cases = [
        [],
        [DAY],
        [DAY + 5 * US] * 4,
        [DAY, DAY + 10 * US, DAY + 20 * US, end - 10 * US],  # equal gaps: the earliest wins
        [DAY - US, end, end + US],  # nothing inside the day
        # The median between the longest gap counted and the shortest kept (65,536 µs).
        [DAY, DAY + 1_000, DAY + 3_000, DAY + 73_000, DAY + 153_000],
        [DAY, DAY + 65_535, DAY + 131_071, DAY + 196_607],
    ]
    # Steps of seconds (every gap kept as it is) and of milliseconds (gaps counted).
    cases += _nearly_sorted_days(generator, US) + _nearly_sorted_days(generator, 1_000)
    for ticks in cases:
        given = np.array(ticks, dtype=np.int64)
        found = longest_silence(given, DAY, end)
        assert given.tolist() == ticks  # worked on its own copy
        _assert_brute_force(found, ticks, end)


def test_pieces_with_their_later_minimum_give_the_whole_days_answer() -> None:
    """As the check reads a stored file: row groups of any size, each with the smallest
    timestamp after it (what the footer says), ticks passing each other across them."""
    generator = np.random.default_rng(11)
    end = DAY + 86_400 * US
    for ticks in _nearly_sorted_days(generator, US) + _nearly_sorted_days(generator, 1_000):
        given = np.array(ticks, dtype=np.int64)
        # Cuts at random and just before ticks that step back, so they pass the piece before.
        back = np.flatnonzero(given[1:] < given[:-1]) + 1
        cuts = np.unique(
            np.concatenate([generator.integers(0, given.size, 8), back[::2]]).astype(int)
        )
        pieces = np.split(given, cuts)
        later = [
            int(np.concatenate(pieces[i + 1 :]).min())
            if any(p.size for p in pieces[i + 1 :])
            else None
            for i in range(len(pieces))
        ]
        found = longest_silence_in_pieces(zip(pieces, later, strict=True), DAY, end)
        assert given.tolist() == ticks
        _assert_brute_force(found, ticks, end)


def test_a_stored_files_batches_give_the_whole_columns_answer(tmp_path: Path) -> None:
    """The silence check's reading: batches (7 rows) that straddle row groups (5), each with the
    smallest later timestamp the footer bounds; a footer without statistics is read whole."""
    generator = np.random.default_rng(5)
    end = DAY + 86_400 * US
    days = _nearly_sorted_days(generator, 1_000)[:10]
    for _ in range(5):  # shuffled in blocks of 8 rows: ticks pass across groups and batches
        day = np.sort(DAY + generator.integers(0, 86_400 * US, 200))
        blocks = day.reshape(-1, 8)
        days.append(generator.permuted(blocks, axis=1).ravel().tolist())
    for number, ticks in enumerate(days):
        column = pa.array(np.array(ticks, dtype=np.int64)).cast(pa.timestamp("us", tz="UTC"))
        for statistics in (True, False):
            path = tmp_path / f"{number}-{statistics}.parquet"
            table = pa.table({"timestamp": column})
            pq.write_table(table, path, row_group_size=5, write_statistics=statistics)
            with pq.ParquetFile(path) as stored:
                pieces = list(timestamp_pieces(stored, batch_rows=7))
            assert len(pieces) == (-(-len(ticks) // 7) if statistics else 1)
            found = longest_silence_in_pieces(pieces, DAY, end)
            _assert_brute_force(found, ticks, end)

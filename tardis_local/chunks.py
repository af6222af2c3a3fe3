"""Event timing: one chunk of a symbol's exchange day cut into messages, each with its two clocks.

Events get an exchange `timestamp` inside their chunk and a receive `local_timestamp`
a few milliseconds later (µs since the epoch, UTC); each chunk is seeded from its
coordinates, so any chunk can be rebuilt alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from tardis_local.data_types import PROFILES, Profile
from tardis_local.market import Instrument, mid_path, rng
from tardis_local.timestamps import US_PER_DAY, day_us


@dataclass
class Chunk:
    """One chunk's event timing: rows grouped into exchange messages (bursts)."""

    rng: np.random.Generator
    instrument: Instrument
    n: int
    group: np.ndarray  # message index of each row
    position: np.ndarray  # row's position inside its message
    ts: np.ndarray  # per row, µs
    local: np.ndarray  # per row, µs
    mid: np.ndarray  # per row, mid price in quote currency (USD-ish)
    first_row_ordinal: int  # rows of this exchange day before this chunk, for sequential ids
    gen_day: date


def _schedule(
    generator: np.random.Generator, n: int, start: int, end: int, day_end: int, profile: Profile
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Message sizes, exchange timestamps and local timestamps (µs) for `n` rows in [start, end)."""
    sizes = np.where(generator.random(n) < profile.burst_share, 1 + generator.geometric(0.35, n), 1)
    cumulative = np.cumsum(sizes)
    groups = int(np.searchsorted(cumulative, n)) + 1
    sizes = sizes[:groups].copy()
    sizes[-1] -= cumulative[groups - 1] - n
    ts = np.sort(generator.integers(start, end, groups))
    latency = np.clip(
        np.round(generator.lognormal(math.log(3_000), 0.6, groups)), 500, 60_000
    ).astype(np.int64)

    # A slow packet followed by a fast one: received in the other order, so after sorting by
    # local_timestamp the exchange timestamp steps back, as Tardis files show.
    chosen = generator.random(groups) < 0.01
    chosen[0] = False
    previous = chosen[:-1].copy()
    chosen[1:] &= ~previous
    later = np.flatnonzero(chosen)
    gap = generator.integers(100, 1_000, later.size)
    overtake = generator.integers(50, 500, later.size)
    ts[later] = np.minimum(ts[later - 1] + gap, end - 1)
    latency[later - 1] += gap + 2_000
    latency[later] = latency[later - 1] - (ts[later] - ts[later - 1]) - overtake

    # Messages sent just before midnight but received after it belong to the next day's file.
    tail = min(profile.midnight_groups, groups) if end == day_end else 0
    offsets = np.sort(generator.integers(300, 2_500, profile.midnight_groups))[::-1]
    tail_latency = 3_000 + generator.integers(0, 4_000, profile.midnight_groups)
    if tail:
        ts[-tail:] = end - offsets[-tail:]
        latency[-tail:] = tail_latency[-tail:]
    return sizes, ts, ts + latency


def build_chunk(
    exchange: str,
    data_type: str,
    symbol: str,
    gen_day: date,
    index: int,
    count: int,
    rows_per_day: int,
) -> Chunk | None:
    """Chunk `index` of `count` of (exchange, data_type, symbol)'s exchange day `gen_day` (UTC).

    The day's `rows_per_day` rows are shared out evenly; None when this chunk gets none.
    """
    instrument = Instrument.load(exchange, symbol, gen_day)
    n = rows_per_day // count + (1 if index < rows_per_day % count else 0)
    if n == 0:
        return None
    generator = rng(
        exchange, data_type, instrument.symbol, gen_day.isoformat(), index, count, rows_per_day
    )
    start_of_day = day_us(gen_day)
    span = US_PER_DAY // count
    start = start_of_day + index * span
    end = start_of_day + US_PER_DAY if index == count - 1 else start + span
    sizes, group_ts, group_local = _schedule(
        generator, n, start, end, start_of_day + US_PER_DAY, PROFILES[data_type]
    )
    group_mid = mid_path(generator, instrument, group_ts, span)

    group = np.repeat(np.arange(sizes.size), sizes)
    first_of_group = np.cumsum(sizes) - sizes
    return Chunk(
        rng=generator,
        instrument=instrument,
        n=n,
        group=group,
        position=np.arange(n) - first_of_group[group],
        ts=group_ts[group],
        local=group_local[group],
        mid=group_mid[group],
        first_row_ordinal=index * (rows_per_day // count) + min(index, rows_per_day % count),
        gen_day=gen_day,
    )

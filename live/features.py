"""MFT features of closed live bars, from the batch feature code (``day_features``).

For each instrument and feature timeframe the service keeps the bars the features look
back on: the lake's batch candles of the look-back days before the first live bar, then
every complete live bar. A closed bar's features are ``day_features`` over them, the row
of that bar: the features read only bars at or before a row's bar, so bars of the day
still to come change nothing, and the live row is the row the batch code computes from
the same candles.

An incomplete bar (an outage, or the service's start, cut some of its ticks) is a
missing bar to the features, as a missing day is to the batch code: it gets no row, and
the windows over it are null until enough complete bars follow.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from live.bars import LiveBar, LiveFeatureRow, bars_table, plain_rows
from market_assets.candles.bars import US_PER_DAY
from market_assets.candles.columns import CANDLES
from market_assets.columns import TIMESTAMP
from market_assets.features.build import day_features, lookback_days
from market_reader import Lake
from market_reader.errors import MissingDataError
from partitions import FEATURE_TIMEFRAMES, TIMEFRAMES

# (instrument_key, timeframe, start µs, end µs) -> the lake's candles in [start, end).
HistoryReader = Callable[[str, str, int, int], pa.Table | None]
# Live bars are combined into one table every this many bars.
COMBINE_EVERY = 64


def lake_history(root: str) -> HistoryReader:
    """Candles from the lake at ``root``, day by day, a missing day skipped (the features
    treat it as missing bars, as the batch code does)."""
    lake = Lake(root)

    def read(key: str, timeframe: str, start_us: int, end_us: int) -> pa.Table | None:
        tables = []
        for day_us in range(start_us - start_us % US_PER_DAY, end_us, US_PER_DAY):
            start = datetime.fromtimestamp(max(day_us, start_us) / 1e6, UTC)
            end = datetime.fromtimestamp(min(day_us + US_PER_DAY, end_us) / 1e6, UTC)
            try:
                table = lake.candles(key, timeframe, start, end, as_="arrow")
            except (MissingDataError, FileNotFoundError):
                continue
            if table.num_rows:
                tables.append(table.select(CANDLES.schema.names).cast(CANDLES.schema))
        return pa.concat_tables(tables) if tables else None

    return read


class InstrumentFeatures:
    """One instrument's look-back of one feature timeframe."""

    def __init__(self, key: str, timeframe: str, history: pa.Table | None) -> None:
        self.key = key
        self.timeframe = timeframe
        self.seconds = TIMEFRAMES[timeframe]
        self.days = lookback_days(self.seconds)
        self.tables: list[pa.Table] = [history] if history is not None else []
        self.recent: list[dict[str, object]] = []

    def add(self, bar: LiveBar) -> LiveFeatureRow:
        """Take the closed bar in; its features (``known_at_us`` left to the caller)."""
        self.recent.append(bar.row)
        if len(self.recent) >= COMBINE_EVERY:
            self._combine()
        day_start = bar.timestamp_us - bar.timestamp_us % US_PER_DAY
        self._forget_before(day_start - self.days * US_PER_DAY)
        candles = pa.concat_tables([*self.tables, _candles(self.recent)])
        features = day_features(candles, day_start, self.seconds)
        at = pa.scalar(bar.timestamp_us, pa.int64()).cast(TIMESTAMP)
        [row] = plain_rows(features.filter(pc.equal(features["timestamp"], at)))
        return LiveFeatureRow(self.timeframe, row, 0)

    def _combine(self) -> None:
        self.tables = [pa.concat_tables([*self.tables, _candles(self.recent)]).combine_chunks()]
        self.recent = []

    def _forget_before(self, start_us: int) -> None:
        if not self.tables:
            return
        table = pa.concat_tables(self.tables)
        oldest = pc.min(table["timestamp"]).cast(pa.int64()).as_py()
        if oldest is not None and oldest < start_us - US_PER_DAY:
            at = pa.scalar(start_us, pa.int64()).cast(TIMESTAMP)
            self.tables = [table.filter(pc.greater_equal(table["timestamp"], at))]


class LiveFeatures:
    """Features of every instrument's closed bars of the feature timeframes."""

    def __init__(
        self,
        history: HistoryReader | None = None,
        timeframes: tuple[str, ...] = FEATURE_TIMEFRAMES,
    ) -> None:
        unknown = set(timeframes) - set(FEATURE_TIMEFRAMES)
        if unknown:
            raise ValueError(f"no features of {sorted(unknown)}: choose among {FEATURE_TIMEFRAMES}")
        self.history = history
        self.timeframes = timeframes
        self.instruments: dict[tuple[str, str], InstrumentFeatures] = {}

    def wants(self, bar: LiveBar) -> bool:
        return not bar.partial and bar.complete and bar.timeframe in self.timeframes

    def add(self, bar: LiveBar) -> LiveFeatureRow:
        """The features of a closed bar of a feature timeframe (blocking: run it off the
        event loop)."""
        entry = (bar.instrument_key, bar.timeframe)
        state = self.instruments.get(entry)
        if state is None:
            seconds = TIMEFRAMES[bar.timeframe]
            day_start = bar.timestamp_us - bar.timestamp_us % US_PER_DAY
            start = day_start - lookback_days(seconds) * US_PER_DAY
            history = (
                self.history(bar.instrument_key, bar.timeframe, start, bar.timestamp_us)
                if self.history is not None
                else None
            )
            state = self.instruments[entry] = InstrumentFeatures(*entry, history)
        return state.add(bar)


def _candles(rows: list[dict[str, object]]) -> pa.Table:
    """Live bar rows as a ``CANDLES`` table."""
    if not rows:
        return CANDLES.schema.empty_table()
    bars = [LiveBar("", row, False, True, 0) for row in rows]
    return bars_table(bars).select(CANDLES.schema.names)

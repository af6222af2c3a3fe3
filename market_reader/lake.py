"""``Lake``: the market data lake, one call per question.

Every call reads the lake's Parquet directly (local folder or ``gs://``), with nothing
else running: it opens only the partitions of the days asked for, by name, reads only
the row groups whose ``timestamp`` statistics meet the times asked for, and only the
columns asked for. Times are as ``market_reader.times`` takes them (aware, or ISO strings
read as UTC); ``start`` is inclusive, ``end`` exclusive. Results are pandas DataFrames by
default, Arrow tables (``as_="arrow"``) or polars DataFrames (``as_="polars"``) on request.
"""

import os
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from market_assets.instruments.columns import KEY_TYPES
from market_reader import coverage as lake_coverage
from market_reader.layout import (
    DEFINITIONS,
    SINGLE_FILE,
    Asset,
    asset_named,
    candle_asset,
    feature_asset,
)
from market_reader.output import Output, check_output, deliver
from market_reader.pushdown import KEY, TIME, Intervals
from market_reader.scan import Opened, Source, open_sources
from market_reader.sources import bar_sources, tick_sources
from market_reader.times import Duration, Moment, day_of, micros, span
from market_reader.windows import read_windows
from resources.environment import Environment
from resources.lake import ParquetLake
from resources.lake_handles import days_between


class Lake:
    """The lake at ``root`` (a folder or ``gs://bucket/prefix``; default the environment's
    ``MARKET_DATA_ROOT``). On GCS the environment's credentials are used, or unsigned
    requests when ``STORAGE_EMULATOR_HOST`` names an emulator."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        environment = Environment.read()
        self.root = environment.lake_root if root is None else os.fspath(root)
        self.store = ParquetLake(self.root, anonymous=bool(environment.storage_emulator_host))

    def __repr__(self) -> str:
        return f"Lake({self.root!r})"

    def instruments(
        self,
        day: Moment,
        venue: str,
        *,
        type: str | None = None,
        base: str | Sequence[str] | None = None,
        quote: str | Sequence[str] | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """The instrument definitions of ``venue`` (Tardis exchange id) on ``day`` (a date,
        an aware datetime or an ISO string; its UTC day): every instrument listed at any
        moment of it, one row each, sorted by ``instrument_key``. ``type`` keeps one
        instrument type (``spot``, ``perpetual``, ``future``, ``option`` or the key's
        ``SPOT_PAIR``...), ``base`` and ``quote`` one or several assets (``"BTC"``)."""
        check_output(as_)
        source = Source(DEFINITIONS, day_of(day), venue.lower(), SINGLE_FILE)
        opened = open_sources(self.store, [source])
        [reader] = opened.readers
        with reader:
            table = reader.read(range(reader.metadata.num_row_groups))
        mask = pa.array([True] * table.num_rows, type=pa.bool_())
        if type is not None:
            mask = pc.and_(mask, pc.equal(table.column("type"), _instrument_type(type)))
        for column, wanted in (("base", base), ("quote", quote)):
            if wanted is not None:
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                chosen = pa.array([v.upper() for v in values], type=pa.string())
                mask = pc.and_(mask, pc.is_in(table.column(column), value_set=chosen))
        return deliver(table.filter(mask), as_)

    def candles(
        self,
        instrument_keys: str | Sequence[str],
        timeframe: str,
        start: Moment,
        end: Moment,
        *,
        columns: Sequence[str] | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """The ``timeframe`` bars (``15s`` … ``1d``) of ``instrument_keys`` whose open
        ``timestamp`` (UTC) is in [start, end), across days and venues, sorted by
        (instrument_key, timestamp). ``columns``: the candle columns to return besides
        ``instrument_key`` and ``timestamp`` (default all; units in README "Candles")."""
        return self._bars(candle_asset(timeframe), instrument_keys, start, end, columns, as_)

    def features(
        self,
        instrument_keys: str | Sequence[str],
        timeframe: str,
        start: Moment,
        end: Moment,
        *,
        columns: Sequence[str] | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """The MFT features (``features/mft_{timeframe}``, ``1m`` … ``1d``) of
        ``instrument_keys`` for the bars whose ``timestamp`` (UTC) is in [start, end),
        sorted by (instrument_key, timestamp); ``known_at`` (UTC) is when a live system
        could have computed a row. ``columns`` as for ``candles``."""
        return self._bars(feature_asset(timeframe), instrument_keys, start, end, columns, as_)

    def ticks(
        self,
        instrument_key: str,
        data_type: str,
        start: Moment,
        end: Moment,
        *,
        columns: Sequence[str] | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """The ``data_type`` rows (``trades``, ``book_snapshot_5``…: Tardis' columns and
        units) of one instrument whose exchange ``timestamp`` (UTC, µs) is in [start,
        end), file after file in day order and in source order within a file. A range
        reaching a day's last moments finds its late rows in the next day's file. A
        ``LateRowsWarning`` says when that next day is not in the lake yet."""
        check_output(as_)
        asset, opened, intervals, keys = self._open_ticks(instrument_key, data_type, start, end)
        columns_read = opened.columns(columns, asset)
        return deliver(opened.read(intervals, keys, columns_read), as_)

    def ticks_batches(
        self,
        instrument_key: str,
        data_type: str,
        start: Moment,
        end: Moment,
        *,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The rows ``ticks`` returns, as Arrow record batches read one row group (at most
        32,768 rows) at a time: for a range too large for memory. Missing partitions are
        raised here, before the first batch."""
        asset, opened, intervals, keys = self._open_ticks(instrument_key, data_type, start, end)
        return opened.batches(intervals, keys, opened.columns(columns, asset))

    def windows(
        self,
        instrument_key: str,
        data_type_or_timeframe: str,
        times: Any,
        *,
        before: Duration,
        after: Duration,
        columns: Sequence[str] | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """For each time t of ``times`` (aware datetimes or ISO strings, a tz-aware pandas
        Series or DatetimeIndex), the rows of one instrument stamped in [t − before,
        t + after): ticks of a data type, or the bars of a candle timeframe whose open is
        in it. One frame, its first column ``window`` (t, UTC), sorted by window, then as
        ``ticks`` orders rows; a row in two windows appears in both, equal times are one
        window. ``before``/``after`` are timedeltas or strings such as ``"1min"``. Each file
        is opened and each row group read once for all the windows."""
        check_output(as_)
        table = read_windows(
            self.store, instrument_key, data_type_or_timeframe, times, before, after, columns
        )
        return deliver(table, as_)

    def coverage(
        self,
        asset: str | Sequence[str],
        start: Moment,
        end: Moment,
        *,
        venue: str | None = None,
        as_: Output = "pandas",
    ) -> Any:
        """Which partitions of ``asset`` (``"ticks/trades"``, ``"candles/1m"``…) the lake
        holds on the UTC days [start, end) touches, for ``venue`` or every venue found: one
        row per file with its footer's row count and bytes, ``status`` ``present`` or
        ``empty`` (Tardis published no data), then one ``missing`` row per (day, venue)
        without files."""
        check_output(as_)
        first, last = span(start, end)
        named = asset_named(asset if isinstance(asset, str) else tuple(asset))
        days = days_between(first, last)
        chosen = venue.lower() if venue else None
        table = lake_coverage.coverage(self.store, named, days, chosen)
        return deliver(table, as_, nullable_integers=True)

    def _bars(
        self,
        asset: Asset,
        instrument_keys: str | Sequence[str],
        start: Moment,
        end: Moment,
        columns: Sequence[str] | None,
        as_: Output,
    ) -> Any:
        check_output(as_)
        keys = [instrument_keys] if isinstance(instrument_keys, str) else list(instrument_keys)
        first, last = span(start, end)
        opened = open_sources(self.store, bar_sources(asset, keys, [(first, last)]))
        columns_read = opened.columns(columns, asset)
        table = opened.read(Intervals.union([micros(first)], [micros(last)]), keys, columns_read)
        return deliver(table.sort_by([(KEY, "ascending"), (TIME, "ascending")]), as_)

    def _open_ticks(
        self, instrument_key: str, data_type: str, start: Moment, end: Moment
    ) -> tuple[Asset, Opened, Intervals, list[str] | None]:
        first, last = span(start, end)
        asset, sources, keys = tick_sources(data_type, instrument_key, [(first, last)])
        intervals = Intervals.union([micros(first)], [micros(last)])
        return asset, open_sources(self.store, sources), intervals, keys


def _instrument_type(name: str) -> str:
    """The key's instrument type (``PERPETUAL``) for a Tardis one (``perpetual``) or itself."""
    canonical = KEY_TYPES.get(name.lower(), name.upper())
    if canonical not in KEY_TYPES.values():
        raise ValueError(
            f"type={name!r}: one of {', '.join(KEY_TYPES)} (or {', '.join(KEY_TYPES.values())})"
        )
    return canonical

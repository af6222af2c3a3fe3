"""One instrument's day of ticks turned into its candle table for each timeframe."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import US_PER_DAY, Column, bar_edges, null_columns, to_arrow
from market_assets.candles.columns import (
    BOOK_FIELDS,
    CANDLES,
    LIQUIDATION_FIELDS,
    OPTION_FIELDS,
    TICKER_FIELDS,
    TRADE_FIELDS,
)
from market_assets.candles.options import OptionGrid
from market_assets.candles.state_bars import StateTape, book_columns, ticker_columns
from market_assets.candles.trade_bars import TradeBars, TradeTape, liquidation_columns


@dataclass(frozen=True)
class InstrumentDay:
    """One instrument's ticks for a day, each table in source order (the day's file, then
    the next day's); None where the instrument has no such data."""

    instrument_key: str
    trades: pa.Table | None = None
    liquidations: pa.Table | None = None
    derivative_ticker: pa.Table | None = None
    book: pa.Table | None = None


def instrument_candles(
    ticks: InstrumentDay,
    day_start_us: int,
    timeframes: dict[str, int],
    options: OptionGrid | None = None,
    span_us: int = US_PER_DAY,
) -> dict[str, pa.Table]:
    """Per timeframe name, the instrument's bars of the day (``CANDLES.schema``).

    ``timeframes`` maps names to seconds; ``options`` are the features of the
    instrument's underlying, if it has listed options. ``span_us`` shorter than a day
    builds only the bars of ``[day_start_us, day_start_us + span_us)`` (the live
    service's closing bar), with the same arithmetic.
    """
    if options is not None and span_us != US_PER_DAY:
        raise ValueError("option features are laid over whole days only")
    trades = (
        TradeBars(TradeTape.of_day(ticks.trades, day_start_us, span_us))
        if ticks.trades is not None
        else None
    )
    liquidations = (
        TradeTape.of_day(ticks.liquidations, day_start_us, span_us)
        if ticks.liquidations is not None
        else None
    )
    ticker = (
        StateTape.of_day(ticks.derivative_ticker, day_start_us, span_us)
        if ticks.derivative_ticker is not None
        else None
    )
    book = StateTape.of_day(ticks.book, day_start_us, span_us) if ticks.book is not None else None
    trade_columns = trades.columns_by_timeframe(timeframes.values()) if trades is not None else {}
    tables = {}
    for name, seconds in timeframes.items():
        starts = bar_edges(day_start_us, seconds, span_us)[:-1]
        bars = starts.size
        columns: dict[str, Column] = {}
        columns |= (
            trade_columns[seconds] if trades is not None else null_columns(TRADE_FIELDS, bars)
        )
        columns |= (
            liquidation_columns(liquidations, seconds)
            if liquidations is not None
            else null_columns(LIQUIDATION_FIELDS, bars)
        )
        columns |= (
            ticker_columns(ticker, seconds)
            if ticker is not None
            else null_columns(TICKER_FIELDS, bars)
        )
        columns |= (
            book_columns(book, seconds) if book is not None else null_columns(BOOK_FIELDS, bars)
        )
        columns |= options.columns(seconds) if options else null_columns(OPTION_FIELDS, bars)
        arrays = [
            pa.array(np.full(bars, ticks.instrument_key, dtype=object), pa.string()),
            pa.array(starts, pa.int64()).cast(CANDLES.schema.field("timestamp").type),
        ]
        arrays += [to_arrow(columns[f.name], f.type) for f in list(CANDLES.schema)[2:]]
        tables[name] = pa.Table.from_arrays(arrays, schema=CANDLES.schema)
    return tables

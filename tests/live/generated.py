"""A generated day of tardis_local ticks, as the lake's tick tables and as the batch
candles computed from them (the reference the live bars are checked against)."""

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from live.slots import INPUTS
from market_assets.candles.bars import in_source_order, midnight_us
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.instruments.keys import instrument_key
from market_assets.ticks.columns import TICK_DATASETS
from market_assets.ticks.tardis_csv import read_tardis_csv
from tardis_local.catalog import instrument, symbol_data_types
from tardis_local.generate import write_dataset

BAR_INPUTS = ("trades", "book_snapshot_5", "derivative_ticker", "liquidations")


def key_of(venue: str, symbol: str) -> str:
    return instrument_key(venue, instrument(venue, symbol)["type"], symbol)


def tick_tables(
    folder: Path, venue: str, symbol: str, day: date, data_types: tuple[str, ...] = BAR_INPUTS
) -> dict[str, list[pa.Table]]:
    """Per data type Tardis publishes for the symbol: the tables of ``day``'s file and of
    the next day's, parsed by the ingest's own reader."""
    key = key_of(venue, symbol)
    published = set(symbol_data_types(venue, symbol))
    tables: dict[str, list[pa.Table]] = {}
    for data_type in data_types:
        if data_type not in published:
            continue
        for each in (day, day + timedelta(days=1)):
            path = folder / f"{venue}_{data_type}_{symbol}_{each}.csv.gz"
            write_dataset(path, venue, data_type, symbol, each)
            parts = list(read_tardis_csv(path, TICK_DATASETS[data_type], {symbol: key}))
            if parts:
                tables.setdefault(data_type, []).append(pa.concat_tables(parts))
    return tables


def batch_candles(
    key: str, tables: dict[str, list[pa.Table]], day: date, timeframes: dict[str, int]
) -> dict[str, pa.Table]:
    """The batch candles of the day from the same tables (the day's file, then the next's)."""
    ticks = InstrumentDay(
        key, **{INPUTS[data_type][0]: in_source_order(t) for data_type, t in tables.items()}
    )
    return instrument_candles(ticks, midnight_us(day), timeframes)

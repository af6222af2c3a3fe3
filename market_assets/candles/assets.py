"""Candle assets: every timeframe of a (day, venue), computed from the ticks in one pass.

Day D reads the day window of each tick input (``WITH_NEXT_DAY``: D's files and the rows
of D+1's files stamped inside D). Candles built while D+1 has not landed say so
(``next_day_included``) and are rebuilt by the automation condition once it does.
"""

import base64
from collections.abc import Iterator
from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    AutomationCondition,
    MetadataValue,
    Output,
    PartitionsDefinition,
    multi_asset,
)

from market_assets.candles.bars import BOOK_INPUT, TICKER_INPUT, TRADE_INPUT, midnight_us
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.chart import candlestick_png
from market_assets.candles.columns import CANDLES
from market_assets.candles.options import (
    CHAIN_COLUMNS,
    Chain,
    OptionGrid,
    candidate_expiries,
    option_grids,
    underlying_of,
)
from market_assets.columns import TIMESTAMP
from market_assets.runs import ONE_PARTITION_PER_RUN, day_and_venue
from market_assets.schemas import column_schema_metadata
from market_assets.ticks.types import instrument_key_of_file
from partitions import TIMEFRAMES, WITH_NEXT_DAY
from resources.lake_handles import DayWindow

# The tick assets the candles read, by the input name the feature groups use.
TICK_INPUTS: dict[str, str] = {
    "trades": "trades",
    "liquidations": "liquidations",
    "derivative_ticker": "derivative_ticker",
    "book": "book_snapshot_5",
    "options_chain": "options_chain",
}
# The columns each per-instrument input is read with.
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "trades": TRADE_INPUT,
    "liquidations": TRADE_INPUT,
    "derivative_ticker": TICKER_INPUT,
    "book": BOOK_INPUT,
}
# Charts are drawn from 5-minute bars up: finer days have too many candles to read.
CHART_MIN_SECONDS = 300

# Like Dagster's eager condition, but over the last two days: day D is rebuilt when its
# next day's ticks land, by which time D is no longer the latest partition.
CANDLE_AUTOMATION = (
    AutomationCondition.in_latest_time_window(timedelta(days=2))
    & (
        AutomationCondition.newly_missing() | AutomationCondition.any_deps_updated()
    ).since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("eager over the last two days")


def candle_key(timeframe: str) -> AssetKey:
    return AssetKey(["candles", timeframe])


def output_name(timeframe: str) -> str:
    return f"candles_{timeframe}"


def build_candles(partitions: PartitionsDefinition) -> AssetsDefinition:
    """The ``candles/{timeframe}`` assets of every timeframe, built together in one pass."""

    @multi_asset(
        outs={
            output_name(timeframe): AssetOut(
                key=candle_key(timeframe),
                description=(
                    f"{timeframe} candles of every instrument of the (day, venue): every bar "
                    "of the day, computed from the ticks, with trade, liquidation, derivative "
                    "ticker, book and option features (see market_assets/candles/columns.py)."
                ),
                kinds={"parquet"},
                is_required=False,
                automation_condition=CANDLE_AUTOMATION,
                metadata=column_schema_metadata(CANDLES),
            )
            for timeframe in TIMEFRAMES
        },
        ins={
            name: AssetIn(key=["ticks", data_type], partition_mapping=WITH_NEXT_DAY)
            for name, data_type in TICK_INPUTS.items()
        },
        partitions_def=partitions,
        group_name="candles",
        can_subset=True,
        backfill_policy=ONE_PARTITION_PER_RUN,
    )
    def candles(
        context: AssetExecutionContext,
        trades: DayWindow,
        liquidations: DayWindow,
        derivative_ticker: DayWindow,
        book: DayWindow,
        options_chain: DayWindow,
    ) -> Iterator[Output[pa.Table]]:
        inputs = {
            "trades": trades,
            "liquidations": liquidations,
            "derivative_ticker": derivative_ticker,
            "book": book,
        }
        yield from _candles(context, inputs, options_chain)

    return candles


def _candles(
    context: AssetExecutionContext, inputs: dict[str, DayWindow], options_chain: DayWindow
) -> Iterator[Output[pa.Table]]:
    day, venue = day_and_venue(context)
    timeframes = {
        timeframe: seconds
        for timeframe, seconds in TIMEFRAMES.items()
        if candle_key(timeframe) in context.selected_asset_keys
    }
    day_start_us = midnight_us(day)
    grids = _option_grids(options_chain, day_start_us)
    if grids:
        context.log.info(f"{day}|{venue}: option features for {', '.join(sorted(grids))}")
    instruments = _instrument_files(inputs)
    if not instruments:
        context.log.warning(f"{day}|{venue}: no ticks in the lake; every table is empty")
    built: dict[str, list[pa.Table]] = {timeframe: [] for timeframe in timeframes}
    late_trades = 0
    for number, (key, files) in enumerate(sorted(instruments.items()), 1):
        read = {
            name: inputs[name].read(file, (*INPUT_COLUMNS[name], "instrument_key"))
            for name, file in files.items()
        }
        for name, (table, _) in read.items():
            check_identity(table, key, f"{day}|{venue} {TICK_INPUTS[name]} {files[name]}")
        late_trades += _rows_from_next_day(read.get("trades"), day_start_us)
        ticks = InstrumentDay(key, **{name: table for name, (table, _) in read.items()})
        options = None if key.split(":")[1] == "OPTION" else grids.get(underlying_of(key))
        bars = instrument_candles(ticks, day_start_us, timeframes, options)
        for timeframe, table in bars.items():
            built[timeframe].append(table)
        rows = f"{read['trades'][0].num_rows:,} trade rows" if "trades" in read else "no trades"
        context.log.info(f"{day}|{venue} [{number}/{len(instruments)}] {key}: {rows}")
    complete = inputs["trades"].next_day_included
    if not complete:
        context.log.warning(
            f"{day}|{venue}: ticks of {day + timedelta(days=1)} are not in the lake yet, so "
            "trades stamped late on this day but received after midnight are missing; the "
            "candles are rebuilt when that day lands"
        )
    for timeframe, seconds in timeframes.items():
        table = (
            pa.concat_tables(built[timeframe]) if built[timeframe] else CANDLES.schema.empty_table()
        )
        yield Output(
            table,
            output_name(timeframe),
            metadata=_metadata(table, seconds, f"{day}|{venue} {timeframe}", complete, late_trades),
        )


def _instrument_files(inputs: dict[str, DayWindow]) -> dict[str, dict[str, str]]:
    """Per instrument key, the day's file of each tick input that has one."""
    found: dict[str, dict[str, str]] = {}
    for name, window in inputs.items():
        for file in window.file_names():
            found.setdefault(instrument_key_of_file(file), {})[name] = file
    return found


def check_identity(table: pa.Table, key: str, where: str) -> None:
    """Rows say which instrument they are; the file's name must agree with them."""
    found: set[str] = set()
    for chunk in table["instrument_key"].chunks:
        if pa.types.is_dictionary(chunk.type):  # the lake's encoding: read the dictionary
            chunk = chunk.dictionary.take(pc.unique(chunk.indices))
        found |= set(pc.unique(chunk).to_pylist())
    if found - {key}:
        raise ValueError(
            f"{where}: rows of {sorted(found)} in the file of {key}; the tick partition is "
            "inconsistent, rematerialise it"
        )


def _rows_from_next_day(trades: tuple[pa.Table, int] | None, day_start_us: int) -> int:
    if trades is None:
        return 0
    table, taken = trades
    if not taken:
        return 0
    stamps = table["timestamp"].slice(table.num_rows - taken)
    start = pa.scalar(day_start_us, pa.int64()).cast(TIMESTAMP)
    return pc.sum(pc.greater_equal(stamps, start).cast(pa.int64())).as_py() or 0


def _option_grids(chain: DayWindow, day_start_us: int) -> dict[str, OptionGrid]:
    """Option features per underlying; the chain's day window is read twice, first its
    expiries only, then the rows of the expiries the day's closes can choose."""
    files = chain.files()
    if not files:
        return {}
    listings = pa.concat_tables(
        file.read(columns=["instrument_key", "expiration", "timestamp"])
        .unify_dictionaries()  # row groups carry their own dictionaries
        .group_by(["instrument_key", "expiration"])
        .aggregate([("timestamp", "min")])
        .rename_columns(["instrument_key", "expiration", "first_seen"])
        for file in files
    )
    wanted = candidate_expiries(listings, day_start_us)
    if not wanted.size:
        return {}
    chosen = pc.field("expiration").isin(pa.array(wanted, pa.int64()).cast(TIMESTAMP))
    # File by file into arrays, so no more than one file's table is held at a time.
    arrays = Chain.concat(
        [Chain.of(file.read(columns=list(CHAIN_COLUMNS), filters=chosen)) for file in files]
    )
    return option_grids(arrays, day_start_us)


def _metadata(
    table: pa.Table, seconds: int, label: str, complete: bool, late_trades: int
) -> dict[str, object]:
    keys = sorted(set(table["instrument_key"].to_pylist()))
    metadata: dict[str, object] = {
        "instruments": MetadataValue.json(keys),
        "bars": MetadataValue.int(table.num_rows),
        "trades": MetadataValue.int(pc.sum(table["trade_count"]).as_py() or 0),
        "next_day_included": MetadataValue.bool(complete),
        "late_trades_from_next_day": MetadataValue.int(late_trades),
    }
    main = _main_instrument(table)
    if main and seconds >= CHART_MIN_SECONDS:
        bars = table.filter(pc.equal(table["instrument_key"], main))
        png = base64.b64encode(candlestick_png(bars, f"{main} {label}")).decode()
        metadata["main_instrument"] = MetadataValue.text(main)
        metadata["chart"] = MetadataValue.md(f"![{main}](data:image/png;base64,{png})")
    return metadata


def _main_instrument(table: pa.Table) -> str | None:
    """The instrument with the most quote volume on the day (None when nothing traded)."""
    if not table.num_rows:
        return None
    totals = table.group_by("instrument_key").aggregate([("quote_volume", "sum")])
    best = pc.max(totals["quote_volume_sum"]).as_py()
    if not best:
        return None
    return totals.filter(pc.equal(totals["quote_volume_sum"], best))["instrument_key"][0].as_py()

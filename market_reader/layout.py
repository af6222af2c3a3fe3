"""Where each dataset lives in the lake, and what builds it when it is missing.

The lake's layout is ``{root}/{asset key path}/date=YYYY-MM-DD/venue={venue}/*.parquet``
(docs/ARCHITECTURE.md); the file names are the assets' own: one ``part-00000.parquet`` per
partition for definitions, candles and features, one file per instrument for ticks
(``VENUE__TYPE__NAME``), one grouped file for Deribit's options chain (``OPTIONS``).
"""

import re
from dataclasses import dataclass

from market_assets.instruments.columns import KEY_PATTERN
from market_assets.ticks.columns import TICK_DATASETS
from market_assets.ticks.types import TICK_TYPES, file_name

# The timeframes the asset graph builds (``partitions.TIMEFRAMES`` and
# ``FEATURE_TIMEFRAMES``, which come with Dagster and so are not imported here).
CANDLE_TIMEFRAMES = ("15s", "1m", "5m", "15m", "1h", "4h", "1d")
FEATURE_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
SINGLE_FILE = "part-00000"
DAGSTER = "dagster asset materialize -m market_assets"


@dataclass(frozen=True)
class Asset:
    """One asset of the lake: its key path, the selection that materialises a partition of
    it, the job that backfills it, and what must be in the lake first."""

    path: tuple[str, ...]
    select: str
    job: str
    needs: str = ""

    @property
    def name(self) -> str:
        return "/".join(self.path)

    def fill(self, partitions: list[tuple[str, str]]) -> str:
        """How to fill the missing (day, venue) ``partitions``: the command for the first,
        and the backfill for all of them."""
        day, venue = partitions[0]
        keys = ",".join(f"{d}|{v}" for d, v in partitions)
        needs = f" ({self.needs})" if self.needs else ""
        return (
            f"materialise it: {DAGSTER} --select '{self.select}' --partition '{day}|{venue}'"
            f"{needs}; or backfill the {self.job} job over them: dagster job backfill "
            f"-w workspace.yaml -j {self.job} --partitions '{keys}' --noprompt"
        )


DEFINITIONS = Asset(("instrument_definitions",), "instrument_definitions", "daily_ingest")


def tick_asset(data_type: str) -> Asset:
    """``ticks/{data_type}``; a ``ValueError`` names the data types for any other."""
    if data_type not in TICK_DATASETS:
        raise ValueError(
            f"no tick data type {data_type!r}: the lake holds {', '.join(TICK_DATASETS)}"
        )
    return Asset(("ticks", data_type), f"instrument_definitions,ticks/{data_type}", "daily_ingest")


def candle_asset(timeframe: str) -> Asset:
    """``candles/{timeframe}``; a ``ValueError`` names the timeframes for any other."""
    _check_timeframe(timeframe, CANDLE_TIMEFRAMES, "candles")
    return Asset(
        ("candles", timeframe),
        f"candles/{timeframe}",
        "candles_and_warehouse",
        "its ticks of that day and the next must be in the lake",
    )


def feature_asset(timeframe: str) -> Asset:
    """``features/mft_{timeframe}``; a ``ValueError`` names the timeframes for any other."""
    _check_timeframe(timeframe, FEATURE_TIMEFRAMES, "features")
    return Asset(
        ("features", f"mft_{timeframe}"),
        f"features/mft_{timeframe}",
        "candles_and_warehouse",
        f"the candles/{timeframe} of that day and of its look-back must be in the lake",
    )


def asset_named(asset: str | tuple[str, ...]) -> Asset:
    """The asset ``"ticks/trades"`` (or ``("ticks", "trades")``) of the lake."""
    path = tuple(asset.strip("/").split("/")) if isinstance(asset, str) else tuple(asset)
    if path == DEFINITIONS.path:
        return DEFINITIONS
    if len(path) == 2 and path[0] == "ticks":
        return tick_asset(path[1])
    if len(path) == 2 and path[0] == "candles":
        return candle_asset(path[1])
    if len(path) == 2 and path[0] == "features" and path[1].startswith("mft_"):
        return feature_asset(path[1].removeprefix("mft_"))
    raise ValueError(
        f"no asset {'/'.join(path)!r} in the lake: instrument_definitions, ticks/{{data type}}, "
        "candles/{timeframe} or features/mft_{timeframe}"
    )


def venue_of(instrument_key: str) -> str:
    """The Tardis exchange id of an instrument key (``BINANCE-FUTURES:PERPETUAL:BTC-USDT``
    is on ``binance-futures``); a ``ValueError`` for a string that is not a key."""
    if not isinstance(instrument_key, str) or not re.match(KEY_PATTERN, instrument_key):
        raise ValueError(
            f"{instrument_key!r} is not an instrument key: keys read VENUE:TYPE:NAME in upper "
            "case, e.g. BINANCE:SPOT_PAIR:BTC-USDT (instruments(day, venue) lists them)"
        )
    return instrument_key.split(":", 1)[0].lower()


def tick_file(data_type: str, instrument_key: str) -> tuple[str, bool]:
    """(the file stem holding ``instrument_key``'s ``data_type`` ticks, whether that file
    is grouped, so its rows must be filtered to the instrument)."""
    [tick_type] = [t for t in TICK_TYPES if t.data_type == data_type]
    if tick_type.grouped_symbol:
        return tick_type.grouped_symbol, True
    return file_name(instrument_key), False


def _check_timeframe(timeframe: str, known: tuple[str, ...], dataset: str) -> None:
    if timeframe not in known:
        raise ValueError(f"no {dataset} timeframe {timeframe!r}: the lake holds {', '.join(known)}")

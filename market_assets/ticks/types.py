"""The raw tick data types the platform ingests, and which instruments each expects."""

from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from market_assets.columns import Dataset
from market_assets.ticks.columns import TICK_DATASETS
from market_assets.universe import VenueUniverse


@dataclass(frozen=True)
class TickType:
    """One Tardis data type as a ``ticks/{data_type}`` asset.

    ``grouped_symbol`` names the one file Tardis publishes the type in for every
    instrument of ``instrument_type`` at once (Deribit's options chain is only published
    under ``OPTIONS``); otherwise there is one file per instrument.
    """

    data_type: str
    grouped_symbol: str | None = None
    instrument_type: str | None = None
    # Ticks that flow all day long, so a long silence is a hole, not a quiet market.
    steady: bool = False

    @property
    def dataset(self) -> Dataset:
        """The columns of the type's tables."""
        return TICK_DATASETS[self.data_type]

    def expected(
        self, definitions: pa.Table, universe: VenueUniverse, day: date
    ) -> list[tuple[str, str]]:
        """(Tardis dataset id, instrument_key) of the universe's instruments of this type.

        An instrument is expected only for the data types Tardis publishes for it; a
        grouped type covers every selected instrument of its instrument type.
        """
        chosen = universe.select(definitions, day, self.data_type)
        if self.grouped_symbol:
            chosen = [row for row in chosen if row["type"] == self.instrument_type]
        else:
            chosen = [row for row in chosen if self.data_type in (row["data_types"] or ())]
        return sorted((row["dataset_id"], row["instrument_key"]) for row in chosen)


TICK_TYPES: tuple[TickType, ...] = (
    TickType("trades", steady=True),
    TickType("book_snapshot_5", steady=True),
    TickType("book_snapshot_25", steady=True),
    TickType("quotes", steady=True),
    TickType("derivative_ticker"),
    TickType("liquidations"),
    TickType("options_chain", grouped_symbol="OPTIONS", instrument_type="OPTION"),
)


def file_name(instrument_key: str) -> str:
    """The Parquet file stem of one instrument (``:`` is not portable in file names)."""
    return instrument_key.replace(":", "__")


def instrument_key_of_file(name: str) -> str:
    """The instrument key a per-instrument Parquet file stem was named after."""
    return name.replace("__", ":")

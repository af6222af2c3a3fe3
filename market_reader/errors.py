"""Missing data, said rather than hidden: what is missing and how to fill it."""

from market_reader.layout import Asset


class MissingDataError(LookupError):
    """Data asked for is not in the lake."""


class MissingPartitionError(MissingDataError):
    """(day, venue) partitions of an asset that are not in the lake: never materialised,
    or failed. ``asset`` is the asset key path (``ticks/trades``), ``partitions`` the
    missing (``YYYY-MM-DD``, venue) pairs."""

    def __init__(self, asset: Asset, partitions: list[tuple[str, str]], root: str) -> None:
        self.asset = asset.name
        self.partitions = sorted(partitions)
        named = ", ".join(f"{day}|{venue}" for day, venue in self.partitions)
        plural = "s" if len(self.partitions) > 1 else ""
        super().__init__(
            f"{self.asset} has no partition{plural} {named} in the lake at {root}; "
            + asset.fill(self.partitions)
        )


class MissingInstrumentError(MissingDataError):
    """A partition that is in the lake holds no file for the instrument: it was not in the
    universe that day, or Tardis does not publish that data type for it."""

    def __init__(
        self, asset: Asset, day: str, venue: str, instrument_key: str, held: list[str]
    ) -> None:
        self.asset, self.day, self.venue = asset.name, day, venue
        self.instrument_key = instrument_key
        super().__init__(
            f"{asset.name} {day}|{venue} holds no file for {instrument_key} (it holds "
            f"{', '.join(held) or 'nothing'}): the instrument was not in the universe that "
            "day, or Tardis does not publish this data type for it. Add it to the universe "
            "(MARKET_DATA_UNIVERSE) and " + asset.fill([(day, venue)])
        )


class LateRowsWarning(UserWarning):
    """The day after a range is not in the lake yet, so the range's last day lacks the
    rows received after its midnight (they land with the next day's files)."""

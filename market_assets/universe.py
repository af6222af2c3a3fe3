"""The universe: which symbols and data types to ingest per venue, from a YAML file."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from partitions import VENUES

BUNDLED_UNIVERSE = Path(__file__).with_name("universe.yaml")
DATA_TYPES = (
    "trades",
    "book_snapshot_5",
    "book_snapshot_25",
    "quotes",
    "derivative_ticker",
    "liquidations",
    "options_chain",
)


class UniverseError(ValueError):
    """A universe file that does not say what to ingest; the message names file and entry."""


@dataclass(frozen=True)
class VenueUniverse:
    """The Tardis symbols and data types wanted on one venue."""

    venue: str
    symbols: tuple[str, ...]
    data_types: tuple[str, ...]


@dataclass(frozen=True)
class Universe:
    """What to ingest, venue by venue; venues absent from the file ingest nothing."""

    source: str
    venues: dict[str, VenueUniverse]

    def for_venue(self, venue: str) -> VenueUniverse:
        """The venue's selection; an empty one when the file does not mention it."""
        return self.venues.get(venue, VenueUniverse(venue, (), ()))


def load_universe(path: str | Path | None = None) -> Universe:
    """Read ``path``, else ``MARKET_DATA_UNIVERSE``, else the bundled ``universe.yaml``."""
    chosen = Path(path or os.environ.get("MARKET_DATA_UNIVERSE") or BUNDLED_UNIVERSE)
    try:
        document = yaml.safe_load(chosen.read_text())
    except FileNotFoundError as error:
        raise UniverseError(f"universe file {chosen} does not exist") from error
    except yaml.YAMLError as error:
        raise UniverseError(f"{chosen}: not valid YAML: {error}") from error
    return parse_universe(document, source=str(chosen))


def parse_universe(document: Any, *, source: str) -> Universe:
    """Validate a parsed universe document; errors name ``source`` and the entry at fault."""
    if not isinstance(document, dict) or not isinstance(document.get("venues"), dict):
        raise UniverseError(f"{source}: expected a mapping with a 'venues' mapping at the top")
    venues: dict[str, VenueUniverse] = {}
    for venue, entry in document["venues"].items():
        where = f"{source}: venues.{venue}"
        if venue not in VENUES:
            raise UniverseError(f"{where}: unknown venue; expected one of {', '.join(VENUES)}")
        if not isinstance(entry, dict):
            raise UniverseError(f"{where}: expected a mapping with 'symbols' and 'data_types'")
        unknown_keys = set(entry) - {"symbols", "data_types"}
        if unknown_keys:
            raise UniverseError(f"{where}: unknown keys {sorted(unknown_keys)}")
        symbols = _string_list(entry.get("symbols"), f"{where}.symbols")
        data_types = _string_list(entry.get("data_types"), f"{where}.data_types")
        for data_type in data_types:
            if data_type not in DATA_TYPES:
                raise UniverseError(
                    f"{where}.data_types: {data_type!r} is not one of {', '.join(DATA_TYPES)}"
                )
        venues[venue] = VenueUniverse(venue, symbols, data_types)
    return Universe(source=source, venues=venues)


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise UniverseError(f"{where}: expected a non-empty list of strings, got {value!r}")
    if len(set(value)) != len(value):
        raise UniverseError(f"{where}: duplicate entries in {value!r}")
    return tuple(value)

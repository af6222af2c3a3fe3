"""The universe: which instruments and data types to ingest per venue, from a YAML file.

```yaml
venues:
  deribit:
    data_types: [trades, derivative_ticker]    # for everything selected on the venue
    symbols: [BTC-PERPETUAL, ETH-PERPETUAL]   # Tardis symbol ids, taken as they are
    filters:                                   # and/or rules over instrument definitions
      - type: option                           # spot, perpetual, future or option
        underlyings: [BTC]                     # options: base asset or underlying index
        expiry_within_days: 60                 # futures and options expiring this soon
        data_types: [options_chain]            # overrides the venue's list for this rule
```

Venues are Tardis exchange ids; the venues named here are the partitions' venue dimension.
Base, quote and expiry come from the symbol's naming scheme on the venues it is known
for (Binance, Bybit, Coinbase, Deribit, OKX); elsewhere, and for an option's underlying index,
filters need Tardis' instruments API (a paid key), without which they select nothing.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from market_assets.instruments.columns import KEY_TYPES
from market_assets.ticks.columns import TICK_DATASETS

BUNDLED_UNIVERSE = Path(__file__).with_name("universe.yaml")
# The data types the platform parses, and the instrument types of canonical keys.
DATA_TYPES = tuple(TICK_DATASETS)
INSTRUMENT_TYPES = KEY_TYPES
# Tardis exchange ids: lower case letters, digits and dashes (binance-futures, okex-swap).
_VENUE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_FILTER_KEYS = {"type", "base", "quote", "underlyings", "expiry_within_days", "data_types"}


class UniverseError(ValueError):
    """A universe file that does not say what to ingest; the message names file and line."""


@dataclass(frozen=True)
class InstrumentFilter:
    """One rule selecting instruments by what they are."""

    instrument_type: str  # canonical: SPOT_PAIR, PERPETUAL, FUTURE, OPTION
    base: tuple[str, ...] = ()
    quote: tuple[str, ...] = ()
    underlyings: tuple[str, ...] = ()
    expiry_within_days: int | None = None
    data_types: tuple[str, ...] = ()

    def matches(self, definition: dict[str, Any], day: date) -> bool:
        """Whether one instrument definition (a row as a dict) passes this rule on ``day``."""
        if definition["type"] != self.instrument_type:
            return False
        if self.base and definition.get("base") not in self.base:
            return False
        if self.quote and definition.get("quote") not in self.quote:
            return False
        if self.underlyings:
            underlying = str(definition.get("underlying") or "").upper()
            if definition.get("base") not in self.underlyings and not any(
                u in underlying for u in self.underlyings
            ):
                return False
        if self.expiry_within_days is not None:
            expiry = definition.get("expiry")
            horizon = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
                days=self.expiry_within_days
            )
            if expiry is None or expiry > horizon:
                return False
        return True


@dataclass(frozen=True)
class VenueUniverse:
    """The instruments and data types wanted on one venue."""

    venue: str
    data_types: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    filters: tuple[InstrumentFilter, ...] = field(default_factory=tuple)

    def select(self, definitions: pa.Table, day: date, data_type: str) -> list[dict[str, Any]]:
        """Definitions (rows as dicts) chosen for ``data_type`` on ``day``.

        Explicit symbols match Tardis' symbol or dataset id; filters match what the
        instrument is. The rule's data types (else the venue's) must include
        ``data_type``. Whether Tardis publishes it is for the caller to check.
        """
        wanted_symbols = (
            {s.upper() for s in self.symbols} if data_type in self.data_types else set()
        )
        chosen = []
        for row in definitions.to_pylist():
            explicit = {row["symbol"].upper(), row["dataset_id"].upper()} & wanted_symbols
            by_rule = any(
                data_type in (rule.data_types or self.data_types) and rule.matches(row, day)
                for rule in self.filters
            )
            if explicit or by_rule:
                chosen.append(row)
        return chosen


@dataclass(frozen=True)
class Universe:
    """What to ingest, venue by venue; venues absent from the file ingest nothing."""

    source: str
    venues: dict[str, VenueUniverse]

    def for_venue(self, venue: str) -> VenueUniverse:
        """The venue's selection; an empty one when the file does not mention it."""
        return self.venues.get(venue, VenueUniverse(venue))

    @property
    def venue_ids(self) -> list[str]:
        """The venues ingested, sorted: the partitions' venue dimension."""
        return sorted(self.venues)


def load_universe(path: str | Path | None = None) -> Universe:
    """Read the universe file at ``path``; the bundled ``universe.yaml`` when None or empty."""
    chosen = Path(path or BUNDLED_UNIVERSE)
    try:
        text = chosen.read_text()
    except FileNotFoundError as error:
        raise UniverseError(
            f"universe file {chosen} does not exist (MARKET_DATA_UNIVERSE names it)"
        ) from error
    return parse_universe(text, source=str(chosen))


def parse_universe(text: str, *, source: str) -> Universe:
    """Validate a universe document; errors read ``{source}:{line}: {path}: {problem}``."""
    try:
        # The safe loader only: a file from outside builds mappings, lists, strings and
        # numbers, never Python objects (a `!!python/...` tag is refused, not run).
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise UniverseError(
            f"{source}:{line}: {error.problem}: a universe file holds plain mappings, lists, "
            "strings and numbers; tags that build Python objects are refused"
        ) from error
    except yaml.YAMLError as error:
        raise UniverseError(f"{source}: not valid YAML: {error}") from error
    lines = dict(_node_lines(node)) if node is not None else {}

    def fail(path: tuple[Any, ...], problem: str) -> UniverseError:
        line = next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)
        where = ".".join(str(p) for p in path) or "top level"
        return UniverseError(f"{source}:{line}: {where}: {problem}")

    if not isinstance(document, dict) or not isinstance(document.get("venues"), dict):
        raise fail((), "expected a mapping with a 'venues' mapping")
    venues: dict[str, VenueUniverse] = {}
    for venue, entry in document["venues"].items():
        path = ("venues", venue)
        if not isinstance(venue, str) or not _VENUE_ID.fullmatch(venue):
            raise fail(
                path, "not a Tardis exchange id (lower case, digits and dashes: binance-futures)"
            )
        if not isinstance(entry, dict):
            raise fail(path, "expected a mapping with 'data_types' and 'symbols' or 'filters'")
        unknown = set(entry) - {"symbols", "data_types", "filters"}
        if unknown:
            raise fail(path, f"unknown keys {sorted(unknown)}")
        data_types = _data_types(entry.get("data_types"), (*path, "data_types"), fail)
        symbols = _strings(entry.get("symbols", []), (*path, "symbols"), fail, allow_empty=True)
        filters = tuple(
            _filter(rule, (*path, "filters", number), fail)
            for number, rule in enumerate(_list(entry.get("filters", []), (*path, "filters"), fail))
        )
        if not symbols and not filters:
            raise fail(path, "selects nothing: give 'symbols', 'filters' or both")
        venues[venue] = VenueUniverse(venue, data_types, symbols, filters)
    return Universe(source=source, venues=venues)


def _filter(rule: Any, path: tuple[Any, ...], fail) -> InstrumentFilter:
    if not isinstance(rule, dict):
        raise fail(path, "expected a mapping such as {type: option, underlyings: [BTC]}")
    unknown = set(rule) - _FILTER_KEYS
    if unknown:
        raise fail(path, f"unknown keys {sorted(unknown)}; expected {sorted(_FILTER_KEYS)}")
    kind = rule.get("type")
    if kind not in INSTRUMENT_TYPES:
        raise fail((*path, "type"), f"{kind!r} is not one of {', '.join(INSTRUMENT_TYPES)}")
    horizon = rule.get("expiry_within_days")
    if horizon is not None:
        if kind not in ("future", "option"):
            raise fail((*path, "expiry_within_days"), "only futures and options expire")
        if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 0:
            raise fail((*path, "expiry_within_days"), f"expected whole days >= 0, got {horizon!r}")
    if "underlyings" in rule and kind != "option":
        raise fail((*path, "underlyings"), "only options have underlyings; use 'base'")
    return InstrumentFilter(
        instrument_type=INSTRUMENT_TYPES[kind],
        base=_upper(_strings(rule.get("base", []), (*path, "base"), fail, allow_empty=True)),
        quote=_upper(_strings(rule.get("quote", []), (*path, "quote"), fail, allow_empty=True)),
        underlyings=_upper(
            _strings(rule.get("underlyings", []), (*path, "underlyings"), fail, allow_empty=True)
        ),
        expiry_within_days=horizon,
        data_types=_data_types(rule["data_types"], (*path, "data_types"), fail)
        if "data_types" in rule
        else (),
    )


def _data_types(value: Any, path: tuple[Any, ...], fail) -> tuple[str, ...]:
    data_types = _strings(value, path, fail, allow_empty=False)
    for data_type in data_types:
        if data_type not in DATA_TYPES:
            raise fail(path, f"{data_type!r} is not one of {', '.join(DATA_TYPES)}")
    return data_types


def _list(value: Any, path: tuple[Any, ...], fail) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, f"expected a list, got {value!r}")
    return value


def _strings(value: Any, path: tuple[Any, ...], fail, *, allow_empty: bool) -> tuple[str, ...]:
    items = _list(value, path, fail)
    if not all(isinstance(v, str) for v in items) or (not items and not allow_empty):
        raise fail(path, f"expected a non-empty list of strings, got {value!r}")
    if len(set(items)) != len(items):
        raise fail(path, f"duplicate entries in {value!r}")
    return tuple(items)


def _upper(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.upper() for v in values)


def _node_lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple, int]]:
    """(path, 1-based line) of every mapping key and list item in a composed YAML tree."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _node_lines(value, (*path, key.value))
            # After the value's own lines, so an entry points at its key's line.
            yield (*path, key.value), key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            yield from _node_lines(item, (*path, number))

"""Option features per underlying, from the options chain, at every bar close of a day.

Pure transform (numpy and pyarrow only); times are integer microseconds, UTC; IVs keep
Tardis' units (Deribit: percent).

At a bar close ``t`` the chain is each option's last row stamped before ``t``. For the
nearest expiry at least ``MIN_DAYS_TO_EXPIRY`` days after ``t`` among those with a row
stamped before ``t`` (no look-ahead):

- ``atm_iv``: mean ``mark_iv`` of the call and put at the strike nearest the underlying
  price (the price on the expiry's most recent row; ties go to the lower strike);
- ``risk_reversal_25d``: ``mark_iv`` of the call whose delta is nearest 0.25 minus that
  of the put whose delta is nearest −0.25;
- ``put_call_iv_ratio_25d``: the same put's ``mark_iv`` over the call's.

Every bar close of every timeframe lies on the 15-second grid, so the features are
computed once per grid point and each timeframe picks its closes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from market_assets.candles.bars import (
    GRID_SECONDS,
    US_PER_DAY,
    US_PER_SECOND,
    Column,
    floats,
    label_codes,
    micros,
)

MIN_DAYS_TO_EXPIRY = 7
# Only the last day's updates before the day starts count towards its first closes.
LOOKBACK_US = US_PER_DAY
CHAIN_COLUMNS = (
    "instrument_key",
    "timestamp",
    "type",
    "strike_price",
    "expiration",
    "mark_iv",
    "delta",
    "underlying_price",
)


def underlying_of(instrument_key: str) -> str:
    """The base asset of an instrument key: ``DERIBIT:OPTION:BTC-USD-…`` → ``BTC``."""
    return instrument_key.split(":", 2)[2].split("-", 1)[0]


def grid_closes(day_start_us: int) -> np.ndarray:
    """The day's bar closes on the 15-second grid (µs), the last one at midnight."""
    step = GRID_SECONDS * US_PER_SECOND
    return day_start_us + np.arange(step, US_PER_DAY + 1, step, dtype=np.int64)


def expiry_choice(listed: np.ndarray, first_seen: np.ndarray, closes: np.ndarray) -> np.ndarray:
    """Per close, the index into ``listed`` (ascending expiries, µs) of the nearest expiry
    at least ``MIN_DAYS_TO_EXPIRY`` days after the close among those with a row stamped
    before it (``first_seen``); −1 when there is none."""
    chosen = np.full(closes.size, -1, dtype=np.int64)
    for index in range(listed.size - 1, -1, -1):  # nearest last, so it wins
        usable = (listed[index] >= closes + MIN_DAYS_TO_EXPIRY * US_PER_DAY) & (
            first_seen[index] < closes
        )
        chosen[usable] = index
    return chosen


def first_listed(expirations: np.ndarray, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct expiries (ascending) and the first timestamp each appears at."""
    order = np.lexsort((stamps, expirations))
    listed, first = np.unique(expirations[order], return_index=True)
    return listed, stamps[order][first]


def candidate_expiries(listings: pa.Table, day_start_us: int) -> np.ndarray:
    """The expiries (µs) some close of the day chooses for some underlying.

    ``listings`` has ``instrument_key``, ``expiration`` and ``first_seen`` (the first
    timestamp of that option's rows): enough to read only the chosen expiries' rows.
    """
    closes = grid_closes(day_start_us)
    keys = listings["instrument_key"].to_pylist()
    bases = np.array([underlying_of(key) for key in keys], dtype=object)
    expirations = micros(listings["expiration"])
    seen = micros(listings["first_seen"])
    wanted: set[int] = set()
    for base in set(bases.tolist()):
        mine = bases == base
        listed, first_seen = first_listed(expirations[mine], seen[mine])
        chosen = expiry_choice(listed, first_seen, closes)
        wanted |= set(listed[chosen[chosen >= 0]].tolist())
    return np.array(sorted(wanted), dtype=np.int64)


@dataclass(frozen=True)
class OptionGrid:
    """Option features of one underlying at each 15-second close of the day."""

    expiry: Column
    atm_iv: Column
    risk_reversal_25d: Column
    put_call_iv_ratio_25d: Column

    def columns(self, seconds: int) -> dict[str, Column]:
        """The features at the closes of the bars of ``seconds``."""
        picked = np.arange(
            seconds // GRID_SECONDS - 1, self.atm_iv[0].size, seconds // GRID_SECONDS
        )
        return {
            "option_expiry": _take(self.expiry, picked),
            "atm_iv": _take(self.atm_iv, picked),
            "risk_reversal_25d": _take(self.risk_reversal_25d, picked),
            "put_call_iv_ratio_25d": _take(self.put_call_iv_ratio_25d, picked),
        }


def _take(column: Column, rows: np.ndarray) -> Column:
    values, valid = column
    return values[rows], None if valid is None else valid[rows]


@dataclass(frozen=True)
class Chain:
    """The options chain's columns as arrays, one entry per row; ``option`` indexes
    ``names`` (instrument keys)."""

    names: list[str]
    option: np.ndarray
    ts: np.ndarray
    expiration: np.ndarray
    strike: np.ndarray
    is_call: np.ndarray
    mark_iv: np.ndarray
    delta: np.ndarray
    underlying_price: np.ndarray

    @classmethod
    def of(cls, chain: pa.Table) -> "Chain":
        """``CHAIN_COLUMNS`` of ``chain`` read once into arrays (no copy of the table)."""
        keys = chain["instrument_key"]
        if not pa.types.is_dictionary(keys.type):
            keys = pc.dictionary_encode(keys)
        keys = pa.chunked_array(keys.chunks or [], keys.type).unify_dictionaries()
        names = keys.chunks[0].dictionary.cast(pa.string()).to_pylist() if keys.chunks else []
        option = (
            np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in keys.chunks])
            if keys.chunks
            else np.zeros(0, dtype=np.int32)
        )
        return cls(
            names=names,
            option=option.astype(np.int64),
            ts=micros(chain["timestamp"]),
            expiration=micros(chain["expiration"]),
            strike=floats(chain["strike_price"]),
            is_call=label_codes(chain["type"], ("call", "put")) == 0,
            mark_iv=floats(chain["mark_iv"]),
            delta=floats(chain["delta"]),
            underlying_price=floats(chain["underlying_price"]),
        )

    @classmethod
    def concat(cls, parts: Sequence["Chain"]) -> "Chain":
        """``parts`` one after another (source order), their option codes unified."""
        if len(parts) == 1:
            return parts[0]
        position: dict[str, int] = {}
        options = []
        for part in parts:
            for name in part.names:
                position.setdefault(name, len(position))
            recode = np.array([position[name] for name in part.names] or [0], dtype=np.int64)
            options.append(recode[part.option] if part.option.size else part.option)

        def joined(field: str) -> np.ndarray:
            return np.concatenate([getattr(part, field) for part in parts])

        return cls(
            names=list(position),
            option=np.concatenate(options) if options else np.zeros(0, dtype=np.int64),
            **{
                field: joined(field)
                for field in (
                    "ts",
                    "expiration",
                    "strike",
                    "is_call",
                    "mark_iv",
                    "delta",
                    "underlying_price",
                )
            },
        )


def option_grids(chain: pa.Table | Chain, day_start_us: int) -> dict[str, OptionGrid]:
    """Per underlying, the option features at every close of the day.

    ``chain`` holds at least ``CHAIN_COLUMNS`` (a table, or its ``Chain`` arrays), in
    source order; rows of any expiry may be present (pass the ``candidate_expiries``
    ones to save memory).
    """
    arrays = chain if isinstance(chain, Chain) else Chain.of(chain)
    keep = (arrays.ts >= day_start_us - LOOKBACK_US) & (arrays.ts < day_start_us + US_PER_DAY)
    # Only entries that rows use: a lake dictionary may hold more than its rows name.
    used = np.unique(arrays.option)
    option_base = {int(code): underlying_of(arrays.names[code]) for code in used}
    bases = sorted(set(option_base.values()))
    base_of_option = np.full(len(arrays.names) or 1, -1, dtype=np.int64)
    for code, base in option_base.items():
        base_of_option[code] = bases.index(base)
    row_base = base_of_option[arrays.option] if arrays.option.size else arrays.option
    return {
        base: _grid(arrays, np.flatnonzero(keep & (row_base == number)), day_start_us)
        for number, base in enumerate(bases)
    }


def _grid(chain: Chain, rows: np.ndarray, day_start_us: int) -> OptionGrid:
    closes = grid_closes(day_start_us)
    expiration = chain.expiration[rows]
    listed, first_seen = first_listed(expiration, chain.ts[rows])
    chosen = expiry_choice(listed, first_seen, closes)
    size = closes.size
    expiry = np.zeros(size, dtype=np.int64)
    features = {name: np.full(size, np.nan) for name in ("atm", "rr", "ratio")}
    has_expiry = chosen >= 0
    expiry[has_expiry] = listed[chosen[has_expiry]]
    for index in np.unique(chosen[has_expiry]):
        points = np.flatnonzero(chosen == index)
        of_expiry = rows[expiration == listed[index]]
        for name, values in _expiry_features(chain, of_expiry, closes[points]).items():
            features[name][points] = values
    return OptionGrid(
        expiry=(expiry, has_expiry),
        atm_iv=(features["atm"], ~np.isnan(features["atm"])),
        risk_reversal_25d=(features["rr"], ~np.isnan(features["rr"])),
        put_call_iv_ratio_25d=(features["ratio"], np.isfinite(features["ratio"])),
    )


def _expiry_features(chain: Chain, rows: np.ndarray, closes: np.ndarray) -> dict[str, np.ndarray]:
    """ATM IV, 25-delta risk reversal and put/call ratio of one expiry at ``closes``."""
    listed_options, code = np.unique(chain.option[rows], return_inverse=True)
    ts = chain.ts[rows]
    # Options as columns, ordered by strike so that ties pick the lower strike.
    options = listed_options.size
    option_strike = np.zeros(options)
    option_strike[code] = chain.strike[rows]
    option_call = np.zeros(options, dtype=bool)
    option_call[code] = chain.is_call[rows]
    by_strike = np.lexsort((~option_call, option_strike))
    column_of = np.empty(options, dtype=np.int64)
    column_of[by_strike] = np.arange(options)
    column = column_of[code]

    # Each option's last row before each close: rows sorted by (option, time), searched
    # with keys that put every option's rows in a band of their own.
    origin = min(int(ts.min()), int(closes.min())) - 1
    band = int(max(ts.max(), closes.max()) - origin) + 1
    order = np.lexsort((ts, column))
    sorted_key = column[order] * band + (ts[order] - origin)
    band_start = np.searchsorted(sorted_key, np.arange(options) * band)
    queries = np.arange(options)[None, :] * band + (closes[:, None] - origin)
    found = np.searchsorted(sorted_key, queries, side="left") - 1
    present = found >= band_start[None, :]
    row = rows[order[np.maximum(found, 0)]]

    def matrix(values: np.ndarray) -> np.ndarray:
        return np.where(present, values[row], np.nan)

    iv, delta, underlying = (
        matrix(chain.mark_iv),
        matrix(chain.delta),
        matrix(chain.underlying_price),
    )
    stamp = np.where(present, chain.ts[row], np.iinfo(np.int64).min)
    latest = np.argmax(stamp, axis=1)
    spot = underlying[np.arange(closes.size), latest]
    strikes = option_strike[by_strike][None, :]
    calls = option_call[by_strike][None, :]
    quoted = ~np.isnan(iv)

    distance = np.where(quoted, np.abs(strikes - spot[:, None]), np.inf)
    nearest = strikes[0, np.argmin(distance, axis=1)][:, None]
    at_money = quoted & (strikes == nearest) & np.isfinite(distance.min(axis=1))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        atm = np.where(at_money, iv, 0.0).sum(1) / at_money.sum(1)
        call_iv = _iv_at_delta(iv, delta, quoted & calls, 0.25)
        put_iv = _iv_at_delta(iv, delta, quoted & ~calls, -0.25)
        return {"atm": atm, "rr": call_iv - put_iv, "ratio": put_iv / call_iv}


def _iv_at_delta(
    iv: np.ndarray, delta: np.ndarray, eligible: np.ndarray, target: float
) -> np.ndarray:
    """Per close, the IV of the eligible option whose delta is nearest ``target``."""
    distance = np.where(eligible & ~np.isnan(delta), np.abs(delta - target), np.inf)
    best = np.argmin(distance, axis=1)
    picked = iv[np.arange(iv.shape[0]), best]
    return np.where(np.isfinite(distance.min(axis=1)), picked, np.nan)

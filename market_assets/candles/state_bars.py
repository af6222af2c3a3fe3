"""Derivative ticker and book features: rows that describe a state, read at bar edges and
weighted by time (semantics: the ``market_assets.candles.bars`` docstring)."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from market_assets.candles.bars import (
    BOOK_LEVELS,
    TICKER_VALUES,
    US_PER_DAY,
    US_PER_SECOND,
    Column,
    bar_edges,
    floats,
    micros,
    rows_between,
)


@dataclass(frozen=True)
class StateTape:
    """Rows that describe a state (ticker values, book snapshots) in exchange-time order:
    every row up to the end of the day, including the day's file's rows stamped the day
    before, which give the state at the first bar."""

    day_start_us: int
    ts: np.ndarray
    table: pa.Table
    span_us: int = US_PER_DAY  # the window the bars cover from day_start_us

    @classmethod
    def of_day(cls, table: pa.Table, day_start_us: int, span_us: int = US_PER_DAY) -> "StateTape":
        everything_before = np.iinfo(np.int64).min
        rows, ts = rows_between(
            micros(table["timestamp"]), everything_before, day_start_us + span_us
        )
        if isinstance(rows, slice):
            taken = table.slice(rows.start, rows.stop - rows.start)
        else:
            taken = table.take(pa.array(rows))
        return cls(day_start_us, ts, taken, span_us)

    def values(self, name: str) -> np.ndarray:
        return floats(self.table[name])


def _last_before(ts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the last row stamped before each of ``ends`` (−1 when none)."""
    return np.searchsorted(ts, ends, side="left") - 1


def _last_in_bars(ts: np.ndarray, values: np.ndarray, edges: np.ndarray) -> Column:
    """Each bar's last non-null value (ties: the later row); invalid when the bar has none."""
    known = ~np.isnan(values)
    ts, values = ts[known], values[known]
    if not ts.size:
        return np.full(edges.size - 1, np.nan), np.zeros(edges.size - 1, dtype=bool)
    last = _last_before(ts, edges[1:])
    row = np.maximum(last, 0)
    valid = (last >= 0) & (ts[row] >= edges[:-1])
    return np.where(valid, values[row], np.nan), valid


def ticker_columns(tape: StateTape, seconds: int) -> dict[str, Column]:
    """Derivative ticker values for every bar of ``seconds`` (see module docstring)."""
    edges = bar_edges(tape.day_start_us, seconds, tape.span_us)
    columns = {name: _last_in_bars(tape.ts, tape.values(name), edges) for name in TICKER_VALUES}
    interest = tape.values("open_interest")
    known = ~np.isnan(interest)
    columns["open_interest"] = _last_in_bars(tape.ts, interest, edges)
    previous = np.full(edges.size - 1, np.nan)
    if known.any():
        before = _last_before(tape.ts[known], edges[:-1])
        previous = np.where(before >= 0, interest[known][np.maximum(before, 0)], np.nan)
    change = columns["open_interest"][0] - previous
    columns["open_interest_change"] = (change, ~np.isnan(change))
    mark, index = columns["mark_price"][0], columns["index_price"][0]
    with np.errstate(invalid="ignore", divide="ignore"):
        basis = (mark - index) / index
    columns["basis"] = (basis, np.isfinite(basis))
    return columns


@dataclass(frozen=True)
class BookMeasures:
    """Per snapshot: the quantities the book columns report (NaN where undefined)."""

    best_bid: np.ndarray
    best_ask: np.ndarray
    mid: np.ndarray
    spread_bps: np.ndarray
    microprice: np.ndarray
    bid_depth: np.ndarray
    ask_depth: np.ndarray
    imbalance: np.ndarray

    @classmethod
    def of(cls, tape: StateTape) -> "BookMeasures":
        bid, ask = tape.values("bids[0].price"), tape.values("asks[0].price")
        bid_amount, ask_amount = tape.values("bids[0].amount"), tape.values("asks[0].amount")
        bid_depth = sum(
            np.nan_to_num(tape.values(f"bids[{level}].amount")) for level in range(BOOK_LEVELS)
        )
        ask_depth = sum(
            np.nan_to_num(tape.values(f"asks[{level}].amount")) for level in range(BOOK_LEVELS)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            mid = (bid + ask) / 2
            return cls(
                best_bid=bid,
                best_ask=ask,
                mid=mid,
                spread_bps=(ask - bid) / mid * 10_000,
                microprice=(bid * ask_amount + ask * bid_amount) / (bid_amount + ask_amount),
                bid_depth=np.asarray(bid_depth, dtype=np.float64),
                ask_depth=np.asarray(ask_depth, dtype=np.float64),
                imbalance=(bid_depth - ask_depth) / (bid_depth + ask_depth),
            )


def _time_weighted(ts: np.ndarray, values: np.ndarray, edges: np.ndarray) -> Column:
    """Each bar's time-weighted mean of a step function that takes ``values[i]`` from
    ``ts[i]`` until the next row; stretches where it is undefined (before the first row,
    NaN values) carry no weight. Invalid when the whole bar is undefined."""
    if not ts.size:
        nothing = np.full(edges.size - 1, np.nan)
        return nothing, np.zeros(edges.size - 1, dtype=bool)
    origin = edges[0]
    # Integrate in seconds from the day's start: small numbers, no precision lost.
    at = (ts - origin) / US_PER_SECOND
    known = ~np.isnan(values)
    level = np.where(known, values, 0.0)
    widths = np.diff(at)
    area = np.concatenate(([0.0], np.cumsum(level[:-1] * widths)))
    cover = np.concatenate(([0.0], np.cumsum(known[:-1] * widths)))

    def integral(cumulative: np.ndarray, step: np.ndarray, points: np.ndarray) -> np.ndarray:
        row = np.searchsorted(at, points, side="right") - 1
        inside = row >= 0
        safe = np.maximum(row, 0)
        return np.where(inside, cumulative[safe] + step[safe] * (points - at[safe]), 0.0)

    points = (edges - origin) / US_PER_SECOND
    weighted = np.diff(integral(area, level, points))
    covered = np.diff(integral(cover, known.astype(np.float64), points))
    valid = covered > 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, weighted / covered, np.nan), valid


def book_columns(tape: StateTape, seconds: int) -> dict[str, Column]:
    """Book state at each bar's close and time-weighted spread and imbalance."""
    edges = bar_edges(tape.day_start_us, seconds, tape.span_us)
    measures = BookMeasures.of(tape)
    last = _last_before(tape.ts, edges[1:])
    has_book = last >= 0
    row = np.maximum(last, 0)

    def at_close(values: np.ndarray) -> Column:
        if not values.size:
            return np.full(last.size, np.nan), np.zeros(last.size, dtype=bool)
        picked = np.where(has_book, values[row], np.nan)
        return picked, ~np.isnan(picked)

    return {
        "best_bid": at_close(measures.best_bid),
        "best_ask": at_close(measures.best_ask),
        "mid": at_close(measures.mid),
        "spread_bps": at_close(measures.spread_bps),
        "microprice": at_close(measures.microprice),
        "bid_depth_5": at_close(measures.bid_depth),
        "ask_depth_5": at_close(measures.ask_depth),
        "imbalance_5": at_close(measures.imbalance),
        "spread_bps_tw": _time_weighted(tape.ts, measures.spread_bps, edges),
        "imbalance_5_tw": _time_weighted(tape.ts, measures.imbalance, edges),
    }

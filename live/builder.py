"""One instrument's bars of every timeframe, built from live ticks with the batch code.
Pure (numpy, pyarrow; no I/O, no clock of its own).

Ticks are held in 15-second slots (``live.slots``). When the service's clock passes a
slot's end, the slot closes; every timeframe whose bar ends there gets its bar from
``market_assets.candles.build.instrument_candles`` (the batch function, unchanged) over
exactly the bar's ticks plus the state rows carried from before it. The batch function
lays the bars of the window it is given (``span_us``): given the bar's own window, its
one bar is the live bar, so live and batch bars come out of one implementation.

Partial updates of an open bar are a running fold of its trades, one at a time
(``live.partials``); they are previews, the closed bar is the batch function's.
"""

from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

import pyarrow as pa

from live.bars import LiveBar, plain_rows
from live.partials import RunningBar
from live.slots import INPUTS, SIDE_CODE, STATE_INPUTS, SlotRows, carry, input_schema
from market_assets.candles.bars import GRID_SECONDS, US_PER_SECOND
from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.columns import CANDLES, TRADE_FIELDS

GRID_US = GRID_SECONDS * US_PER_SECOND
NO_TRADE_COLUMNS = [f.name for f in CANDLES.schema if f.name not in TRADE_FIELDS][2:]

# (bar open µs, bar end µs) -> whether an outage touched it.
OutageCheck = Callable[[int, int], bool]


def slot_of(timestamp_us: int) -> int:
    """The open (µs) of the 15-second slot holding ``timestamp_us``."""
    return timestamp_us - timestamp_us % GRID_US


class InstrumentBars:
    """The open slots and bars of one instrument.

    ``start_us``: the first slot the service saw (bars opening before it are
    incomplete). ``data_types``: the Tardis data types the instrument publishes (what the
    batch code has a file of); None to count a type as published once a tick of it came.
    """

    def __init__(
        self,
        instrument_key: str,
        start_us: int,
        timeframes: dict[str, int],
        data_types: Collection[str] | None = None,
    ) -> None:
        if start_us % GRID_US:
            raise ValueError(f"{instrument_key}: bars start on the 15 s grid, not at {start_us}")
        self.instrument_key = instrument_key
        self.start_us = start_us
        self.closed_us = start_us  # every slot before it is closed
        self.timeframes = {name: seconds * US_PER_SECOND for name, seconds in timeframes.items()}
        self.longest_us = max(self.timeframes.values(), default=GRID_US)
        self.published = (
            None if data_types is None else {INPUTS[t][0] for t in data_types if t in INPUTS}
        )
        self.seen: set[str] = set()
        self.open: dict[str, dict[int, SlotRows]] = {name: {} for name, _ in INPUTS.values()}
        # Closed slots in slot order: their opens and tables.
        self.closed: dict[str, tuple[list[int], list[pa.Table]]] = {
            name: ([], []) for name, _ in INPUTS.values()
        }
        self.carried: dict[str, pa.Table | None] = dict.fromkeys(STATE_INPUTS)
        self.carried_at_open: dict[str, dict[str, pa.Table | None]] = {
            name: dict.fromkeys(STATE_INPUTS) for name in self.timeframes
        }
        self.late_ticks = 0
        # Trades not yet in a partial update, and the open bars' running partials.
        self._fresh: list[tuple] = []
        self._running: dict[tuple[str, int], RunningBar] = {}
        self._columns = {name: columns for name, columns in INPUTS.values()}

    def add(self, data_type: str, row: dict[str, object]) -> int | None:
        """Hold a tick; the open of its slot, or None when it is not a bar input or came
        after its slot had closed (counted in ``late_ticks``)."""
        entry = INPUTS.get(data_type)
        if entry is None:
            return None
        name, columns = entry
        slot = slot_of(int(row["timestamp"]))  # type: ignore[call-overload]
        if slot < self.closed_us:
            self.late_ticks += 1
            return None
        rows = self.open[name].get(slot)
        if rows is None:
            rows = self.open[name][slot] = SlotRows(columns)
        rows.append(row)
        self.seen.add(name)
        if name == "trades":
            self._fresh.append(
                (
                    int(row["timestamp"]),  # type: ignore[call-overload]
                    int(row["local_timestamp"]),  # type: ignore[call-overload]
                    float(row["price"]),  # type: ignore[arg-type]
                    float(row["amount"]),  # type: ignore[arg-type]
                    SIDE_CODE[row["side"]],
                )
            )
        return slot

    def close_until(self, clock_us: int, outage: OutageCheck, now_us: int) -> list[LiveBar]:
        """Close every slot ending at or before ``clock_us``; the bars that closed with
        them, by close time, shortest timeframe first. The bars of a timeframe closing
        together are laid by one call of the batch function over their window."""
        return self.finish(closing_bars(self.close_slots(clock_us)), outage, now_us)

    def close_slots(self, clock_us: int) -> list["Window"]:
        """Close every slot ending at or before ``clock_us``: the windows whose bars closed
        with them, with their input tables (immutable: ``closing_bars`` may lay them in
        another thread while ticks keep arriving here)."""
        first = self.closed_us
        last = clock_us - (clock_us - first) % GRID_US if clock_us > first else first
        if last == first:
            return []
        opening_carry = {tf: dict(carried) for tf, carried in self.carried_at_open.items()}
        for slot in range(first, last, GRID_US):
            self._close_slot(slot)
        windows: list[Window] = []
        for timeframe, bar_us in self.timeframes.items():
            # The bars ending in (first, last]: from the one open at ``first``.
            window_start, window_end = first - first % bar_us, last - last % bar_us
            if window_end > first:
                windows.append(
                    self._window(timeframe, window_start, window_end, opening_carry[timeframe])
                )
        self.closed_us = last
        for entry in [e for e in self._running if e[1] + self.timeframes[e[0]] <= last]:
            del self._running[entry]
        # Only the open bar of the longest timeframe still reads earlier slots (the day's,
        # with every timeframe built; a minute's with 15s and 1m only).
        keep_from = last - last % self.longest_us
        for slots, tables in self.closed.values():
            kept = bisect_left(slots, keep_from)
            del slots[:kept], tables[:kept]
        return windows

    def finish(self, bars: list[LiveBar], outage: OutageCheck, now_us: int) -> list[LiveBar]:
        """The laid bars of ``close_slots``' windows by close time, shortest timeframe
        first, with ``complete`` and ``known_at``."""
        order = {name: n for n, name in enumerate(self.timeframes)}
        bars = sorted(
            bars,
            key=lambda bar: (
                bar.timestamp_us + self.timeframes[bar.timeframe],
                order[bar.timeframe],
            ),
        )
        return [
            LiveBar(
                bar.timeframe,
                bar.row,
                False,
                bar.timestamp_us >= self.start_us
                and not outage(bar.timestamp_us, bar.timestamp_us + self.timeframes[bar.timeframe]),
                now_us,
            )
            for bar in bars
        ]

    def partials(
        self, timeframes: tuple[str, ...], outage: OutageCheck, now_us: int
    ) -> list[LiveBar]:
        """The open bars of ``timeframes`` that trades added since the last call touched,
        updated with them (``live.partials``)."""
        if not self._fresh:
            return []
        fresh, self._fresh = self._fresh, []
        closed_us = self.closed_us
        updates = []
        for timeframe in timeframes:
            bar_us = self.timeframes[timeframe]
            touched: dict[int, RunningBar] = {}
            for trade in fresh:
                start = trade[0] - trade[0] % bar_us
                if start + bar_us <= closed_us:
                    continue
                running = touched.get(start)
                if running is None:
                    running = self._running.get((timeframe, start))
                    if running is None:
                        running = self._running[(timeframe, start)] = RunningBar(start)
                    touched[start] = running
                running.add(*trade)
            for start in sorted(touched):
                row: dict[str, object] = {"instrument_key": self.instrument_key, "timestamp": start}
                row |= touched[start].values
                row |= dict.fromkeys(NO_TRADE_COLUMNS)
                complete = start >= self.start_us and not outage(start, start + bar_us)
                updates.append(LiveBar(timeframe, row, True, complete, now_us))
        return updates

    def _close_slot(self, start: int) -> None:
        """Slot ``start``'s rows become tables; the state carried past it is updated, and
        kept as the opening state of each timeframe whose bar opens at its end."""
        for name in self.open:
            rows = self.open[name].pop(start, None)
            if rows is None:
                continue
            table = rows.table()
            slots, tables = self.closed[name]
            slots.append(start)
            tables.append(table)
            if name in STATE_INPUTS:
                before = self.carried[name]
                joined = table if before is None else pa.concat_tables([before, table])
                self.carried[name] = carry(joined)
        end = start + GRID_US
        for timeframe, bar_us in self.timeframes.items():
            if end % bar_us == 0:
                self.carried_at_open[timeframe] = dict(self.carried)

    def _window(
        self,
        timeframe: str,
        start: int,
        end: int,
        opening: dict[str, pa.Table | None],
    ) -> "Window":
        """The ``timeframe`` bars of ``[start, end)`` to lay: the window's tick tables and
        the state rows carried to its start."""
        inputs: dict[str, list[pa.Table]] = {}
        for name in self._inputs():
            tables: list[pa.Table] = []
            before = opening.get(name) if name in STATE_INPUTS else None
            if before is not None:
                tables.append(before)
            tables += self._closed_tables(name, start, end)
            inputs[name] = tables or [input_schema(self._columns[name]).empty_table()]
        seconds = self.timeframes[timeframe] // US_PER_SECOND
        return Window(self.instrument_key, timeframe, seconds, start, end, inputs)

    def _closed_tables(self, name: str, start: int, end: int) -> list[pa.Table]:
        slots, tables = self.closed[name]
        return tables[bisect_left(slots, start) : bisect_left(slots, end)]

    def _inputs(self) -> Iterable[str]:
        return self.published if self.published is not None else self.seen


@dataclass(frozen=True)
class Window:
    """Closed bars of one instrument and timeframe to lay: ``[start_us, end_us)`` and the
    input tables (per candles input name) of exactly their ticks and carried state."""

    instrument_key: str
    timeframe: str
    seconds: int
    start_us: int
    end_us: int
    inputs: dict[str, list[pa.Table]]


def closing_bars(windows: Iterable[Window]) -> list[LiveBar]:
    """The closed bars of ``windows``, from the batch function over each window's ticks,
    given the window as its span: its bars are the live bars (``complete`` and
    ``known_at`` are set by ``InstrumentBars.finish``). Touches no builder state."""
    bars: list[LiveBar] = []
    for window in windows:
        # One chunk: the batch reductions pay per chunk.
        inputs = {
            name: pa.concat_tables(tables).combine_chunks()
            for name, tables in window.inputs.items()
        }
        ticks = InstrumentDay(window.instrument_key, **inputs)
        table = instrument_candles(
            ticks,
            window.start_us,
            {window.timeframe: window.seconds},
            span_us=window.end_us - window.start_us,
        )
        bars += [
            LiveBar(window.timeframe, row, False, True, 0)
            for row in plain_rows(table[window.timeframe])
        ]
    return bars

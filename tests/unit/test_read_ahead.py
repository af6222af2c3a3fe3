"""The lake's read-ahead: items produced before anyone asks, bounded, started over on
demand, stopped when unwanted."""

import threading
import time

import pytest

from resources.lake import ReadAhead


def test_items_are_produced_before_the_first_iteration_and_at_most_depth_ahead() -> None:
    made: list[int] = []

    def read():
        for number in range(10):
            made.append(number)
            yield number

    ahead = ReadAhead(read, depth=2)
    deadline = time.monotonic() + 5
    while len(made) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    # Two in the buffer and a third waiting to be handed over: no more.
    assert made == [0, 1, 2]
    assert list(ahead) == list(range(10))


def test_a_second_iteration_reads_afresh_and_an_error_reaches_the_consumer() -> None:
    calls = []

    def read():
        calls.append(len(calls))
        if len(calls) == 1:
            yield "first"
            raise ValueError("cut short")
        yield "again"

    ahead = ReadAhead(read)
    with pytest.raises(ValueError, match="cut short"):
        list(ahead)
    assert list(ahead) == ["again"]
    assert calls == [0, 1]


def test_close_stops_a_producer_nobody_reads() -> None:
    ahead = ReadAhead(lambda: iter(range(1_000)), depth=1)
    ahead.close()
    assert not any(t.name == "lake-read-ahead" and t.is_alive() for t in threading.enumerate())

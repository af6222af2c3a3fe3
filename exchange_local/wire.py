"""What every local exchange protocol shares: messages cut from the tape, and time units.

A `Message` is one frame an exchange pushes: the channel (Binance stream name, Deribit
channel) it belongs to, its arrival time on the tape, and the tape rows it carries. Time
fields go out in milliseconds, the venues' unit, unless the connection asked for
microseconds (`timeUnit=MICROSECOND`, Binance spot's documented URL parameter, which
exchange_local honours on every venue so that exchange times keep the generated data's
µs exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from exchange_local.tape import TapeRow


@dataclass(frozen=True, slots=True)
class Message:
    """One pushed frame: `channel`, the tape's `local_us` it arrives at, and its rows."""

    channel: str
    local_us: int
    rows: tuple[TapeRow, ...]


def wants_micros(query: str) -> bool:
    """Whether a connection's URL query asks for µs time fields (timeUnit=MICROSECOND)."""
    values = parse_qs(query).get("timeUnit", [])
    return any(value.upper() == "MICROSECOND" for value in values)


def wire_time(us: int, micros: bool) -> int:
    """A µs time as the connection's unit: µs, or ms rounded down as the exchanges do."""
    return us if micros else us // 1000


def number(value: object) -> str:
    """A price or amount as Binance writes numbers: a decimal string (shortest round trip)."""
    return repr(float(value))  # type: ignore[arg-type]

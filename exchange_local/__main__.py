"""Command line: `python -m exchange_local serve` (a developer tool, hence argparse).

Serves the generated day on one port until interrupted and prints each venue's
WebSocket URL. Symbols default to the universe's explicit symbols on the venues served
(`MARKET_DATA_UNIVERSE`, else the bundled universe).
"""

from __future__ import annotations

import argparse
import os
import sys
import time as clock
from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from exchange_local.server import VENUES, ExchangeServer
from market_assets.universe import load_universe


def _symbols(pairs: Sequence[str]) -> dict[str, list[str]]:
    if not pairs:
        universe = load_universe(os.environ.get("MARKET_DATA_UNIVERSE") or None)
        return {
            venue: list(universe.for_venue(venue).symbols)
            for venue in VENUES
            if universe.for_venue(venue).symbols
        }
    chosen: dict[str, list[str]] = {}
    for pair in pairs:
        venue, _, names = pair.partition("=")
        if not names:
            raise SystemExit(f"--venue {pair!r}: expected VENUE=SYMBOL[,SYMBOL...]")
        chosen.setdefault(venue, []).extend(name for name in names.split(",") if name)
    return chosen


def _rows(pairs: Sequence[str]) -> dict[str, int]:
    rows = {}
    for pair in pairs:
        data_type, _, count = pair.partition("=")
        if not count.isdigit():
            raise SystemExit(f"--rows-per-day {pair!r}: expected DATA_TYPE=COUNT")
        rows[data_type] = int(count)
    return rows


def _start_at(day: date, clock: str | None) -> int | None:
    if not clock:
        return None
    moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _serve(arguments: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(arguments.day)
        server = ExchangeServer(
            day,
            _symbols(arguments.venue),
            port=arguments.port,
            speed=arguments.speed or None,
            hold_when_idle=not arguments.run_when_idle,
            rows_per_day=_rows(arguments.rows_per_day),
            start_at_us=_start_at(day, arguments.start_from),
        )
    except ValueError as error:
        print(f"exchange_local: {error}", file=sys.stderr)
        return 2
    with server:
        pace = "as fast as possible" if not arguments.speed else f"{arguments.speed:g}x real time"
        print(f"replaying {arguments.day} {pace} on port {server.port}")
        for venue, url in server.endpoints.items():
            print(f"{venue}: {url} (messages {server.position(venue)} to {server.total(venue)})")
        print(f"status: http://127.0.0.1:{server.port}/admin/status")
        print(f"drop connections: curl -X POST http://127.0.0.1:{server.port}/admin/drop")
        sys.stdout.flush()
        try:
            while True:
                clock.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m exchange_local",
        description="Local Binance, Binance USDⓈ-M futures and Deribit WebSocket feeds",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="replay a generated day until interrupted")
    serve.add_argument("--day", required=True, help="UTC day to replay, YYYY-MM-DD")
    serve.add_argument("--port", type=int, default=8765, help="TCP port (0: a free one)")
    serve.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="0: as fast as possible (default); 1: real time; k: k-fold real time",
    )
    serve.add_argument(
        "--venue",
        action="append",
        default=[],
        metavar="VENUE=SYMBOL[,SYMBOL]",
        help=f"venue ({', '.join(VENUES)}) and Tardis symbols; repeatable",
    )
    serve.add_argument(
        "--rows-per-day",
        action="append",
        default=[],
        metavar="DATA_TYPE=COUNT",
        help="generated rows per symbol and day, as the local Tardis server's option",
    )
    serve.add_argument(
        "--from",
        dest="start_from",
        metavar="HH:MM:SS",
        help="start the replay at this UTC time of the day (frames received before are skipped)",
    )
    serve.add_argument(
        "--run-when-idle",
        action="store_true",
        help="advance the tape with no one subscribed (default: hold it until someone is)",
    )
    arguments = parser.parse_args(argv)
    return _serve(arguments)


if __name__ == "__main__":
    raise SystemExit(main())

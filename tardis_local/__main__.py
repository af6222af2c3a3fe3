"""Command line: `python -m tardis_local serve|mirror` (a developer tool, hence argparse)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tardis_local.mirror import write_mirror
from tardis_local.server import TardisServer


def _serve(arguments: argparse.Namespace) -> int:
    exported_until = None
    if arguments.exported_until:
        exported_until = datetime.combine(
            date.fromisoformat(arguments.exported_until), datetime.min.time(), UTC
        )
    with TardisServer(port=arguments.port, exported_until=exported_until) as server:
        print(f"datasets endpoint: {server.datasets_endpoint}")
        print(f"api endpoint:      {server.api_endpoint}")
        print("export these to point the pipeline here:")
        print(f"  export TARDIS_DATASETS_ENDPOINT={server.datasets_endpoint}")
        print(f"  export TARDIS_API_ENDPOINT={server.api_endpoint}")
        print("  export TARDIS_API_KEY=test-key")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _mirror(arguments: argparse.Namespace) -> int:
    start, end = date.fromisoformat(arguments.from_date), date.fromisoformat(arguments.to_date)
    if end <= start:
        print(
            "--to must be after --from (it is exclusive, like tardis-dev's to_date)",
            file=sys.stderr,
        )
        return 2
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    written = write_mirror(
        arguments.out, days, exchanges=arguments.venue, data_types=arguments.data_type
    )
    print(f"wrote {len(written)} files under {arguments.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tardis_local", description="Local fake Tardis.dev"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run a Tardis-compatible HTTP server until interrupted"
    )
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--exported-until", help="YYYY-MM-DD (UTC midnight); default today")
    serve.set_defaults(run=_serve)
    mirror = commands.add_parser(
        "mirror", help="write dataset files in tardis-dev's download layout"
    )
    mirror.add_argument("out")
    mirror.add_argument("--from", dest="from_date", required=True, help="first day, YYYY-MM-DD")
    mirror.add_argument(
        "--to", dest="to_date", required=True, help="day after the last, YYYY-MM-DD (exclusive)"
    )
    mirror.add_argument("--venue", action="append", help="exchange id; repeatable; default all")
    mirror.add_argument("--data-type", action="append", help="data type; repeatable; default all")
    mirror.set_defaults(run=_mirror)
    arguments = parser.parse_args(argv)
    return int(arguments.run(arguments))


if __name__ == "__main__":
    raise SystemExit(main())

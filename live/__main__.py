"""``python -m live serve``: the live service, configured by the environment (README,
"Live bars"); ``--endpoint venue=ws://...`` replaces a venue's WebSocket URL."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from live.run import serve
from resources.environment import Environment


def _endpoints(pairs: Sequence[str]) -> dict[str, str]:
    endpoints = {}
    for pair in pairs:
        venue, _, url = pair.partition("=")
        if not url:
            raise SystemExit(f"--endpoint {pair!r}: expected venue=ws://host:port/path")
        endpoints[venue] = url
    return endpoints


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m live", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("serve", help="build live bars from the exchanges' feeds")
    start.add_argument("--endpoint", action="append", default=[], help="venue=ws://... override")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    environment = Environment.read()
    try:
        asyncio.run(serve(environment, endpoints=_endpoints(arguments.endpoint) or None))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

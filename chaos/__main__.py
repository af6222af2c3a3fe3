"""``python -m chaos [--only WORDS]``: run the fault matrix and print its table (Markdown)."""

import argparse
import os
import sys
import time
import traceback

from chaos.outcome import Result
from chaos.table import markdown


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument(
        "--only", default="", help="run only the groups naming one of these (comma-separated)"
    )
    parser.add_argument("--out", default="", help="also write the table to this file")
    arguments = parser.parse_args()
    # gcsfs reads these on import: the emulators' clients must see them before anything.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    from chaos import (
        rows_hosts,
        rows_inputs,
        rows_instance,
        rows_lake,
        rows_tardis,
        rows_warehouse,
    )

    groups = {
        "tardis": rows_tardis.rows,
        "lake": rows_lake.rows,
        "warehouse": rows_warehouse.rows,
        "instance": rows_instance.rows,
        "host": rows_hosts.rows,
        "inputs": rows_inputs.rows,
    }
    results: list[Result] = []
    started = time.monotonic()
    for group, make in groups.items():
        for row in make():
            name = getattr(row, "label", "") or getattr(row, "__name__", "")
            wanted = [w for w in arguments.only.split(",") if w]
            if wanted and not any(w in f"{group} {name}" for w in wanted):
                continue
            try:
                result = row()
            except Exception as error:  # a row that crashes is a row that failed
                traceback.print_exc()
                result = Result(
                    group, name, "?", f"the row crashed: {error}", False, None, None, None, None
                )
            results.extend(result if isinstance(result, list) else [result])
            print(markdown(results[-1:], header=False), flush=True)
    table = markdown(results)
    minutes = (time.monotonic() - started) / 60
    summary = f"{sum(r.met for r in results)}/{len(results)} rows as expected in {minutes:.1f} min"
    print(f"\n{table}\n\n{summary}")
    if arguments.out:
        with open(arguments.out, "w") as sink:
            sink.write(f"{table}\n\n{summary}\n")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Live rows against batch rows, column by column.

Exact equality, except the time-weighted book columns: the batch integrates from the
day's start, the live bar from its own open, so their last bits differ (relative 1e-9 or
absolute 1e-12 allowed)."""

import math

import pyarrow as pa

TIME_WEIGHTED = frozenset({"spread_bps_tw", "imbalance_5_tw"})


def plain(table: pa.Table) -> list[dict[str, object]]:
    columns = [c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names).to_pylist()


def differences(
    live: list[dict[str, object]],
    batch: list[dict[str, object]],
    skip: frozenset[str] = frozenset(),
) -> list[str]:
    """What differs, as readable lines (empty when the rows agree)."""
    found = []
    if len(live) != len(batch):
        return [f"{len(live)} live rows, {len(batch)} batch rows"]
    for left, right in zip(live, batch, strict=True):
        for name, expected in right.items():
            if name in skip:
                continue
            got = left[name]
            if got == expected:
                continue
            if (
                name in TIME_WEIGHTED
                and isinstance(got, float)
                and isinstance(expected, float)
                and math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
            ):
                continue
            found.append(
                f"{right['instrument_key']} {right['timestamp']} {name}: {got!r} != {expected!r}"
            )
    return found

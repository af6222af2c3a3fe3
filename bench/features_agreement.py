"""The features benchmark's agreement check: polars' features against those the CLI landed."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from features_polars import polars_timeframe
from features_world import DAY, SECONDS, VENUE, Lookback

# Agreement: values within RTOL of ours, or within ATOL_SCALE × the column's largest |value|
# (near a crossing of zero, the ~1e-16 of the values a running sum has passed shows).
RTOL, ATOL_SCALE = 1e-6, 1e-10


def agreement(lake_root: Path, lookback: Lookback) -> dict[str, list[str]]:
    """Per timeframe, the columns where polars' features differ from those the CLI
    landed (nulls elsewhere, or a value beyond rtol): empty when they agree."""
    import pyarrow.compute as pc

    from market_assets.features.columns import MFT
    from resources.lake import ParquetLake

    lake = ParquetLake(str(lake_root))
    found: dict[str, list[str]] = {}
    for timeframe in SECONDS:
        ours = lake.read(("features", f"mft_{timeframe}"), DAY.isoformat(), VENUE)
        theirs = polars_timeframe(lake_root, timeframe, lookback).to_arrow()
        problems = []
        if theirs.column_names != MFT.names or ours.num_rows != theirs.num_rows:
            problems.append(f"shape: {theirs.num_rows} rows, columns {theirs.column_names}")
            found[timeframe] = problems
            continue
        for name in MFT.names:
            a, b = ours[name], theirs[name]
            a_null = pc.is_null(a).to_numpy(zero_copy_only=False)
            b_null = pc.is_null(b).to_numpy(zero_copy_only=False)
            if name in ("instrument_key", "timestamp", "known_at"):
                same = a.cast(b.type).equals(b)
                if not same:
                    problems.append(f"{name}: differs")
                continue
            x = a.cast("float64").to_numpy(zero_copy_only=False)
            y = b.cast("float64").to_numpy(zero_copy_only=False)
            both = ~a_null & ~b_null
            scale = float(np.max(np.abs(x[both]), initial=0.0))
            close = np.isclose(y[both], x[both], rtol=RTOL, atol=ATOL_SCALE * scale)
            if (a_null != b_null).any() or not close.all():
                worst = (
                    np.max(np.abs(x[both] - y[both]) / np.maximum(np.abs(x[both]), 1e-300))
                    if both.any()
                    else 0.0
                )
                problems.append(
                    f"{name}: {int((a_null & ~b_null).sum())} null only in ours, "
                    f"{int((~a_null & b_null).sum())} only in polars, {int((~close).sum())} "
                    f"of {int(both.sum())} values beyond rtol (worst {worst:.1e})"
                )
        found[timeframe] = problems
    return found

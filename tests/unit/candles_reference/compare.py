"""A candle column against its reference: what differs, with examples."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from market_assets.candles.columns import CANDLES
from tests.unit.candles_reference.day import US, D

FLOAT_RTOL = 1e-9
# The time-weighted columns are integrated over the whole day by the implementation; a
# mean close to zero (imbalance) may then differ from the direct per-bar sum by ~1e-12.
TW_ATOL = 1e-10


def _clock(bar: int, seconds: int) -> str:
    return datetime.fromtimestamp((D + bar * seconds * US) / US, UTC).strftime("%H:%M:%S")


def _show(value: float | None, arrow_type: pa.DataType) -> str:
    if value is None or np.isnan(value):
        return "null"
    if pa.types.is_timestamp(arrow_type):
        return datetime.fromtimestamp(value / US, UTC).isoformat()
    return repr(float(value))


def column_problems(
    name: str, got: pa.ChunkedArray, expected: pd.Series, seconds: int
) -> list[str]:
    """What differs between a candle column and its reference: null positions, NaN
    written instead of null, values (floats to ``FLOAT_RTOL``, integers and times exact)."""
    arrow_type = CANDLES.schema.field(name).type
    assert got.type == arrow_type, f"{name}: type {got.type}, schema says {arrow_type}"
    want = expected.to_numpy(dtype=float)
    want_null = np.isnan(want)
    got_null = got.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_floating(arrow_type):
        values = got.fill_null(0.0).to_numpy(zero_copy_only=False)
        nan = ~got_null & np.isnan(values)
        atol = TW_ATOL if name.endswith("_tw") else 0.0
        close = np.isclose(values, want, rtol=FLOAT_RTOL, atol=atol)
    else:
        values = got.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        nan = np.zeros(values.size, dtype=bool)
        close = values == np.where(want_null, 0, want).astype(np.int64)
    shown = np.where(got_null, np.nan, values.astype(float))
    problems = []
    for why, wrong in (
        ("null differs", got_null != want_null),
        ("NaN instead of null", nan),
        ("values differ", ~got_null & ~want_null & ~close),
    ):
        bars = np.flatnonzero(wrong)
        if bars.size:
            examples = ", ".join(
                f"bar {_clock(b, seconds)}: expected {_show(want[b], arrow_type)}, "
                f"got {_show(shown[b], arrow_type)}"
                for b in bars[:3]
            )
            problems.append(f"{name}: {why} in {bars.size} bar(s); {examples}")
    return problems

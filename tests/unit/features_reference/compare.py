"""A feature column of ``day_features`` against its reference: what differs, with examples."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

RTOL = 1e-9
# Absolute floors, in the feature's unit, where a value is the difference of two nearly
# equal terms and is near 0: there only the terms' own rounding is left to compare.
ATOL = {
    # ln C_t − ln C_{t−k} and ln(C_t / C_{t−k}) differ by the rounding of ln C (~1e-15).
    **dict.fromkeys(("log_return_1", "log_return_5", "log_return_15", "log_return_60"), 1e-13),
    "return_since_midnight": 1e-13,
    # (C − lower) / (upper − lower) near a band: a billionth of the band.
    "bollinger_pct_b_20": 1e-9,
}


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M")


def floats(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values with NaN where null, null mask) of a float column."""
    null = column.is_null().to_numpy(zero_copy_only=False)
    values = column.fill_null(np.nan).to_numpy(zero_copy_only=False).astype(float)
    return values, null


def feature_problems(
    name: str, got: pa.ChunkedArray, want: pd.Series, why: pd.Series, rows: pd.DataFrame
) -> list[str]:
    """What differs between a feature column and its reference (NaN there is null, ``why``
    its reason): null positions, NaN stored instead of null, values beyond ``RTOL``
    (plus ``ATOL`` where set). ``rows`` names each row (instrument_key, timestamp µs)."""
    values, got_null = floats(got)
    expected = want.to_numpy(dtype=float)
    want_null = np.isnan(expected)
    stored_nan = ~got_null & np.isnan(values)
    close = np.isclose(values, expected, rtol=RTOL, atol=ATOL.get(name, 0.0))
    problems = []
    for what, wrong in (
        ("null differs", got_null != want_null),
        ("NaN stored instead of null", stored_nan),
        ("value differs", ~got_null & ~want_null & ~close),
    ):
        at = np.flatnonzero(wrong)
        if at.size:
            shown = [
                f"{rows.instrument_key.iat[i]} {_when(rows.timestamp.iat[i])}: expected "
                f"{'null (' + why.iat[i] + ')' if want_null[i] else repr(expected[i])}, "
                f"got {'null' if got_null[i] else repr(values[i])}"
                for i in at[:3]
            ]
            problems.append(f"{name}: {what} at {at.size} rows, e.g. " + "; ".join(shown))
    return problems


def identical_problems(name: str, a: pa.ChunkedArray, b: pa.ChunkedArray) -> list[str]:
    """Where two columns are not bit-identical (``==`` on the values, same nulls)."""
    if pa.types.is_floating(a.type):
        (va, na), (vb, nb) = floats(a), floats(b)
        differ = (na != nb) | (~na & ~nb & (va != vb))
    else:
        differ = np.array([x != y for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)])
    at = np.flatnonzero(differ)
    if not at.size:
        return []
    pairs = ", ".join(f"row {i}: {a[int(i)].as_py()!r} vs {b[int(i)].as_py()!r}" for i in at[:3])
    return [f"{name}: {at.size} rows differ, e.g. {pairs}"]

"""The frame a call returns: pandas by default, an Arrow table or a polars frame on request."""

from typing import Any, Literal

import pyarrow as pa

Output = Literal["pandas", "arrow", "polars"]
OUTPUTS = ("pandas", "arrow", "polars")


def check_output(as_: str) -> None:
    """A ``ValueError`` for anything but ``"pandas"``, ``"arrow"`` or ``"polars"``, raised
    before anything is read."""
    if as_ not in OUTPUTS:
        raise ValueError(f"as_={as_!r}: ask for one of {', '.join(OUTPUTS)}")


def deliver(table: pa.Table, as_: Output, *, nullable_integers: bool = False) -> Any:
    """``table`` as ``as_`` asks: a pandas DataFrame (timestamps ``datetime64[us, UTC]``,
    labels categorical; integer columns as pandas' nullable ``Int64`` when
    ``nullable_integers``, else as numpy's, float where they hold nulls), the Arrow table
    itself, or a polars DataFrame."""
    check_output(as_)
    if as_ == "arrow":
        return table
    if as_ == "pandas":
        if nullable_integers:
            import pandas as pd

            return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        return table.to_pandas()
    try:
        # Imported here: polars is only a dev dependency of this project.
        import polars
    except ImportError:
        raise ImportError(
            "as_='polars' needs polars, which this project installs only with its dev "
            "extras: pip install polars, or ask for as_='pandas' or as_='arrow'"
        ) from None
    return polars.from_arrow(table)

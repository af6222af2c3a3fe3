"""Times as the reader takes them: aware, UTC, microseconds.

A time is a tz-aware ``datetime`` (a tz-aware pandas ``Timestamp`` is one), a ``date``
(its midnight UTC) or an ISO date / datetime string, read as UTC unless it carries an
offset. A naive ``datetime`` is refused: its zone is a guess, and guessing it (as local
time) shifted the previous system's data by nine hours.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
# What a time or a duration may be given as (a pandas Timestamp is a datetime, a pandas
# Timedelta a timedelta).
Moment = datetime | date | str
Duration = timedelta | str


def utc(value: Any, name: str = "time") -> datetime:
    """``value`` as an aware UTC ``datetime``; ``TypeError`` for a naive one or a type
    that is not a time, ``ValueError`` for a string that is not ISO."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise TypeError(
                f"{name}={value!r} is a naive datetime: pass a tz-aware one "
                "(datetime(..., tzinfo=UTC), pd.Timestamp(..., tz='UTC')) or an ISO string "
                "such as '2024-01-02T12:00' (read as UTC). A naive time's zone is a guess, "
                "and guessing it shifted the previous reader's data by hours."
            )
        moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        return moment.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{name}={value!r} is not an ISO date or datetime (e.g. '2024-01-02', "
                "'2024-01-02T12:00:00Z')"
            ) from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise TypeError(
        f"{name}={value!r} is not a time: pass a tz-aware datetime or pandas Timestamp, a "
        "date, or an ISO string (read as UTC)"
    )


def day_of(value: Any, name: str = "day") -> str:
    """The UTC day (``YYYY-MM-DD``) of a date, an aware datetime or an ISO string."""
    return str(utc(value, name).date())


def micros(moment: datetime) -> int:
    """An aware datetime as µs since the epoch, UTC."""
    return (moment - EPOCH) // US


def span(start: Any, end: Any) -> tuple[datetime, datetime]:
    """``start`` (inclusive) and ``end`` (exclusive) as aware UTC datetimes; a
    ``ValueError`` when the range is empty."""
    first, last = utc(start, "start"), utc(end, "end")
    if last <= first:
        raise ValueError(f"end={last.isoformat()} is not after start={first.isoformat()}")
    return first, last


def duration(value: Any, name: str) -> int:
    """A ``timedelta`` (a pandas ``Timedelta`` is one) or a string pandas reads as one
    (``"90s"``, ``"1min"``), in µs; ``ValueError`` when negative."""
    if isinstance(value, str):
        import pandas as pd  # only for parsing the string

        value = pd.Timedelta(value).to_pytimedelta()
    if not isinstance(value, timedelta):
        raise TypeError(f"{name}={value!r} is not a duration: pass a timedelta or '1min'")
    if value < timedelta(0):
        raise ValueError(f"{name}={value} is negative")
    return value // US


def many_micros(times: Any) -> np.ndarray:
    """Many times (an iterable of times as ``utc`` takes them, a tz-aware pandas Series or
    DatetimeIndex, or an Arrow timestamp array with a zone) as int64 µs since the epoch."""
    dtype = str(getattr(times, "dtype", ""))
    if dtype.startswith("datetime64"):
        if getattr(times.dtype, "tz", None) is None:
            raise TypeError(
                "times are naive datetime64 values: localise them first "
                "(times.dt.tz_localize('UTC') or .tz_localize('UTC')) so their zone is not a guess"
            )
        import pandas as pd  # times came as pandas, so it is loaded already

        return pd.DatetimeIndex(times).tz_convert("UTC").as_unit("us").asi8.astype(np.int64)
    arrow_type = getattr(times, "type", None)
    if getattr(arrow_type, "tz", None):
        import pyarrow as pa

        return np.asarray(times.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()))
    return np.array([micros(utc(t, "times[]")) for t in times], dtype=np.int64)

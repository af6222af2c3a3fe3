"""What the live service emits: a candle (``LiveBar``) or a feature row (``LiveFeatureRow``)
of one instrument and timeframe, with when it became known.

Rows hold exactly the batch tables' columns (``CANDLES``, ``MFT``), timestamps as int µs
since the epoch, UTC, so a live bar is a row of ``candles/{timeframe}``.
"""

from dataclasses import dataclass

import pyarrow as pa

from market_assets.candles.columns import CANDLES


@dataclass(frozen=True, slots=True)
class LiveBar:
    """One bar of ``timeframe``.

    ``partial``: an update of the bar still open (trade columns only, the rest None);
    otherwise the closed bar, emitted once. ``complete`` is False when a feed outage or
    the service's own start touched the bar, so some of its ticks were never seen.
    ``known_at_us``: when the service emitted it (µs UTC, wall clock).
    """

    timeframe: str
    row: dict[str, object]
    partial: bool
    complete: bool
    known_at_us: int

    @property
    def instrument_key(self) -> str:
        return str(self.row["instrument_key"])

    @property
    def timestamp_us(self) -> int:
        return int(self.row["timestamp"])  # type: ignore[call-overload]

    def to_message(self) -> dict[str, object]:
        return {
            "type": "bar",
            "timeframe": self.timeframe,
            "partial": self.partial,
            "complete": self.complete,
            "known_at_us": self.known_at_us,
            "row": self.row,
        }

    @classmethod
    def of_message(cls, message: dict[str, object]) -> "LiveBar":
        return cls(
            timeframe=str(message["timeframe"]),
            row=dict(message["row"]),  # type: ignore[call-overload]
            partial=bool(message["partial"]),
            complete=bool(message["complete"]),
            known_at_us=int(message["known_at_us"]),  # type: ignore[call-overload]
        )


@dataclass(frozen=True, slots=True)
class LiveFeatureRow:
    """The MFT features of one closed bar (``MFT`` columns; ``known_at`` inside the row is
    the batch definition, ``known_at_us`` when the service emitted it)."""

    timeframe: str
    row: dict[str, object]
    known_at_us: int

    @property
    def instrument_key(self) -> str:
        return str(self.row["instrument_key"])

    def to_message(self) -> dict[str, object]:
        return {
            "type": "features",
            "timeframe": self.timeframe,
            "known_at_us": self.known_at_us,
            "row": self.row,
        }

    @classmethod
    def of_message(cls, message: dict[str, object]) -> "LiveFeatureRow":
        return cls(
            timeframe=str(message["timeframe"]),
            row=dict(message["row"]),  # type: ignore[call-overload]
            known_at_us=int(message["known_at_us"]),  # type: ignore[call-overload]
        )


def plain_rows(table: pa.Table) -> list[dict[str, object]]:
    """The rows of ``table`` as Python values, timestamps as int µs."""
    columns = [
        column.cast(pa.int64()) if pa.types.is_timestamp(column.type) else column
        for column in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names).to_pylist()


LIVE_CANDLE_EXTRA = (
    pa.field("complete", pa.bool_(), nullable=False),
    pa.field("known_at", CANDLES.schema.field("timestamp").type, nullable=False),
)


def live_candles_schema() -> pa.Schema:
    """The ``live_candles_{tf}`` tables: the candle columns, then ``complete`` and
    ``known_at``."""
    schema = CANDLES.schema
    for field in LIVE_CANDLE_EXTRA:
        schema = schema.append(field)
    return schema


def bars_table(bars: list[LiveBar]) -> pa.Table:
    """Closed bars as rows of ``live_candles_schema()``."""
    schema = live_candles_schema()
    rows = [{**bar.row, "complete": bar.complete, "known_at": bar.known_at_us} for bar in bars]
    arrays = []
    for field in schema:
        values = [row[field.name] for row in rows]
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)

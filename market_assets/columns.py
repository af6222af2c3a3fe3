"""Column specifications: every dataset's columns are declared once, here in this shape.

A ``Column`` says what one column is: its name, Arrow type, nullability, unit, one-line
meaning and the value rules its rows keep. A ``Dataset`` is the ordered columns of one
table. Everything else is derived from it: the Arrow schema (``Dataset.schema``), the
pandera schema and the asset's ``dagster/column_schema`` (``market_assets.schemas``) and
the warehouse DDL (``resources.warehouse``, from the Arrow schema).

Pure: pyarrow only.
"""

from dataclasses import dataclass, field, replace
from functools import cached_property

import pyarrow as pa

# Every time in the lake: microseconds since the epoch, UTC, never naive.
TIMESTAMP = pa.timestamp("us", tz="UTC")
# Repeated labels (symbols, sides, option types) are dictionary-encoded strings.
LABEL = pa.dictionary(pa.int32(), pa.string())


@dataclass(frozen=True)
class Column:
    """One column: what it holds, in which unit, and the rules its values keep.

    ``gt``/``ge``/``le`` bound numbers, ``isin`` lists the allowed labels, ``pattern`` is a
    regular expression every string matches, ``unique`` forbids repeats within a table.
    """

    name: str
    type: pa.DataType
    doc: str
    unit: str = ""
    nullable: bool = True
    unique: bool = False
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    isin: tuple[str, ...] = ()
    pattern: str | None = None

    @property
    def description(self) -> str:
        """The meaning with its unit, as the UI and the warehouse show it."""
        return f"{self.doc} ({self.unit})" if self.unit else self.doc

    @property
    def field(self) -> pa.Field:
        """The Arrow field, its description and unit kept as field metadata."""
        metadata = {"description": self.doc, **({"unit": self.unit} if self.unit else {})}
        return pa.field(self.name, self.type, nullable=self.nullable, metadata=metadata)

    def renamed(self, name: str, doc: str | None = None) -> "Column":
        """The same column under another name (and meaning)."""
        return replace(self, name=name, doc=self.doc if doc is None else doc)


@dataclass(frozen=True)
class Dataset:
    """The ordered columns of one table (a tick data type, the candles, ...)."""

    name: str
    columns: tuple[Column, ...]
    doc: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{self.name}: columns {repeated} are declared twice")
        object.__setattr__(self, "_by_name", {column.name: column for column in self.columns})

    @cached_property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the table, in declaration order."""
        return pa.schema([column.field for column in self.columns])

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def with_columns_first(self, name: str, columns: tuple[Column, ...], doc: str) -> "Dataset":
        """A dataset named ``name`` whose rows are this one's with ``columns`` in front."""
        return Dataset(name, (*columns, *self.columns), doc)


def arrow_types(columns: tuple[Column, ...]) -> dict[str, pa.DataType]:
    """Name -> Arrow type of ``columns``, in order."""
    return {column.name: column.type for column in columns}

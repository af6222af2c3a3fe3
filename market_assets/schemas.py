"""What the graph derives from a dataset's column specification: its pandera schema,
checked on every chunk before it lands, and the ``dagster/column_schema`` the UI shows."""

import importlib.util
import sys

import pandera.pyarrow as pap
import pyarrow as pa
from dagster import TableColumn, TableColumnConstraints, TableSchema

from market_assets.columns import Column, Dataset

COLUMN_SCHEMA = "dagster/column_schema"

# pandera's dtype check imports its pyspark engine for every column it checks; without
# pyspark that import fails anew each time (Python does not remember a failed import),
# 1.7 ms of a validation's 6 ms fixed cost, paid per file of a venue-day. A None entry
# makes the import fail at once, as Python's import system defines for sys.modules.
if importlib.util.find_spec("pyspark") is None:
    sys.modules.setdefault("pandera.engines.pyspark_engine", None)  # type: ignore[assignment]


def pandera_schema(dataset: Dataset) -> pap.DataFrameSchema:
    """Exactly ``dataset``'s columns, in order, with their types, nullability and rules."""
    return pap.DataFrameSchema(
        {
            column.name: pap.Column(
                column.type, _checks(column), nullable=column.nullable, unique=column.unique
            )
            for column in dataset.columns
        },
        strict=True,
        ordered=True,
        name=dataset.name,
    )


def _checks(column: Column) -> list[pap.Check]:
    checks = []
    if column.gt is not None:
        checks.append(pap.Check.gt(column.gt))
    if column.ge is not None:
        checks.append(pap.Check.ge(column.ge))
    if column.le is not None:
        checks.append(pap.Check.le(column.le))
    if column.isin:
        checks.append(pap.Check.isin(list(column.isin)))
    if column.pattern is not None:
        checks.append(pap.Check.str_matches(column.pattern))
    return checks


def table_schema(dataset: Dataset) -> TableSchema:
    """Every column of ``dataset`` with its type, description and unit, for the UI."""
    return TableSchema(
        columns=[
            TableColumn(
                column.name,
                type_name(column.type),
                description=column.description,
                constraints=TableColumnConstraints(nullable=column.nullable, unique=column.unique),
            )
            for column in dataset.columns
        ]
    )


def type_name(arrow_type: pa.DataType) -> str:
    """A short type name: dictionary-encoded labels show as the strings they hold."""
    if pa.types.is_dictionary(arrow_type):
        return str(arrow_type.value_type)
    return str(arrow_type)


def column_schema_metadata(dataset: Dataset) -> dict[str, TableSchema]:
    """Definition metadata giving an asset its columns."""
    return {COLUMN_SCHEMA: table_schema(dataset)}

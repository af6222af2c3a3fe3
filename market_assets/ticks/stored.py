"""What a stored Parquet file says about its rows without reading them all. Pure.

A file's footer holds its Arrow schema, its row count and, per row group and column, the
null count and min/max the writer computed from the very values it encoded; the lake
adds the NaN count of each float column, which Parquet's min/max leave out. Those answer
every rule of a dataset's columns but two: allowed labels (``isin``), read from the
label column alone, and the rare ``pattern``/``unique`` rules, read from their columns.
"""

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from market_assets.columns import Column, Dataset


def _bounded(column: Column) -> bool:
    return column.gt is not None or column.ge is not None or column.le is not None


def _floating(column: Column) -> bool:
    return pa.types.is_floating(column.type)


def columns_to_read(dataset: Dataset, nan_counts: Mapping[str, int] | None) -> list[str]:
    """The columns whose rules a footer cannot answer: labels with an allowed set,
    patterns and unique columns, and, when the file carries no NaN counts, the float
    columns a NaN would break (bounded or not nullable)."""
    wanted = []
    for column in dataset.columns:
        nan_rule = _floating(column) and (_bounded(column) or not column.nullable)
        if (
            column.isin
            or column.pattern is not None
            or column.unique
            or (nan_rule and nan_counts is None)
        ):
            wanted.append(column.name)
    return wanted


def footer_violations(
    stored: pa.Schema,
    metadata: pq.FileMetaData,
    nan_counts: Mapping[str, int] | None,
    dataset: Dataset,
) -> list[str]:
    """Every rule of ``dataset`` the file's footer shows broken: its columns exactly, in
    order, with their types; per row group, nulls in columns that allow none and min/max
    outside the bounds; NaNs (from ``nan_counts``) where a bound or non-null rule forbids
    them. Each problem names the column and the row group."""
    expected = dataset.schema
    if stored.names != expected.names:
        return [f"columns {stored.names} are not the {dataset.name} columns {expected.names}"]
    problems = [
        f"{field.name}: type {field.type}, expected {want.type}"
        for field, want in zip(stored, expected, strict=True)
        if field.type != want.type
    ]
    if problems:
        return problems
    for column in dataset.columns:
        found = (nan_counts or {}).get(column.name, 0)
        if found and _floating(column) and (_bounded(column) or not column.nullable):
            problems.append(f"{column.name}: {found:,} NaN values")
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index, column in enumerate(dataset.columns):
            problems += _group_violations(row_group.column(index).statistics, column, group)
    return problems


def _group_violations(statistics: pq.Statistics | None, column: Column, group: int) -> list[str]:
    where = f"{column.name} (row group {group})"
    needs_bounds = _bounded(column)
    if statistics is None or not statistics.has_null_count:
        return [f"{where}: the footer has no statistics to check it by"]
    problems = []
    if not column.nullable and statistics.null_count:
        problems.append(f"{where}: {statistics.null_count:,} nulls")
    values = statistics.num_values  # non-null values
    if not needs_bounds or not values:
        return problems
    if not statistics.has_min_max:
        return [*problems, f"{where}: the footer has no min/max to check its bounds by"]
    low, high = statistics.min, statistics.max
    if column.gt is not None and not low > column.gt:
        problems.append(f"{where}: minimum {low} is not > {column.gt}")
    if column.ge is not None and not low >= column.ge:
        problems.append(f"{where}: minimum {low} is not >= {column.ge}")
    if column.le is not None and not high <= column.le:
        problems.append(f"{where}: maximum {high} is not <= {column.le}")
    return problems


def value_violations(table: pa.Table, dataset: Dataset) -> list[str]:
    """The rules of ``columns_to_read`` checked on those columns' values: allowed
    labels, patterns, uniqueness, and NaNs where a bound or non-null rule forbids them."""
    problems = []
    for column in dataset.columns:
        if column.name not in table.column_names:
            continue
        values = table.column(column.name)
        if column.isin:
            found = set(_distinct(values))
            stray = sorted(str(value) for value in found - set(column.isin))
            if stray:
                problems.append(f"{column.name}: values {stray} not in {list(column.isin)}")
        if column.pattern is not None:
            matches = pc.match_substring_regex(values, f"^(?:{column.pattern})$")
            misses = values.length() - values.null_count - pc.sum(matches).as_py()
            if misses:
                problems.append(f"{column.name}: {misses:,} values not matching {column.pattern}")
        if column.unique and pc.count_distinct(values).as_py() != values.length():
            problems.append(f"{column.name}: repeated values")
        if _floating(column) and (_bounded(column) or not column.nullable):
            nans = pc.sum(pc.is_nan(values)).as_py() or 0
            if nans:
                problems.append(f"{column.name}: {nans:,} NaN values")
    return problems


def _distinct(values: pa.ChunkedArray) -> Sequence[object]:
    found: set[object] = set()
    for chunk in values.chunks:
        if pa.types.is_dictionary(chunk.type):
            # The labels the rows use, not every entry a dictionary may carry.
            used = pc.unique(chunk.indices.drop_null())
            found.update(chunk.dictionary.take(used).to_pylist())
        else:
            found.update(pc.unique(chunk.drop_null()).to_pylist())
    return list(found)


def single_value(metadata: pq.FileMetaData, index: int) -> object | None:
    """The one value column ``index`` holds in every row, when every row group's
    statistics say min == max and there are no nulls; None when the footer cannot say."""
    value = None
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max or statistics.null_count:
            return None
        if statistics.min != statistics.max or (value is not None and statistics.min != value):
            return None
        value = statistics.min
    return value

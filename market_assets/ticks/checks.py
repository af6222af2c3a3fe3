"""Asset checks on every partition of the tick assets: schema and instrument coverage."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
    asset_check,
)
from upath import UPath

from market_assets.runs import day_and_venue
from market_assets.ticks.silence import (
    SILENCE_FACTOR,
    SILENCE_FLOOR_SECONDS,
    longest_silence_in_pieces,
)
from market_assets.ticks.stored import (
    columns_to_read,
    footer_violations,
    single_value,
    value_violations,
)
from market_assets.ticks.types import TICK_TYPES, TickType, file_name
from resources.io_manager import LakePartition
from resources.lake import ROW_GROUP_ROWS, nan_counts
from resources.storage import is_local
from resources.tardis import TardisSource, as_failure
from resources.universe import UniverseResource

# Checks run per (day, venue) partition; Dagster still labels partitioned checks "preview".
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
)

SCHEMA_CHECK = "schema"
COVERAGE_CHECK = "coverage"
INCIDENTS_CHECK = "incidents"
SILENCE_CHECK = "silence"


def build_tick_checks(
    tick_asset: AssetsDefinition, tick_type: TickType, partitions: PartitionsDefinition
) -> list[AssetChecksDefinition]:
    """Schema, coverage and incident checks for one ``ticks/{data_type}`` asset, and a
    silence check where ticks flow all day."""
    data_type = tick_type.data_type
    dataset = tick_type.dataset

    @asset_check(
        asset=tick_asset,
        name=SCHEMA_CHECK,
        partitions_def=partitions,
        blocking=True,
        description=(
            f"Every stored {data_type} file has exactly the declared columns and types, and "
            "its values keep the declared rules: nulls, bounds and NaNs from the statistics "
            "the lake wrote into each file's footer, allowed labels from the label columns."
        ),
    )
    def schema_check(context: AssetCheckExecutionContext, ticks: LakePartition) -> AssetCheckResult:
        failures = {}
        rows = 0
        for path in ticks.paths():
            name = path.name.removesuffix(".parquet")
            with _opened(path) as stored:
                metadata = stored.metadata
                rows += metadata.num_rows
                counts = nan_counts(metadata)
                problems = footer_violations(stored.schema_arrow, metadata, counts, dataset)
                wanted = columns_to_read(dataset, counts)
                if wanted and not problems:
                    problems = value_violations(stored.read(columns=wanted), dataset)
            if problems:
                failures[name] = "; ".join(problems)[:2000]
        return AssetCheckResult(
            passed=not failures,
            metadata={"rows": rows, "failures": MetadataValue.json(failures)},
        )

    @asset_check(
        asset=tick_asset,
        name=COVERAGE_CHECK,
        partitions_def=partitions,
        additional_ins={"instrument_definitions": AssetIn("instrument_definitions")},
        description=(
            f"Every universe instrument for which Tardis publishes {data_type} has rows; "
            "instruments whose Tardis file was an empty gzip (no data that day) are "
            "reported as no_data, apart from missing ones."
        ),
    )
    def coverage_check(
        context: AssetCheckExecutionContext,
        ticks: LakePartition,
        instrument_definitions: pa.Table,
        universe: UniverseResource,
    ) -> AssetCheckResult:
        day, venue = day_and_venue(context)
        expected = [
            key
            for _, key in tick_type.expected(
                instrument_definitions, universe.load().for_venue(venue), day
            )
        ]
        present: set[str] = set()
        empty: set[str] = set()
        for path in ticks.paths():
            name = path.name.removesuffix(".parquet")
            with _opened(path) as stored:
                metadata = stored.metadata
                key = single_value(metadata, stored.schema_arrow.get_field_index("instrument_key"))
            if not metadata.num_rows:
                empty.add(name)
            elif key is not None:
                present.add(str(key))
            else:  # a grouped file: its keys are in its rows
                present |= ticks.instrument_keys(name)
        no_data = [
            k
            for k in expected
            if k not in present and (tick_type.grouped_symbol or file_name(k)) in empty
        ]
        missing = [k for k in expected if k not in present and k not in no_data]
        return AssetCheckResult(
            # Missing files are errors; empty Tardis files are flagged as a warning.
            passed=not missing and not no_data,
            severity=AssetCheckSeverity.ERROR if missing else AssetCheckSeverity.WARN,
            metadata={
                "expected": len(expected),
                "present": len(present & set(expected)),
                "missing": MetadataValue.json(missing),
                "no_data": MetadataValue.json(no_data),
            },
        )

    @asset_check(
        asset=tick_asset,
        name=INCIDENTS_CHECK,
        partitions_def=partitions,
        description=(
            "Warns when one of Tardis' published incident reports for the venue overlaps "
            "the day: data may be missing or wrong there whatever the files say."
        ),
    )
    def incidents_check(
        context: AssetCheckExecutionContext, ticks: LakePartition, tardis: TardisSource
    ) -> AssetCheckResult:
        day, venue = day_and_venue(context)
        with as_failure():
            reports = tardis.exchange_details(venue).get("incidentReports", [])
        overlapping = incidents_on(reports, day)
        return AssetCheckResult(
            passed=not overlapping,
            severity=AssetCheckSeverity.WARN,
            metadata={"incidents": MetadataValue.json(overlapping)},
        )

    checks = [schema_check, coverage_check, incidents_check]
    if not tick_type.steady:
        return checks

    @asset_check(
        asset=tick_asset,
        name=SILENCE_CHECK,
        partitions_def=partitions,
        description=(
            "Warns when an instrument's longest silence in exchange time is far above its "
            f"usual spacing ({SILENCE_FACTOR}x the median, at least "
            f"{SILENCE_FLOOR_SECONDS} s): a hole inside the day."
        ),
    )
    def silence_check(
        context: AssetCheckExecutionContext, ticks: LakePartition
    ) -> AssetCheckResult:
        day, _ = day_and_venue(context)
        start = datetime.combine(day, time(), tzinfo=UTC)
        start_us = int(start.timestamp() * 1_000_000)
        end_us = start_us + 86_400 * 1_000_000
        longest = {}
        holes = []
        for path in ticks.paths():
            with _opened(path) as stored:
                if not stored.metadata.num_rows:
                    continue
                index = stored.schema_arrow.get_field_index("instrument_key")
                key = single_value(stored.metadata, index)
                if key is None:  # the key from the rows when the footer cannot say
                    key = stored.read_row_group(0, columns=["instrument_key"])[0][0].as_py()
                silence = longest_silence_in_pieces(timestamp_pieces(stored), start_us, end_us)
            longest[key] = {
                "from": silence.start.isoformat(),
                "to": silence.end.isoformat(),
                "minutes": round(silence.seconds / 60, 1),
                "usual_spacing_seconds": round(silence.usual_spacing_seconds, 3),
            }
            if silence.is_hole:
                holes.append(key)
        return AssetCheckResult(
            passed=not holes,
            severity=AssetCheckSeverity.WARN,
            metadata={"holes": MetadataValue.json(holes), "longest": MetadataValue.json(longest)},
        )

    return [*checks, silence_check]


def timestamp_pieces(
    stored: pq.ParquetFile, batch_rows: int = ROW_GROUP_ROWS
) -> Iterator[tuple[np.ndarray, int | None]]:
    """A stored file's exchange timestamps (µs) in batches of ``batch_rows``, each
    with the smallest timestamp of the rows after it, bounded from the row groups' footer
    statistics; the whole column at once when the footer has none. A busy day is 5
    million timestamps: read whole, its arrays cost more in page faults than the
    arithmetic on them."""
    metadata = stored.metadata
    index = stored.schema_arrow.get_field_index("timestamp")
    groups = [metadata.row_group(g) for g in range(metadata.num_row_groups)]
    statistics = [group.column(index).statistics for group in groups]
    if not all(s is not None and s.has_min_max for s in statistics):
        yield _microseconds(stored.read(columns=["timestamp"])[0]), None
        return
    # after[g]: the smallest timestamp of the groups after group g; ends[g]: its last row.
    after: list[int | None] = [None] * len(groups)
    for g in range(len(groups) - 2, -1, -1):
        following = int(statistics[g + 1].min_raw)
        after[g] = following if after[g + 1] is None else min(following, after[g + 1])
    ends = list(accumulate(group.num_rows for group in groups))
    read = 0
    group = 0
    for batch in stored.iter_batches(
        batch_size=batch_rows, columns=["timestamp"], use_threads=False
    ):
        read += batch.num_rows
        while ends[group] < read:
            group += 1
        later = after[group]
        if read < ends[group]:  # the rest of this group is still to come
            rest = int(statistics[group].min_raw)
            later = rest if later is None else min(rest, later)
        yield _microseconds(batch.column(0)), later


def _microseconds(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    # The timestamps' own buffer seen as int64, not copied (one chunk).
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.cast(pa.int64()).to_numpy(zero_copy_only=False)


@contextmanager
def _opened(path: UPath) -> Iterator[pq.ParquetFile]:
    """One stored file of the lake, open for its footer and the columns asked of it."""
    if is_local(path):
        with pq.ParquetFile(path.path) as stored:
            yield stored
        return
    with path.fs.open(path.path, "rb") as handle, pq.ParquetFile(handle) as stored:
        yield stored


def incidents_on(reports: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """Tardis incident reports (``from``, ``to``, ISO UTC) that overlap the UTC ``day``."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    found = []
    for report in reports:
        began = datetime.fromisoformat(str(report["from"]).replace("Z", "+00:00"))
        ended = datetime.fromisoformat(
            str(report.get("to") or report["from"]).replace("Z", "+00:00")
        )
        if began < end and ended > start:
            found.append(report)
    return found


def build_all_tick_checks(
    tick_assets: dict[str, AssetsDefinition], partitions: PartitionsDefinition
) -> list[AssetChecksDefinition]:
    """The checks of every ``ticks/{data_type}`` asset in ``tick_assets``."""
    return [
        check
        for tick_type in TICK_TYPES
        for check in build_tick_checks(tick_assets[tick_type.data_type], tick_type, partitions)
    ]

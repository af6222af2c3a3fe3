"""What the lake holds of an asset over some days: its files, their rows, and the gaps.

One listing per day asked for (on GCS a prefix listing, one request however many venues
and files it holds), then each file's row count from its Parquet footer. A file with no
rows is a day Tardis published empty (``empty``); a (day, venue) without files was never
materialised or failed (``missing``).
"""

from datetime import date

import pyarrow as pa
from upath import UPath

from market_assets.ticks.types import instrument_key_of_file
from market_reader.layout import Asset
from market_reader.scan import each
from resources.lake import ParquetLake

SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        pa.field("venue", pa.string(), nullable=False),
        pa.field("file", pa.string()),
        pa.field("instrument_key", pa.string()),
        pa.field("rows", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("status", pa.string(), nullable=False),
    ]
)
PRESENT, EMPTY, MISSING = "present", "empty", "missing"


def coverage(lake: ParquetLake, asset: Asset, days: list[str], venue: str | None) -> pa.Table:
    """One row per file of ``asset`` on ``days`` (of ``venue``, or of every venue found on
    any of them): date, venue, file stem, its instrument key (per-instrument files), rows
    from the footer, bytes, and ``present`` or ``empty``; then one ``missing`` row per
    (day, venue) without files. Sorted by date, venue, file."""
    found = each(lambda day: _listed(lake, asset, day, venue), days)
    files = [f for day_files in found for f in day_files]
    counts = each(lambda f: lake.row_count(f[3]), files)
    venues = [venue] if venue else sorted({f[1] for f in files})
    held = {(f[0], f[1]) for f in files}
    rows = [
        {
            "date": date.fromisoformat(day),
            "venue": place,
            "file": name,
            "instrument_key": instrument_key_of_file(name) if "__" in name else None,
            "rows": count,
            "bytes": size,
            "status": PRESENT if count else EMPTY,
        }
        for (day, place, name, _, size), count in zip(files, counts, strict=True)
    ]
    rows += [
        {"date": date.fromisoformat(day), "venue": place, "status": MISSING}
        for day in days
        for place in venues
        if (day, place) not in held
    ]
    rows.sort(key=lambda row: (row["date"], row["venue"], row.get("file") or ""))
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _listed(
    lake: ParquetLake, asset: Asset, day: str, venue: str | None
) -> list[tuple[str, str, str, UPath, int]]:
    """(day, venue, file stem, path, bytes) of the day's Parquet files, by one listing."""
    folder = lake.root.joinpath(*asset.path, f"date={day}")
    if venue:
        folder = folder / f"venue={venue}"
    try:
        listed = folder.fs.find(folder.path, detail=True)
    except FileNotFoundError:
        return []
    found = []
    for key, info in sorted(listed.items()):
        relative = key[len(folder.path) :].strip("/").split("/")
        name = relative[-1]
        if not name.endswith(".parquet") or info.get("type") == "directory":
            continue
        place = venue or relative[0].removeprefix("venue=")
        path = lake.partition_path(asset.path, day, place) / name
        found.append((day, place, name.removesuffix(".parquet"), path, int(info["size"])))
    return found

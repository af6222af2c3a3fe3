"""A look-back's days read from a folder lake and a gs:// lake (the GCS emulator): the
files of each day in order, the missing days named, against reading partition by
partition."""

from collections.abc import Iterator
from datetime import date, timedelta

import pyarrow as pa
import pytest

from resources.lake import LakeFile, ParquetLake
from resources.lake_handles import DayRange
from tests.conftest import gcs_emulator

ASSET = ("candles", "1d")
VENUE = "binance"
# A look-back across a month and a year boundary.
DAYS = [str(date(2023, 12, 20) + timedelta(days=n)) for n in range(20)]
MISSING = {"2023-12-24", "2023-12-31", "2024-01-01"}
SCHEMA = pa.schema([("day", pa.string()), ("file", pa.string()), ("value", pa.float64())])


@pytest.fixture(params=["folder", "gcs"])
def lake(request: pytest.FixtureRequest, tmp_path) -> Iterator[ParquetLake]:
    if request.param == "folder":
        yield ParquetLake(str(tmp_path / "lake"))
        return
    with gcs_emulator() as bucket:
        yield ParquetLake(f"gs://{bucket}/lake", anonymous=True)


def land(lake: ParquetLake) -> None:
    """Each present day of ``DAYS`` with two files (written out of name order), the venue
    next door with a day of its own, and a day after the look-back."""

    def day_file(day: str, name: str, rows: int) -> LakeFile:
        table = pa.table(
            {"day": [day] * rows, "file": [name] * rows, "value": [float(n) for n in range(rows)]},
            schema=SCHEMA,
        )
        return LakeFile(name, SCHEMA, [table])

    for number, day in enumerate(DAYS):
        if day not in MISSING:
            files = [day_file(day, "part-00001", 2), day_file(day, "part-00000", number % 3 + 1)]
            lake.write_partition(ASSET, day, VENUE, files)
    lake.write_partition(ASSET, DAYS[3], "deribit", [day_file(DAYS[3], "part-00000", 5)])
    after = str(date.fromisoformat(DAYS[-1]) + timedelta(days=1))
    lake.write_partition(ASSET, after, VENUE, [day_file(after, "part-00000", 5)])


def test_a_look_back_reads_its_days_in_order_and_names_the_missing(lake: ParquetLake) -> None:
    land(lake)
    look_back = DayRange.open(lake, ASSET, DAYS, VENUE)

    table, missing = look_back.read(columns=["day", "file", "value"])

    assert missing == [day for day in DAYS if day in MISSING]
    expected = pa.concat_tables(lake.read(ASSET, day, VENUE) for day in DAYS if day not in MISSING)
    assert table.equals(expected)
    assert table["day"].to_pylist()[0] == DAYS[0]
    names = [path.name for path in look_back.listed()[DAYS[0]]]
    assert names == ["part-00000.parquet", "part-00001.parquet"]


def test_a_look_back_with_nothing_in_the_lake_is_all_missing(lake: ParquetLake) -> None:
    table, missing = DayRange.open(lake, ASSET, DAYS, VENUE).read()

    assert table is None
    assert missing == DAYS


def test_a_file_without_the_columns_asked_for_names_itself(lake: ParquetLake) -> None:
    land(lake)

    with pytest.raises(ValueError, match=r"date=2023-12-20.*rematerialise"):
        DayRange.open(lake, ASSET, DAYS, VENUE).read(columns=["day", "no_such_column"])

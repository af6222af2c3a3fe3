"""The reader on lakes built by real materialisations from the local Tardis server, on a
local folder and on a ``gs://`` lake (gcp-storage-emulator): every call equals a plain
full read of the same partitions filtered with pandas."""

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster import AssetKey, AssetSelection, materialize
from upath import UPath

import market_reader
from market_assets.columns import TIMESTAMP
from market_assets.definitions import defs
from market_reader import Lake, LateRowsWarning, MissingInstrumentError, MissingPartitionError
from market_reader.row_groups import RowGroupReader
from resources.lake import ROW_GROUP_ROWS, LakeFile, ParquetLake
from tardis_local.server import TardisServer
from tests.conftest import EMPTY_FILES, EXPORTED_UNTIL, bind_resources, gcs_emulator

ALL = [a for a in defs.assets if AssetKey("coverage_heatmap") not in a.keys]
TRADES, OPTIONS, DEFINITIONS = (
    ("ticks", "trades"),
    ("ticks", "options_chain"),
    ("instrument_definitions",),
)
BTC, ETH = "BINANCE:SPOT_PAIR:BTC-USDT", "BINANCE:SPOT_PAIR:ETH-USDT"
DAY, NEXT = "2024-01-02", "2024-01-03"
FEATURES = ("features", "mft_1m")
# What each lake holds: (venue, day, assets), materialised in this order.
BUILD = [
    ("binance", DAY, [DEFINITIONS, TRADES]),
    ("binance", NEXT, [DEFINITIONS, TRADES]),
    ("deribit", DAY, [DEFINITIONS, TRADES, OPTIONS]),
    ("binance", DAY, [("candles", "1m")]),
    ("binance", NEXT, [("candles", "1m")]),
]


def build(root: str) -> None:
    with TardisServer(exported_until=EXPORTED_UNTIL, empty_files=set(EMPTY_FILES)) as server:
        resources = bind_resources(server, root)
        for venue, day, assets in BUILD:
            selection = AssetSelection.assets(*(AssetKey(list(a)) for a in assets))
            partition = f"{day}|{venue}"
            assert materialize(
                ALL, selection=selection, resources=resources, partition_key=partition
            ).success
    store = ParquetLake(root, anonymous=root.startswith("gs://"))
    for day in (DAY, NEXT):
        bars = store.read(("candles", "1m"), day, "binance")
        features = pa.table(
            {
                "instrument_key": bars["instrument_key"],
                "timestamp": bars["timestamp"],
                "known_at": pc.add(bars["timestamp"], pa.scalar(timedelta(minutes=1))),
                "history_bars": pa.array(range(bars.num_rows), pa.int64()),
                "return_1": bars["close"],
            }
        )
        lake_file = LakeFile("part-00000", features.schema, features.to_batches())
        store.write_partition(FEATURES, day, "binance", [lake_file])


@pytest.fixture(scope="module")
def gcs_root() -> Iterator[str]:
    with gcs_emulator() as bucket:
        yield f"gs://{bucket}/lake"


@pytest.fixture(scope="module", params=["local", "gcs"])
def root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    place = (
        request.getfixturevalue("gcs_root")
        if request.param == "gcs"
        else str(tmp_path_factory.mktemp("reader") / "lake")
    )
    build(place)
    return place


@pytest.fixture
def lake(root: str, monkeypatch: pytest.MonkeyPatch) -> Lake:
    # The lake the environment names, as a downstream service finds it.
    monkeypatch.setenv("MARKET_DATA_ROOT", root)
    return Lake()


def full(
    root: str, asset: tuple[str, ...], days: list[str], venue: str = "binance"
) -> pd.DataFrame:
    """The plain full read: every file of the partitions, then pandas."""
    store = ParquetLake(root, anonymous=root.startswith("gs://"))
    return pa.concat_tables([store.read(asset, day, venue) for day in days]).to_pandas()


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Labels as strings, a fresh index: frames compared by values, not categories."""
    labels = {c: "object" for c in frame.select_dtypes("category").columns}
    return frame.astype(labels).reset_index(drop=True)


def assert_same(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal values, column for column. Dtypes are not compared: pandas types a column by
    the rows converted (a bool column with nulls elsewhere in the day is object)."""
    pd.testing.assert_frame_equal(plain(ours), plain(expected), check_dtype=False)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_the_environment_names_the_lake(lake: Lake, root: str) -> None:
    assert lake.root == root


def test_instruments_are_the_day_definitions_filtered(lake: Lake, root: str) -> None:
    every = full(root, DEFINITIONS, [DAY], "deribit")
    options = lake.instruments(DAY, "deribit", type="option", base="btc")
    expected = every[(every["type"] == "OPTION") & (every["base"] == "BTC")]
    assert_same(options, expected)
    assert len(options) > 1


def test_candles_across_days_are_the_bars_in_the_range(lake: Lake, root: str) -> None:
    start, end = utc(f"{DAY}T23:30"), utc(f"{NEXT}T00:30")
    bars = lake.candles([ETH, BTC], "1m", start, end, columns=["close", "trade_count"])
    every = full(root, ("candles", "1m"), [DAY, NEXT])
    expected = every[(every.timestamp >= start) & (every.timestamp < end)]
    expected = expected.sort_values(["instrument_key", "timestamp"], kind="stable")
    columns = ["instrument_key", "timestamp", "close", "trade_count"]
    assert_same(bars, expected[columns])
    assert len(bars) == 2 * 60


def test_features_are_read_from_the_lake(lake: Lake, root: str) -> None:
    rows = lake.features(BTC, "1m", f"{DAY}T12:00", f"{NEXT}T12:00", as_="polars")
    every = full(root, FEATURES, [DAY, NEXT])
    expected = every[
        (every.instrument_key == BTC)
        & (every.timestamp >= utc(f"{DAY}T12:00"))
        & (every.timestamp < utc(f"{NEXT}T12:00"))
    ]
    assert isinstance(rows, pl.DataFrame)
    assert_same(rows.to_pandas(), expected)


def test_ticks_near_midnight_take_the_late_rows_from_the_next_day_file(
    lake: Lake, root: str
) -> None:
    start, end = utc(f"{DAY}T23:55"), utc(f"{NEXT}T00:05")
    with pytest.warns(LateRowsWarning, match="2024-01-04\\|binance is not in the lake yet"):
        ticks = lake.ticks(BTC, "trades", start, end)
    today, tomorrow = full(root, TRADES, [DAY]), full(root, TRADES, [NEXT])
    every = pd.concat([today, tomorrow])
    expected = every[
        (every.instrument_key == BTC) & (every.timestamp >= start) & (every.timestamp < end)
    ]
    assert_same(ticks, expected)
    late = tomorrow[(tomorrow.instrument_key == BTC) & (tomorrow.timestamp < utc(NEXT))]
    assert len(late) > 0
    assert set(late.id) <= set(ticks.id)


def test_only_the_columns_asked_for_come_back(lake: Lake) -> None:
    ticks = lake.ticks(
        BTC, "trades", f"{DAY}T10:00", f"{DAY}T14:00", columns=["price"], as_="arrow"
    )
    assert ticks.column_names == ["instrument_key", "timestamp", "price"]
    with pytest.raises(ValueError, match="no column \\['prize'\\]"):
        lake.ticks(BTC, "trades", DAY, NEXT, columns=["prize"])


def test_batches_are_the_ticks_a_row_group_at_most(lake: Lake) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LateRowsWarning)  # 2024-01-04 is not in the lake
        batches = list(lake.ticks_batches(BTC, "trades", DAY, f"{NEXT}T12:00", columns=["price"]))
        whole = lake.ticks(BTC, "trades", DAY, f"{NEXT}T12:00", columns=["price"], as_="arrow")
    assert all(b.num_rows <= ROW_GROUP_ROWS for b in batches)
    assert pa.Table.from_batches(batches).equals(whole)


def test_windows_are_the_rows_around_each_time(
    lake: Lake, root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = [utc(f"{DAY}T{h}") for h in ("06:00", "06:03", "12:00", "18:30", "23:59:30")]
    opened = []

    class Counted(RowGroupReader):
        def __init__(self, path: UPath) -> None:
            super().__init__(path)
            opened.append(path)

    monkeypatch.setattr(market_reader.scan, "RowGroupReader", Counted)
    with pytest.warns(
        LateRowsWarning
    ):  # the last window ends on 2024-01-03, whose next day is absent
        frame = lake.windows(
            BTC, "trades", pd.Series(times), before="5min", after=timedelta(minutes=2)
        )

    every = pd.concat([full(root, TRADES, [DAY]), full(root, TRADES, [NEXT])])
    every = every[every.instrument_key == BTC]
    expected = pd.concat(
        every[
            (every.timestamp >= t - pd.Timedelta("5min"))
            & (every.timestamp < t + pd.Timedelta("2min"))
        ].assign(window=t)
        for t in times
    )
    expected = expected[["window", *every.columns]]
    assert_same(frame, expected)
    assert str(frame.window.dtype) == "datetime64[us, UTC]"
    # Overlapping windows (06:00 and 06:03) share rows; every file is opened once.
    assert (frame.window == times[0]).sum() and (frame.window == times[1]).sum()
    assert len(opened) == 2  # the day's file, and the next day's for the late rows


def test_windows_over_candles_are_the_bars_opening_inside(lake: Lake, root: str) -> None:
    times = ["2024-01-02T08:00:00Z", "2024-01-03T00:01:00+00:00"]
    frame = lake.windows(
        ETH, "1m", times, before="3min", after="2min", columns=["close"], as_="arrow"
    )
    assert frame.column("window").type == TIMESTAMP
    every = full(root, ("candles", "1m"), [DAY, NEXT])
    every = every[every.instrument_key == ETH]
    got = frame.to_pandas()
    for t in map(utc, times):
        bars = every[
            (every.timestamp >= t - pd.Timedelta("3min"))
            & (every.timestamp < t + pd.Timedelta("2min"))
        ]
        assert got[got.window == t].timestamp.tolist() == bars.timestamp.tolist()
        assert len(bars) == 5


def test_an_option_is_read_from_the_grouped_chain(lake: Lake, root: str) -> None:
    option = lake.instruments(DAY, "deribit", type="OPTION").instrument_key.iloc[0]
    with pytest.warns(LateRowsWarning, match="2024-01-03\\|deribit is not in the lake yet"):
        rows = lake.ticks(option, "options_chain", DAY, NEXT, columns=["mark_price", "mark_iv"])
    every = full(root, OPTIONS, [DAY], "deribit")
    expected = every[every.instrument_key == option][
        ["instrument_key", "timestamp", "mark_price", "mark_iv"]
    ]
    assert_same(rows, expected)
    assert len(rows) > 0


def test_naive_datetimes_are_refused(lake: Lake) -> None:
    with pytest.raises(TypeError, match=r"naive datetime: pass a tz-aware one .* or an ISO string"):
        lake.ticks(BTC, "trades", datetime(2024, 1, 2, 12), datetime(2024, 1, 2, 13, tzinfo=UTC))
    with pytest.raises(TypeError, match="naive"):
        lake.windows(
            BTC,
            "trades",
            pd.Series(pd.to_datetime(["2024-01-02 12:00"])),
            before="1min",
            after="1min",
        )


def test_a_missing_partition_is_named_with_its_fix(lake: Lake) -> None:
    with pytest.raises(MissingPartitionError) as raised:
        lake.candles(BTC, "1m", DAY, "2024-01-05")
    message = str(raised.value)
    assert raised.value.partitions == [("2024-01-04", "binance")]
    assert "candles/1m has no partition 2024-01-04|binance" in message
    command = "dagster asset materialize -m market_assets --select 'candles/1m'"
    assert f"{command} --partition '2024-01-04|binance'" in message
    assert "candles_and_warehouse" in message
    with pytest.raises(
        MissingInstrumentError, match="holds no file for BINANCE:SPOT_PAIR:XRP-USDT"
    ):
        lake.ticks("BINANCE:SPOT_PAIR:XRP-USDT", "trades", DAY, f"{DAY}T01:00")


def test_an_empty_tardis_day_gives_no_rows_and_coverage_tells_it_from_a_missing_one(
    lake: Lake, root: str
) -> None:
    with pytest.warns(LateRowsWarning):
        empty = lake.ticks(ETH, "trades", NEXT, "2024-01-04")
    assert empty.empty and list(empty.columns)[:3] == ["instrument_key", "symbol", "timestamp"]

    seen = lake.coverage("ticks/trades", DAY, "2024-01-05", venue="binance")
    states = {(str(r.date), r.instrument_key): (r.status, r.rows) for r in seen.itertuples()}
    assert states[(NEXT, ETH)] == ("empty", 0)
    trades = full(root, TRADES, [NEXT])
    assert states[(NEXT, BTC)] == ("present", (trades.instrument_key == BTC).sum())
    assert states[("2024-01-04", None)][0] == "missing"
    assert pd.isna(states[("2024-01-04", None)][1])
    every = lake.coverage(("ticks", "trades"), DAY, NEXT, as_="arrow")
    assert set(every.column("venue").to_pylist()) == {"binance", "deribit"}

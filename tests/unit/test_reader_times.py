"""The reader's times: aware or ISO (read as UTC), never naive; the days a range touches."""

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from market_reader.times import day_of, duration, many_micros, micros, span, utc
from resources.lake_handles import DayWindow, days_between

NOON = datetime(2024, 1, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        NOON,
        NOON.astimezone(timezone(timedelta(hours=9))),
        pd.Timestamp("2024-01-02 12:00", tz="UTC"),
        pd.Timestamp("2024-01-02 21:00", tz="Asia/Tokyo"),
        "2024-01-02T12:00",
        "2024-01-02T12:00:00Z",
        "2024-01-02 13:00+01:00",
    ],
)
def test_aware_times_and_iso_strings_are_the_same_utc_moment(value: object) -> None:
    moment = utc(value)
    assert moment == NOON and moment.tzinfo == UTC


def test_a_date_or_an_iso_date_is_its_midnight_utc() -> None:
    assert utc(date(2024, 1, 2)) == utc("2024-01-02") == datetime(2024, 1, 2, tzinfo=UTC)
    assert day_of("2024-01-02T23:59:59-01:00") == "2024-01-03"


@pytest.mark.parametrize("naive", [datetime(2024, 1, 2, 12), pd.Timestamp("2024-01-02 12:00")])
def test_a_naive_time_is_refused_saying_what_to_pass_and_why(naive: datetime) -> None:
    with pytest.raises(TypeError) as refused:
        utc(naive, "start")
    message = str(refused.value)
    assert message.startswith("start=")
    assert "naive" in message and "tz-aware" in message and "ISO string" in message
    assert "zone is a guess" in message


def test_what_is_not_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ISO date"):
        utc("yesterday")
    with pytest.raises(TypeError, match="not a time"):
        utc(1_704_196_800_000_000)


def test_a_range_is_start_inclusive_end_exclusive_and_never_empty() -> None:
    assert span("2024-01-02", "2024-01-03") == (utc("2024-01-02"), utc("2024-01-03"))
    with pytest.raises(ValueError, match="is not after"):
        span("2024-01-03", "2024-01-02")


def test_durations_are_microseconds() -> None:
    assert duration(timedelta(minutes=1), "before") == 60_000_000
    assert duration(pd.Timedelta("90s"), "before") == 90_000_000
    assert duration("1min", "after") == 60_000_000
    with pytest.raises(ValueError, match="negative"):
        duration(timedelta(seconds=-1), "before")


def test_many_times_come_as_microseconds_from_lists_pandas_and_arrow() -> None:
    expected = np.array([micros(NOON), micros(NOON + timedelta(seconds=1.5))])
    listed = [NOON, "2024-01-02T12:00:01.5Z"]
    tokyo = pd.Series(pd.to_datetime(listed, utc=True)).dt.tz_convert("Asia/Tokyo")
    arrow = pa.array(expected).cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("ms", tz="UTC"))
    for times in (listed, tokyo, pd.DatetimeIndex(tokyo), arrow):
        assert many_micros(times).tolist() == expected.tolist()
    with pytest.raises(TypeError, match="naive datetime64"):
        many_micros(pd.Series(pd.to_datetime(["2024-01-02 12:00"])))


def test_a_range_touches_its_days_and_the_day_window_adds_the_next() -> None:
    assert days_between(utc("2024-01-02T23:00"), utc("2024-01-03")) == ["2024-01-02"]
    assert days_between(utc("2024-01-02T23:00"), utc("2024-01-03T00:00:01")) == [
        "2024-01-02",
        "2024-01-03",
    ]
    assert days_between(utc("2024-01-03"), utc("2024-01-02")) == []
    assert DayWindow.days_holding(utc("2024-01-02T12:00"), utc("2024-01-02T12:02")) == (
        ["2024-01-02"],
        "2024-01-03",
    )
    with pytest.raises(ValueError, match="empty"):
        DayWindow.days_holding(utc("2024-01-02"), utc("2024-01-02"))

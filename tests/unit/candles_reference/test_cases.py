"""The awkward cases of the synthetic days: present, and handled as the semantics say."""

from datetime import UTC, datetime

import numpy as np

from tests.unit.candles_reference.day import BTC, END, ETH, HOUR, SOL, US, D
from tests.unit.candles_reference.reference import frame
from tests.unit.candles_reference.world import World


def test_synthetic_days_hold_the_awkward_cases(world: World) -> None:
    """Guard on the generator: the cases the reference comparison is meant to cover."""
    trades = world.ticks[BTC]["trades"]
    today = frame(trades.today, ["timestamp", "local_timestamp"])
    following = frame(trades.next_day, ["timestamp"])
    assert (today.timestamp < D).sum() > 0, "rows of the day's file stamped the day before"
    assert ((following.timestamp >= D) & (following.timestamp < END)).sum() > 0, "late trades"
    assert (following.timestamp >= END).sum() > 0, "the next day's own trades"
    assert (np.diff(today.timestamp) < 0).sum() > 10, "exchange times out of file order"
    assert (today.timestamp.value_counts() > 1).sum() > 10, "equal exchange timestamps"
    tied = today[today.timestamp == D + 12 * HOUR]
    prices = frame(trades.today, ["price"]).price[tied.index]
    assert len(tied) == 12 and not prices.is_monotonic_increasing
    hourly = world.candles[BTC]["1h"]["trade_count"].to_pylist()
    assert hourly[3] == 0, "a silent hour"
    book = frame(world.ticks[ETH]["book"].today, ["timestamp", "asks[4].price", "bids[0].price"])
    assert book.timestamp.min() > D, "time before the first snapshot"
    assert book["asks[4].price"].isna().any() and book["bids[0].price"].isna().any()
    ticker = frame(world.ticks[BTC]["derivative_ticker"].today, ["timestamp", "open_interest"])
    assert ticker.open_interest.isna().any() and (ticker.timestamp < D).any()
    assert world.ticks[SOL]["book"] is None and world.ticks[SOL]["derivative_ticker"] is None


def test_equal_timestamps_open_and_close_in_source_order(world: World) -> None:
    """The 12:00:00 bar of 15 s starts with twelve trades at the same microsecond: open is
    the first of them in the day's file, close the last trade of the bar in time order."""
    trades = world.ticks[BTC]["trades"].source_order
    df = frame(trades, ["timestamp", "price"])
    tied = df[df.timestamp == D + 12 * HOUR]
    bar = df[(df.timestamp >= D + 12 * HOUR) & (df.timestamp < D + 12 * HOUR + 15 * US)]
    last = bar.sort_values("timestamp", kind="stable").price.iloc[-1]
    row = world.candles[BTC]["15s"].slice(12 * 240, 1).to_pylist()[0]
    assert row["open"] == tied.price.iloc[0]
    assert row["close"] == last


def test_last_bar_takes_the_late_trades(world: World) -> None:
    """The day's last microsecond traded once in each file: the next day's copy closes."""
    trades = world.ticks[BTC]["trades"]
    late = frame(trades.next_day, ["timestamp", "price"])
    last = late[late.timestamp == END - 1].price.iloc[-1]
    row = world.candles[BTC]["1d"].to_pylist()[0]
    assert row["close"] == last
    assert row["timestamp_out"] > datetime.fromtimestamp(END / US, UTC)

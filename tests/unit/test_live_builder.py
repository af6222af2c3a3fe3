"""The live bar builder: hand-checked bars, and a generated day's bars equal to the batch
candles of the same ticks for every timeframe."""

from datetime import date
from pathlib import Path

import pytest

from live.builder import InstrumentBars
from live.replay import ticks_in_receive_order
from market_assets.candles.bars import midnight_us
from partitions import TIMEFRAMES
from tests.live.compare import differences, plain
from tests.live.generated import batch_candles, key_of, tick_tables

DAY = date(2024, 1, 1)
T0 = midnight_us(DAY)
S = 1_000_000
KEY = "BINANCE:SPOT_PAIR:BTC-USDT"


def never(start: int, end: int) -> bool:
    return False


def trade(ts: int, price: float, amount: float, side: str, local: int | None = None) -> dict:
    return {
        "instrument_key": KEY,
        "symbol": "BTCUSDT",
        "timestamp": ts,
        "local_timestamp": local if local is not None else ts + 5_000,
        "id": "1",
        "side": side,
        "price": price,
        "amount": amount,
    }


def book(ts: int, bid: float, ask: float) -> dict:
    row: dict = {"instrument_key": KEY, "symbol": "BTCUSDT", "timestamp": ts}
    row["local_timestamp"] = ts + 1_000
    for level in range(5):
        row[f"bids[{level}].price"] = bid - level
        row[f"bids[{level}].amount"] = 1.0
        row[f"asks[{level}].price"] = ask + level
        row[f"asks[{level}].amount"] = 3.0
    return row


def test_hand_checked_bars_from_out_of_order_trades_and_a_book_from_before() -> None:
    bars = InstrumentBars(KEY, T0, {"15s": 15, "1m": 60}, ["trades", "book_snapshot_5"])
    bars.add("book_snapshot_5", book(T0 + 1 * S, 99.0, 101.0))
    # Arrival order: the 3 s trade arrives after the 4 s one; two trades share 5 s.
    bars.add("trades", trade(T0 + 4 * S, 10.0, 1.0, "buy", local=T0 + 4 * S + 100))
    bars.add("trades", trade(T0 + 3 * S, 12.0, 2.0, "sell", local=T0 + 4 * S + 900))
    bars.add("trades", trade(T0 + 5 * S, 11.0, 1.0, "buy", local=T0 + 5 * S + 10))
    bars.add("trades", trade(T0 + 5 * S, 9.0, 4.0, "unknown", local=T0 + 5 * S + 20))
    bars.add("trades", trade(T0 + 20 * S, 20.0, 1.0, "buy"))
    assert bars.close_until(T0 + 14 * S, never, 0) == []  # the first slot is still open
    closed = bars.close_until(T0 + 60 * S, never, 7)
    assert [(b.timeframe, b.timestamp_us) for b in closed] == [
        ("15s", T0),
        ("15s", T0 + 15 * S),
        ("15s", T0 + 30 * S),
        ("15s", T0 + 45 * S),
        ("1m", T0),
    ]
    first = closed[0].row
    assert (first["open"], first["high"], first["low"], first["close"]) == (12.0, 12.0, 9.0, 9.0)
    assert first["volume"] == 8.0
    assert first["quote_volume"] == 12.0 * 2 + 10.0 + 11.0 + 9.0 * 4
    assert first["vwap"] == 81.0 / 8.0
    assert (first["buy_volume"], first["sell_volume"], first["unknown_volume"]) == (2.0, 2.0, 4.0)
    assert (first["buy_count"], first["sell_count"], first["unknown_count"]) == (2, 1, 1)
    assert first["timestamp_out"] == T0 + 5 * S + 20
    assert first["delay_max_ms"] == 1_000.9  # the 3 s trade, received at 4.0009 s
    assert (first["best_bid"], first["best_ask"], first["mid"]) == (99.0, 101.0, 100.0)
    # No book row inside the second bar: its close is the snapshot from 1 s.
    second, third = closed[1].row, closed[2].row
    assert second["best_bid"] == 99.0 and second["spread_bps_tw"] == 200.0
    assert (second["open"], second["volume"]) == (20.0, 1.0)
    assert third["open"] is None and third["volume"] == 0.0 and third["trade_count"] == 0
    minute = closed[4].row
    assert (minute["open"], minute["close"], minute["trade_count"]) == (12.0, 20.0, 5)
    assert minute["imbalance_5"] == (5.0 - 15.0) / 20.0
    assert all(bar.known_at_us == 7 and bar.complete and not bar.partial for bar in closed)
    # The liquidation and ticker groups do not apply: null, never zero.
    assert first["liquidation_buy_count"] is None and first["funding_rate"] is None


def test_late_ticks_are_counted_and_outages_and_the_start_mark_bars_incomplete() -> None:
    bars = InstrumentBars(KEY, T0 + 15 * S, {"15s": 15, "1m": 60}, ["trades"])
    bars.add("trades", trade(T0 + 16 * S, 10.0, 1.0, "buy"))
    closed = bars.close_until(T0 + 60 * S, lambda start, end: start < T0 + 45 * S < end, 0)
    assert bars.add("trades", trade(T0 + 59 * S, 10.0, 1.0, "buy")) is None
    assert bars.late_ticks == 1
    assert [(b.timeframe, b.timestamp_us // S - T0 // S, b.complete) for b in closed] == [
        ("15s", 15, True),
        ("15s", 30, True),
        ("15s", 45, True),
        ("1m", 0, False),  # opened before the service saw the venue, and an outage
    ]
    closed = bars.close_until(T0 + 120 * S, lambda start, end: start < T0 + 80 * S < end, 0)
    assert [
        (b.timestamp_us // S - T0 // S, b.complete) for b in closed if b.timeframe == "15s"
    ] == [
        (60, True),
        (75, False),
        (90, True),
        (105, True),
    ]


def test_partial_updates_fold_micro_batches_and_agree_with_the_closed_bar() -> None:
    bars = InstrumentBars(KEY, T0, {"15s": 15, "1m": 60}, ["trades"])
    for n in range(6):
        assert bars.add("trades", trade(T0 + S + n * 2 * S, 10.0 + n, 1.0, "buy")) is not None
    first, _ = bars.partials(("15s", "1m"), never, 3)
    assert (first.timeframe, first.row["trade_count"], first.row["close"]) == ("15s", 6, 15.0)
    # A second micro-batch, with a trade stamped before all others: the new open.
    bars.add("trades", trade(T0 + 100_000, 9.0, 2.0, "sell"))
    bars.add("trades", trade(T0 + 30 * S, 16.0, 1.0, "buy"))
    fifteen, thirty, partial = bars.partials(("15s", "1m"), never, 3)
    assert (fifteen.row["open"], fifteen.row["trade_count"]) == (9.0, 7)
    assert (thirty.timestamp_us, thirty.row["trade_count"]) == (T0 + 30 * S, 1)
    assert partial.partial and partial.timeframe == "1m" and partial.timestamp_us == T0
    assert (partial.row["open"], partial.row["close"], partial.row["trade_count"]) == (9.0, 16.0, 8)
    assert (partial.row["high"], partial.row["low"]) == (16.0, 9.0)
    assert partial.row["delay_median_ms"] is None  # does not combine: the closed bar has it
    assert partial.row["best_bid"] is None  # only the trade columns are updated
    assert bars.partials(("15s", "1m"), never, 3) == []  # nothing new
    [*_, minute] = bars.close_until(T0 + 60 * S, never, 4)
    trade_columns = [name for name, value in partial.row.items() if value is not None]
    assert len(trade_columns) > 20
    for name in trade_columns:
        expected = partial.row[name]
        assert minute.row[name] == (
            pytest.approx(expected, rel=1e-12) if isinstance(expected, float) else expected
        ), name


def test_a_generated_day_gives_the_batch_candles_of_every_timeframe(tmp_path: Path) -> None:
    venue, symbol = "binance-futures", "BTCUSDT"
    key = key_of(venue, symbol)
    tables = tick_tables(tmp_path, venue, symbol, DAY)
    assert set(tables) == {"trades", "book_snapshot_5", "derivative_ticker", "liquidations"}
    batch = batch_candles(key, tables, DAY, TIMEFRAMES)
    stream = ticks_in_receive_order(
        (venue, data_type, table) for data_type, parts in tables.items() for table in parts
    )
    bars = None
    live = []
    latest = 0
    for number, tick in enumerate(stream):
        ts = int(tick.row["timestamp"])
        if bars is None:
            bars = InstrumentBars(key, ts - ts % (15 * S), TIMEFRAMES, list(tables))
        latest = max(latest, ts)
        assert bars.add(tick.data_type, tick.row) is not None
        if number % 40 == 0:  # the service closes after each micro-batch
            live += bars.close_until(latest - 2 * S, never, 0)
    assert bars is not None and bars.late_ticks == 0
    live += bars.close_until(latest - 2 * S, never, 0)
    for timeframe, seconds in TIMEFRAMES.items():
        rows = [
            bar.row
            for bar in live
            if bar.timeframe == timeframe and T0 <= bar.timestamp_us < T0 + 86_400 * S
        ]
        expected = plain(batch[timeframe])
        assert len(rows) == 86_400 // seconds
        assert differences(rows, expected) == [], timeframe
    assert (
        sum(
            bar.row["trade_count"]
            for bar in live
            if bar.timeframe == "1d" and bar.timestamp_us == T0
        )
        > 0
    )


def test_ticks_are_held_only_as_long_as_the_longest_timeframe_needs_them() -> None:
    """With 15s and 1m only, a closed slot is let go once its minute closed; with the day
    bar built, every slot of the day stays until midnight."""
    short = InstrumentBars(KEY, T0, {"15s": 15, "1m": 60}, ["trades"])
    whole = InstrumentBars(KEY, T0, {"15s": 15, "1m": 60, "1d": 86_400}, ["trades"])
    for second in range(0, 600, 5):  # ten minutes of trades, one every 5 s
        for bars in (short, whole):
            bars.add("trades", trade(T0 + second * S, 100.0 + second, 1.0, "buy"))
    closed_short = short.close_until(T0 + 570 * S, never, 0)
    closed_whole = whole.close_until(T0 + 570 * S, never, 0)

    held_short, _ = short.closed["trades"]
    held_whole, _ = whole.closed["trades"]
    # 9.5 minutes closed: the short builder keeps the open minute's two closed slots.
    assert held_short == [T0 + 540 * S, T0 + 555 * S]
    assert held_whole == [T0 + n * 15 * S for n in range(38)]
    # Both laid the same 15s and 1m bars from what they held.
    assert [b.row for b in closed_short] == [b.row for b in closed_whole if b.timeframe != "1d"]
    minute = short.close_until(T0 + 600 * S, never, 0)
    counts = [(b.timeframe, b.row["trade_count"]) for b in minute]
    assert counts == [("15s", 3), ("15s", 3), ("1m", 12)]

"""The feed client's venue protocols on frames in the exchanges' own formats (as their
documentation shows them: ms times, no exchange time on Binance spot's book streams),
which exchange_local does not send by default; and what the universe subscribes."""

import asyncio
import json

import pytest

from live.feeds import Backoff, VenueFeed, events, feeds_from_universe
from live.feeds.binance import BinanceProtocol
from live.feeds.deribit import DeribitProtocol
from live.feeds.symbols import instrument_kind
from live.feeds.wire import FeedError
from market_assets.universe import load_universe
from tardis_local import catalog

LOCAL_US = 1_704_153_600_123_456


def test_the_bundled_universe_subscribes_explicit_symbols_and_live_types() -> None:
    feeds = {feed.venue: feed for feed in feeds_from_universe(load_universe())}
    assert set(feeds) == {"binance", "binance-futures", "deribit"}
    assert feeds["binance"].symbols == ("BTCUSDT", "ETHUSDT")
    assert feeds["binance"].data_types == ("trades", "quotes", "book_snapshot_5")
    assert "derivative_ticker" in feeds["binance-futures"].data_types
    deribit = feeds["deribit"]
    assert deribit.wants("derivative_ticker", "BTC-PERPETUAL")
    assert not deribit.wants("derivative_ticker", "BTC_USDC")  # spot has no ticker


def test_unknown_venues_and_types_are_refused() -> None:
    with pytest.raises(ValueError, match="no live feed for venue 'bybit'"):
        VenueFeed("bybit", ("BTCUSDT",))
    with pytest.raises(ValueError, match="not liquidations"):
        VenueFeed("deribit", ("BTC-PERPETUAL",), ("trades", "liquidations"))


@pytest.mark.parametrize("venue", ["binance", "binance-futures", "deribit"])
def test_kinds_from_names_agree_with_the_instrument_catalog(venue: str) -> None:
    for instrument in catalog.instruments(venue):
        assert instrument_kind(venue, instrument["id"]) == instrument["type"], instrument["id"]


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, jitter=0.1)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        assert base <= backoff.delay(attempt) <= base * 1.1


def test_binance_frames_in_milliseconds_and_without_event_time() -> None:
    protocol = BinanceProtocol(VenueFeed("binance", ("BTCUSDT",)))
    (request,) = protocol.opening()
    assert json.loads(request) == {
        "method": "SUBSCRIBE",
        "params": ["btcusdt@bookTicker", "btcusdt@depth5@100ms", "btcusdt@trade"],
        "id": 1,
    }
    assert protocol.on_frame(json.dumps({"result": None, "id": 1}), LOCAL_US).subscribed
    trade = {"e": "trade", "E": 1704153600001, "s": "BTCUSDT", "t": 12345, "p": "42000.10",
             "q": "0.00100", "T": 1704153600000, "m": True, "M": True}  # fmt: skip
    (tick,) = protocol.on_frame(
        json.dumps({"stream": "btcusdt@trade", "data": trade}), LOCAL_US
    ).ticks
    assert tick.row == {
        "instrument_key": "BINANCE:SPOT_PAIR:BTC-USDT", "symbol": "BTCUSDT",
        "timestamp": 1704153600000000, "local_timestamp": LOCAL_US,
        "id": "12345", "side": "sell", "price": 42000.1, "amount": 0.001,
    }  # fmt: skip
    quote = {"u": 400900217, "s": "BTCUSDT", "b": "25.35", "B": "31.21", "a": "25.36", "A": "40.66"}
    frame = json.dumps({"stream": "btcusdt@bookTicker", "data": quote})
    (tick,) = protocol.on_frame(frame, LOCAL_US).ticks
    # Binance spot's bookTicker has no exchange time: the receive time stands in.
    assert tick.row["timestamp"] == LOCAL_US
    assert (tick.row["bid_price"], tick.row["ask_amount"]) == (25.35, 40.66)
    with pytest.raises(FeedError, match="refused"):
        protocol.on_frame(json.dumps({"code": 2, "msg": "Invalid request", "id": 1}), LOCAL_US)


def test_binance_futures_mark_price_without_funding() -> None:
    protocol = BinanceProtocol(VenueFeed("binance-futures", ("BTCUSDT_240329",)))
    assert "btcusdt_240329@markPrice@1s" in protocol.streams
    mark = {"e": "markPriceUpdate", "E": 1704153600001, "s": "BTCUSDT_240329", "p": "42500.5",
            "P": "42400.0", "i": "42000.25", "r": "", "T": 0}  # fmt: skip
    frame = json.dumps({"stream": "btcusdt_240329@markPrice@1s", "data": mark})
    (tick,) = protocol.on_frame(frame, LOCAL_US).ticks
    assert tick.row["instrument_key"] == "BINANCE-FUTURES:FUTURE:BTC-USDT-240329"
    assert tick.row["timestamp"] == 1704153600001000
    assert tick.row["funding_rate"] is None and tick.row["funding_timestamp"] is None
    assert (tick.row["mark_price"], tick.row["index_price"]) == (42500.5, 42000.25)
    assert tick.row["open_interest"] is None


def test_deribit_public_subscription_and_heartbeat() -> None:
    protocol = DeribitProtocol(
        VenueFeed("deribit", ("BTC-PERPETUAL",), ("trades", "derivative_ticker"))
    )
    subscribe, heartbeat = map(json.loads, protocol.opening())
    assert subscribe["method"] == "public/subscribe"
    assert subscribe["params"]["channels"] == [
        "ticker.BTC-PERPETUAL.100ms",
        "trades.BTC-PERPETUAL.100ms",
    ]
    assert heartbeat["method"] == "public/set_heartbeat"
    reply = {"jsonrpc": "2.0", "id": subscribe["id"], "result": subscribe["params"]["channels"]}
    assert protocol.on_frame(json.dumps(reply), LOCAL_US).subscribed
    beat = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
    (answer,) = protocol.on_frame(json.dumps(beat), LOCAL_US).replies
    assert json.loads(answer)["method"] == "public/test"
    notification = {"jsonrpc": "2.0", "method": "subscription", "params": {
        "channel": "trades.BTC-PERPETUAL.100ms",
        "data": [{"trade_seq": 1, "trade_id": "ETH-1", "timestamp": 1704153600005,
                  "tick_direction": 0, "price": 42000.5, "instrument_name": "BTC-PERPETUAL",
                  "direction": "buy", "amount": 10.0}]}}  # fmt: skip
    (tick,) = protocol.on_frame(json.dumps(notification), LOCAL_US).ticks
    assert tick.row["timestamp"] == 1704153600005000 and tick.row["id"] == "ETH-1"


def test_deribit_authenticates_before_subscribing_and_reports_refusals() -> None:
    feed = VenueFeed("deribit", ("BTC-PERPETUAL",), ("trades",))
    protocol = DeribitProtocol(feed, ("client", "secret"))
    auth, _ = map(json.loads, protocol.opening())
    assert auth["method"] == "public/auth" and auth["params"]["client_id"] == "client"
    (subscribe,) = protocol.on_frame(
        json.dumps({"jsonrpc": "2.0", "id": auth["id"], "result": {"access_token": "t"}}), LOCAL_US
    ).replies
    assert json.loads(subscribe)["params"]["channels"] == ["trades.BTC-PERPETUAL.raw"]
    partial = {"jsonrpc": "2.0", "id": json.loads(subscribe)["id"], "result": []}
    with pytest.raises(FeedError, match="did not subscribe"):
        protocol.on_frame(json.dumps(partial), LOCAL_US)
    refused = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": 13004, "message": "invalid_credentials"},
    }
    with pytest.raises(FeedError, match="invalid_credentials"):
        protocol.on_frame(json.dumps(refused), LOCAL_US)


def test_a_feed_that_subscribes_nothing_is_refused() -> None:
    async def first() -> None:
        async for _ in events([VenueFeed("binance", ("BTCUSDT",), ("derivative_ticker",))]):
            break

    with pytest.raises(ValueError, match="binance subscribe nothing"):
        asyncio.run(first())


def test_a_venue_is_fed_once() -> None:
    async def first() -> None:
        feeds = [VenueFeed("deribit", ("BTC-PERPETUAL",)), VenueFeed("deribit", ("ETH-PERPETUAL",))]
        async for _ in events(feeds):
            break

    with pytest.raises(ValueError, match=r"repeated: \['deribit'\]"):
        asyncio.run(first())

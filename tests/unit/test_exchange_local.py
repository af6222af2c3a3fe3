"""exchange_local speaks each venue's wire protocol: a plain WebSocket client on 127.0.0.1
subscribes the way the venue's documentation says and reads the generated rows back.

The reference rows are the local Tardis generator's CSV (tardis_local.generate), read
with the standard library's csv module.
"""

import asyncio
import csv
import gzip
import io
import json
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path

import aiohttp
import pytest

from exchange_local import ExchangeServer
from tardis_local import generate

DAY = date(2024, 1, 2)
ROWS = {"trades": 300, "quotes": 200, "book_snapshot_5": 100, "derivative_ticker": 50}
REPO = Path(__file__).resolve().parents[2]


def _csv(venue: str, data_type: str, symbol: str) -> list[dict[str, str]]:
    body = generate.dataset_bytes(venue, data_type, symbol, DAY, rows_per_day=ROWS[data_type])
    return list(csv.DictReader(io.StringIO(gzip.decompress(body).decode())))


async def _frames(url: str, requests: list[dict], count: int) -> list[dict]:
    """The first `count` frames after sending `requests` (replies included)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        for request in requests:
            await ws.send_str(json.dumps(request))
        return [json.loads((await ws.receive(timeout=30)).data) for _ in range(count)]


@pytest.fixture
def exchange():
    symbols = {"binance": ["BTCUSDT"], "binance-futures": ["BTCUSDT"], "deribit": ["BTC-PERPETUAL"]}
    with ExchangeServer(DAY, symbols, rows_per_day=ROWS) as server:
        yield server


def test_binance_spot_trades_in_microseconds(exchange: ExchangeServer) -> None:
    expected = _csv("binance", "trades", "BTCUSDT")
    subscribe = {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}
    url = exchange.endpoint("binance") + "?timeUnit=MICROSECOND"
    reply, *frames = asyncio.run(_frames(url, [subscribe], 1 + len(expected)))
    assert reply == {"result": None, "id": 7}
    assert {frame["stream"] for frame in frames} == {"btcusdt@trade"}
    for frame, row in zip(frames, expected, strict=True):
        data = frame["data"]
        assert data["e"] == "trade" and data["s"] == "BTCUSDT"
        assert data["E"] == data["T"] == int(row["timestamp"])
        assert data["t"] == int(row["id"])
        assert float(data["p"]) == float(row["price"]) and float(data["q"]) == float(row["amount"])
        assert data["m"] is (row["side"] == "sell")  # the buyer made the market: a sell


def test_binance_futures_streams_and_millisecond_default(exchange: ExchangeServer) -> None:
    ticker = _csv("binance-futures", "derivative_ticker", "BTCUSDT")
    url = exchange.endpoint("binance-futures") + "?streams=btcusdt@markPrice@1s"
    frames = asyncio.run(_frames(url, [], len(ticker)))
    for frame, row in zip(frames, ticker, strict=True):
        data = frame["data"]
        assert data["e"] == "markPriceUpdate"
        # Binance's unit by default: ms, rounded down.
        assert data["E"] == int(row["timestamp"]) // 1000
        assert data["T"] == int(row["funding_timestamp"]) // 1000
        assert float(data["p"]) == float(row["mark_price"])
        assert float(data["i"]) == float(row["index_price"])
        assert float(data["r"]) == float(row["funding_rate"])


def test_binance_raw_stream_path_and_book(exchange: ExchangeServer) -> None:
    books = _csv("binance-futures", "book_snapshot_5", "BTCUSDT")
    base = exchange.endpoint("binance-futures").removesuffix("/stream")
    frames = asyncio.run(_frames(f"{base}/ws/btcusdt@depth5@100ms", [], len(books)))
    for data, row in zip(frames, books, strict=True):
        assert data["e"] == "depthUpdate"  # a raw stream: the payload itself
        for side, key in (("bids", "b"), ("asks", "a")):
            levels = [
                [float(row[f"{side}[{i}].price"]), float(row[f"{side}[{i}].amount"])]
                for i in range(5)
                if row[f"{side}[{i}].price"]
            ]
            assert [[float(p), float(q)] for p, q in data[key]] == levels


def test_binance_refuses_an_unknown_method(exchange: ExchangeServer) -> None:
    (reply,) = asyncio.run(_frames(exchange.endpoint("binance"), [{"method": "X", "id": 1}], 1))
    assert reply["id"] == 1 and reply["code"] == 2


def _rpc(ident: int, method: str, **params: object) -> dict:
    return {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}


def test_deribit_raw_channels_need_authentication(exchange: ExchangeServer) -> None:
    url = exchange.endpoint("deribit")
    refused, test = asyncio.run(
        _frames(
            url,
            [
                _rpc(1, "public/subscribe", channels=["trades.BTC-PERPETUAL.raw"]),
                _rpc(2, "public/test"),
            ],
            2,
        )
    )
    assert refused["id"] == 1 and refused["error"]["code"] == 13778
    assert test["result"]["version"]


def test_deribit_trades_and_ticker_notifications(exchange: ExchangeServer) -> None:
    trades = _csv("deribit", "trades", "BTC-PERPETUAL")
    tickers = _csv("deribit", "derivative_ticker", "BTC-PERPETUAL")
    channels = ["trades.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"]
    requests = [
        _rpc(1, "public/auth", grant_type="client_credentials", client_id="a", client_secret="b"),
        _rpc(2, "public/subscribe", channels=channels),
    ]
    # Trades of one burst share a notification: count the notifications from the file.
    bursts = len({(row["timestamp"], row["local_timestamp"]) for row in trades})
    auth, subscribed, *frames = asyncio.run(
        _frames(
            exchange.endpoint("deribit") + "?timeUnit=MICROSECOND",
            requests,
            2 + bursts + len(tickers),
        )
    )
    assert auth["result"]["access_token"] and subscribed["result"] == channels
    received_trades = [
        trade
        for frame in frames
        if frame["params"]["channel"] == channels[0]
        for trade in frame["params"]["data"]
    ]
    for trade, row in zip(received_trades, trades, strict=True):
        assert trade["timestamp"] == int(row["timestamp"])
        assert trade["trade_id"] == row["id"] and trade["direction"] == row["side"]
        assert trade["price"] == float(row["price"]) and trade["amount"] == float(row["amount"])
    received_tickers = [
        f["params"]["data"] for f in frames if f["params"]["channel"] == channels[1]
    ]
    for ticker, row in zip(received_tickers, tickers, strict=True):
        assert ticker["timestamp"] == int(row["timestamp"])
        assert ticker["mark_price"] == float(row["mark_price"])
        assert ticker["index_price"] == float(row["index_price"])
        assert ticker["open_interest"] == float(row["open_interest"])
        assert ticker["funding_8h"] == float(row["funding_rate"])
        assert ticker["last_price"] == (float(row["last_price"]) if row["last_price"] else None)


def test_the_tape_holds_until_someone_subscribes_and_drops_cut_connections() -> None:
    with ExchangeServer(DAY, {"binance": ["BTCUSDT"]}, rows_per_day=ROWS) as server:
        assert server.position("binance") == 0
        status_url = f"http://127.0.0.1:{server.port}/admin/status"
        with urllib.request.urlopen(status_url, timeout=10) as response:
            status = json.load(response)
        assert status["venues"]["binance"] == {
            "position": 0, "total": server.total("binance"), "finished": False, "connections": 0,
        }  # fmt: skip

        async def cut() -> aiohttp.WSMessage:
            async with aiohttp.ClientSession() as session:
                url = server.endpoint("binance") + "?streams=btcusdt@trade"
                async with session.ws_connect(url) as ws:
                    await ws.receive(timeout=30)
                    drop = f"http://127.0.0.1:{server.port}/admin/drop?venue=binance"
                    async with session.post(drop) as response:
                        assert (await response.json()) == {"dropped": 1}
                    while True:
                        message = await ws.receive(timeout=30)
                        if message.type is not aiohttp.WSMsgType.TEXT:
                            return message

        message = asyncio.run(cut())
        assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert server.position("binance") > 0


def test_unknown_venue_is_refused() -> None:
    with pytest.raises(ValueError, match="exchange_local speaks binance"):
        ExchangeServer(DAY, {"bybit": ["BTCUSDT"]})


def test_cli_serves_the_day() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange_local",
            "serve",
            "--day",
            DAY.isoformat(),
            "--port",
            "0",
            "--venue",
            "binance=BTCUSDT",
            "--rows-per-day",
            "trades=50",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[0].startswith(f"replaying {DAY.isoformat()} as fast as possible")
        url = lines[1].split()[1]
        assert lines[1].startswith("binance: ws://127.0.0.1:")
        (frame,) = asyncio.run(_frames(url + "?streams=btcusdt@trade", [], 1))
        assert frame["data"]["e"] == "trade"
    finally:
        process.terminate()
        process.wait(10)


def test_a_replay_can_start_later_in_the_day() -> None:
    noon_us = 1_704_196_800_000_000  # 2024-01-02 12:00 UTC
    expected = [
        row
        for row in _csv("binance", "trades", "BTCUSDT")
        if int(row["local_timestamp"]) >= noon_us
    ]
    with ExchangeServer(
        DAY, {"binance": ["BTCUSDT"]}, rows_per_day=ROWS, start_at_us=noon_us
    ) as server:
        assert 0 < server.position("binance") < server.total("binance")
        url = server.endpoint("binance") + "?streams=btcusdt@trade&timeUnit=MICROSECOND"
        frames = asyncio.run(_frames(url, [], len(expected)))
    assert [frame["data"]["t"] for frame in frames] == [int(row["id"]) for row in expected]


def test_deribit_heartbeat_closes_a_connection_that_does_not_answer(
    exchange: ExchangeServer,
) -> None:
    async def session(answer: int) -> tuple[int, aiohttp.WSMsgType]:
        """Answer `answer` test_requests, then stay silent; how many came, how it ended."""
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(exchange.endpoint("deribit")) as ws,
        ):
            await ws.send_str(json.dumps(_rpc(1, "public/set_heartbeat", interval=0.2)))
            assert json.loads((await ws.receive(timeout=10)).data)["result"] == "ok"
            requests = 0
            while True:
                message = await ws.receive(timeout=10)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    return requests, message.type
                frame = json.loads(message.data)
                if frame.get("method") == "heartbeat":
                    assert frame["params"] == {"type": "test_request"}
                    requests += 1
                    if requests <= answer:
                        await ws.send_str(json.dumps(_rpc(9, "public/test")))

    assert asyncio.run(session(0)) == (1, aiohttp.WSMsgType.CLOSE)
    assert asyncio.run(session(3)) == (4, aiohttp.WSMsgType.CLOSE)

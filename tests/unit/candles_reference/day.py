"""The synthetic day the candles are checked on: its date, time units and instruments."""

from datetime import UTC, datetime

US = 1_000_000
MS = 1_000
MINUTE = 60 * US
HOUR = 3_600 * US
DAY_US = 86_400 * US
D = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * US
END = D + DAY_US
LEVELS = 5

BTC = "BINANCE-FUTURES:PERPETUAL:BTC-USDT"
ETH = "BINANCE-FUTURES:PERPETUAL:ETH-USDT"
SOL = "BINANCE:SPOT_PAIR:SOL-USDT"
INSTRUMENTS = (BTC, ETH, SOL)
OPTION_BASE = {BTC: "BTC", ETH: "ETH", SOL: None}

"""Live ticks, candles and features: a service outside Dagster runs building bars from
the exchanges' real-time feeds with the batch code (README, "Live bars").

```python
from live import live_candles

async for bar in live_candles("BINANCE-FUTURES:PERPETUAL:BTC-USDT", "1m"):
    ...  # LiveBar: bar.row (the candle columns), bar.complete, bar.known_at_us
```
"""

from live.api import live_candles, live_features, live_ticks
from live.bars import LiveBar, LiveFeatureRow
from live.hub import ConsumerLagged, Hub

__all__ = [
    "ConsumerLagged",
    "Hub",
    "LiveBar",
    "LiveFeatureRow",
    "live_candles",
    "live_features",
    "live_ticks",
]

"""Read the market data lake: one call per question, without Dagster.

```python
from market_reader import Lake

lake = Lake()  # MARKET_DATA_ROOT; or Lake("gs://bucket/lake"), Lake("data")
bars = lake.candles(["BINANCE:SPOT_PAIR:BTC-USDT"], "1m", "2024-01-01", "2024-01-08")
```

The calls are ``Lake``'s methods: ``instruments``, ``candles``, ``features``, ``ticks``,
``ticks_batches``, ``windows`` and ``coverage``. Importing this package reads nothing and
builds nothing; ``Lake()`` reads the environment when it is made.
"""

from market_reader.errors import (
    LateRowsWarning,
    MissingDataError,
    MissingInstrumentError,
    MissingPartitionError,
)
from market_reader.lake import Lake

__all__ = [
    "Lake",
    "LateRowsWarning",
    "MissingDataError",
    "MissingInstrumentError",
    "MissingPartitionError",
]

"""The candles' chart: a PNG of the day's candles over their volumes, gaps left empty."""

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from PIL import Image

from market_assets.candles.chart import DOWN, HEIGHT, LEFT, RIGHT, UP, WIDTH, candlestick_png

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def bars(opens: list[float | None], closes: list[float | None]) -> pa.Table:
    count = len(opens)
    highs = [None if o is None else max(o, c) + 1 for o, c in zip(opens, closes, strict=True)]
    lows = [None if o is None else min(o, c) - 1 for o, c in zip(opens, closes, strict=True)]
    return pa.table(
        {
            "timestamp": [DAY + timedelta(hours=n) for n in range(count)],
            "open": pa.array(opens, pa.float64()),
            "high": pa.array(highs, pa.float64()),
            "low": pa.array(lows, pa.float64()),
            "close": pa.array(closes, pa.float64()),
            "volume": pa.array([0.0 if o is None else 5.0 for o in opens], pa.float64()),
        }
    )


def test_up_and_down_candles_and_an_empty_bar_are_drawn_where_they_belong() -> None:
    # Bar 0 rises, bar 1 has no trades, bar 2 falls.
    png = candlestick_png(bars([100.0, None, 104.0], [104.0, None, 101.0]), "K 1h")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image.convert("RGB"))
    column = lambda n: pixels[:, int(LEFT + (n + 0.5) * (RIGHT - LEFT) / 3)]  # noqa: E731
    colours = [{tuple(p) for p in column(n)} for n in range(3)]
    assert UP in colours[0] and DOWN not in colours[0]
    assert DOWN in colours[2] and UP not in colours[2]
    assert UP not in colours[1] and DOWN not in colours[1]  # a gap: nothing drawn


def test_a_day_without_trades_still_makes_a_chart() -> None:
    png = candlestick_png(bars([None, None], [None, None]), "K 1h")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)

"""The live tables on BigQuery (the local emulator): bars streamed in, read back, and a
restarted service's resume point."""

from live.bars import LiveBar
from live.tables import LiveTables
from market_assets.candles.columns import CANDLES
from resources.warehouse import BigQueryDialect
from tests.conftest import BIGQUERY_PROJECT

T0 = 1_704_067_200_000_000
MINUTE = 60_000_000
KEY = "DERIBIT:PERPETUAL:BTC-USD"


def bar(n: int) -> LiveBar:
    row: dict[str, object] = {field.name: None for field in CANDLES.schema}
    row |= {"instrument_key": KEY, "timestamp": T0 + n * MINUTE, "open": 100.0 + n}
    row |= {"volume": 1.5, "trade_count": 3, "timestamp_out": T0 + n * MINUTE + 59_000_000}
    return LiveBar("1m", row, False, n != 1, T0 + (n + 1) * MINUTE + 2_000_000)


def test_bars_stream_into_bigquery_and_the_resume_point_reads_back(bigquery_emulator: str) -> None:
    dialect = BigQueryDialect(BIGQUERY_PROJECT, "live_market", None, bigquery_emulator)
    tables = LiveTables(dialect)
    assert tables.last_bars(["1m"]) == {}
    assert tables.append([bar(n) for n in range(3)]) == 3
    assert tables.last_bars(["1m", "1h"]) == {("1m", KEY): T0 + 2 * MINUTE}
    summary = tables.summary("1m")
    assert (summary.rows, summary.last_bar_us, summary.incomplete) == (3, T0 + 2 * MINUTE, 1)
    assert summary.last_known_at_us == T0 + 3 * MINUTE + 2_000_000
    with dialect.connect() as client:
        rows = dialect.read(
            client,
            f"SELECT timestamp, open, complete, timestamp_out FROM "
            f"`{BIGQUERY_PROJECT}.live_market.live_candles_1m` ORDER BY timestamp",
        ).to_pylist()
    assert [r["open"] for r in rows] == [100.0, 101.0, 102.0]
    assert [r["complete"] for r in rows] == [True, False, True]
    assert rows[0]["timestamp_out"].timestamp() * 1e6 == T0 + 59_000_000

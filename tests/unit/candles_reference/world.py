"""The generated world: the synthetic days of three instruments and an options chain,
and the candles the project builds from them."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from market_assets.candles.build import InstrumentDay, instrument_candles
from market_assets.candles.options import option_grids
from partitions import TIMEFRAMES
from tests.unit.candles_reference.day import (
    BTC,
    DAY_US,
    END,
    ETH,
    HOUR,
    MINUTE,
    OPTION_BASE,
    SOL,
    US,
    D,
)
from tests.unit.candles_reference.ticks import (
    Files,
    book_rows,
    concat_rows,
    option_chain_rows,
    tardis_files,
    ticker_rows,
    trade_rows,
)


@dataclass(frozen=True)
class World:
    ticks: dict[str, dict[str, Files | None]]
    chain: Files
    candles: dict[str, dict[str, pa.Table]]


def build_world() -> World:
    rng = np.random.default_rng(20240301)
    btc_rows = trade_rows(
        rng, clusters=300, per_cluster=12, base=60_000, silent=(3 * HOUR, 4 * HOUR)
    )
    ticks: dict[str, dict[str, Files | None]] = {
        BTC: {
            "trades": tardis_files("trades", btc_rows, BTC, "BTCUSDT"),
            "liquidations": tardis_files(
                "liquidations",
                trade_rows(
                    rng,
                    clusters=20,
                    per_cluster=3,
                    base=60_000,
                    silent=None,
                    sides=("buy", "sell"),
                    side_p=(0.5, 0.5),
                ),
                BTC,
                "BTCUSDT",
            ),
            "derivative_ticker": tardis_files(
                "derivative_ticker",
                ticker_rows(
                    rng,
                    count=1_500,
                    base=60_000,
                    silent=(14 * HOUR, 15 * HOUR),
                    null_share={
                        "funding_rate": 0.4,
                        "predicted_funding_rate": 0.2,
                        "open_interest": 0.3,
                        "mark_price": 0.1,
                        "index_price": 0.1,
                    },
                ),
                BTC,
                "BTCUSDT",
            ),
            "book": tardis_files(
                "book_snapshot_5",
                book_rows(
                    rng,
                    count=2_500,
                    base=60_000,
                    first=None,
                    gap=(10 * HOUR, 11 * HOUR + 30 * MINUTE),
                    missing_levels=False,
                ),
                BTC,
                "BTCUSDT",
            ),
        },
        ETH: {
            "trades": tardis_files(
                "trades",
                trade_rows(
                    rng, clusters=200, per_cluster=10, base=3_300, silent=(20 * HOUR, 21 * HOUR)
                ),
                ETH,
                "ETHUSDT",
            ),
            # Liquidations stamped the day before only, and a few of the day: the
            # instrument has the data, so its empty bars are zeros.
            "liquidations": tardis_files(
                "liquidations",
                {
                    "timestamp": D + np.array([-3 * US, -2 * US, 7 * HOUR + 1, 7 * HOUR + 1]),
                    "local_timestamp": D + np.array([10, 20, 7 * HOUR + 5, 7 * HOUR + 6]),
                    "id": np.array(["a", "b", "c", "d"], dtype=object),
                    "side": np.array(["sell", "buy", "buy", "buy"], dtype=object),
                    "price": np.array([3_301.0, 3_302.0, 3_290.5, 3_290.0]),
                    "amount": np.array([1.5, 2.0, 0.25, 4.0]),
                },
                ETH,
                "ETHUSDT",
            ),
            "derivative_ticker": tardis_files(
                "derivative_ticker",
                ticker_rows(
                    rng,
                    count=600,
                    base=3_300,
                    silent=(2 * HOUR, 5 * HOUR),
                    null_share={
                        "funding_rate": 1.0,
                        "predicted_funding_rate": 0.5,
                        "open_interest": 0.6,
                        "mark_price": 0.3,
                        "index_price": 0.3,
                    },
                ),
                ETH,
                "ETHUSDT",
            ),
            "book": tardis_files(
                "book_snapshot_5",
                book_rows(
                    rng,
                    count=1_500,
                    base=3_300,
                    first=7 * MINUTE + 31 * US + 123_456,
                    gap=(16 * HOUR, 19 * HOUR),
                    missing_levels=True,
                ),
                ETH,
                "ETHUSDT",
            ),
        },
        SOL: {
            "trades": tardis_files(
                "trades",
                trade_rows(rng, clusters=60, per_cluster=5, base=150, silent=(0, 2 * HOUR)),
                SOL,
                "SOLUSDT",
            ),
            "liquidations": None,
            "derivative_ticker": None,
            "book": None,
        },
    }

    e1, e2, e3 = D + 3 * DAY_US + 8 * HOUR, D + 7 * DAY_US + 8 * HOUR, D + 14 * DAY_US + 8 * HOUR
    btc_strikes = [float(k) for k in range(55_000, 65_001, 1_000)]
    chain_rows = concat_rows(
        option_chain_rows(
            rng,
            base="BTC",
            spot=60_000,
            expiries={e1: btc_strikes[3:8], e2: btc_strikes, e3: btc_strikes},
            updates=40,
            # Half-way between two strikes: the lower one is at the money.
            pinned=(13 * HOUR, 13 * HOUR + 30 * MINUTE, 60_500.0),
        ),
        option_chain_rows(
            rng,
            base="ETH",
            spot=3_300,
            expiries={D + 9 * DAY_US + 8 * HOUR: [float(k) for k in range(3_000, 3_601, 100)]},
            updates=40,
        ),
    )
    # An expiry seen only in rows of the next day (stamped after the day): not the day's.
    chain_rows = concat_rows(
        chain_rows,
        {
            **{name: values[:2].copy() for name, values in chain_rows.items()},
            "timestamp": np.array([END + MINUTE, END + 2 * MINUTE]),
            "local_timestamp": np.array([END + MINUTE + 1, END + 2 * MINUTE + 1]),
            "expiration": np.array([D + 7 * DAY_US + 20 * HOUR] * 2),
        },
    )
    chain = tardis_files("options_chain", chain_rows, "", "")

    grids = option_grids(chain.source_order, D)
    candles = {}
    for key, tables in ticks.items():
        day = InstrumentDay(
            key, **{name: None if f is None else f.source_order for name, f in tables.items()}
        )
        base = OPTION_BASE[key]
        candles[key] = instrument_candles(day, D, TIMEFRAMES, grids[base] if base else None)
    return World(ticks, chain, candles)

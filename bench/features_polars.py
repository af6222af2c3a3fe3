"""The features benchmark's peer: polars computing the MFT features by the same definitions.

From ``scan_parquet`` of the lake's candle files, in its in-memory engine; see
``bench/features.py``.
"""

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).parent))
from features_world import DAY, SECONDS, US_PER_DAY, VENUE, Lookback, look_back, midnight

# The candle columns the features read, besides instrument_key, timestamp, timestamp_out.
from market_assets.features.history import INPUTS

if TYPE_CHECKING:
    import polars as pl


def candle_files(lake_root: Path, timeframe: str, days: int) -> list[str]:
    """The Parquet files of a timeframe's day and ``days`` before, as a polars user lists
    them."""
    return [
        str(path)
        for day in look_back(days)
        for path in sorted(
            (lake_root / "candles" / timeframe / f"date={day}" / f"venue={VENUE}").glob("*.parquet")
        )
    ]


def polars_timeframe(lake_root: Path, timeframe: str, lookback: Lookback) -> "pl.DataFrame":
    """Polars' features of the day for one timeframe, from the lake's candle files."""
    days = lookback[timeframe]
    files = candle_files(lake_root, timeframe, days)
    return polars_day(files, midnight(DAY), SECONDS[timeframe], days)


def polars_day(paths: Sequence[str], day_start_us: int, seconds: int, days: int) -> "pl.DataFrame":
    """The MFT features of every instrument of the day, in polars alone, one row per bar
    of the day, by the definitions of ``market_assets/features/columns.py``."""
    import polars as pl

    per_day = 86_400 // seconds
    size = (days + 1) * per_day
    bar_us = seconds * 1_000_000
    start_us = day_start_us - days * US_PER_DAY
    first_row = days * per_day
    annual = math.sqrt(365 * 86_400 / seconds)
    c = pl.col

    def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        return pl.when(denominator != 0).then(numerator / denominator)

    def root(variance: pl.Expr) -> pl.Expr:
        return variance.clip(lower_bound=0).sqrt()

    def window_sum(x: pl.Expr, bars: int) -> pl.Expr:
        """Σ x over ``bars`` bars; exactly 0 over a window of zeros (bars without trades),
        where polars' running sum can leave ±1e-20 of earlier values behind."""
        return pl.when(x.abs().rolling_max(bars) == 0).then(0.0).otherwise(x.rolling_sum(bars))

    def recursion(x: pl.Expr, window: int, seed_at: int, alpha: float) -> pl.Expr:
        """y = (1 − alpha) y + alpha x from the run's bar ``seed_at`` (its first priced bar
        being 0), seeded there with the mean of x over ``window`` bars ending there."""
        seeded = pl.when(c.i == seed_at).then(x.rolling_mean(window)).when(c.i > seed_at).then(x)
        return seeded.ewm_mean(alpha=alpha, adjust=False).over("segment")

    def ema(x: pl.Expr, bars: int, seed_at: int | None = None) -> pl.Expr:
        return recursion(x, bars, bars - 1 if seed_at is None else seed_at, 2 / (bars + 1))

    def wilder(x: pl.Expr, bars: int) -> pl.Expr:
        return recursion(x, bars, bars, 1 / bars)

    candles = (
        pl.scan_parquet(list(paths), hive_partitioning=False)
        .select("instrument_key", "timestamp", "timestamp_out", *INPUTS)
        .with_columns(pos=(c.timestamp.dt.epoch("us") - start_us) // bar_us)
        .filter((c.pos >= 0) & (c.pos < size))
        .with_columns(c.trade_count.cast(pl.Float64))
    )
    keys = candles.filter(c.pos >= first_row).select("instrument_key").unique()
    grid = keys.join(pl.LazyFrame({"pos": pl.int_range(size, eager=True)}), how="cross")
    g = c.g
    frame = (
        grid.join(candles, on=["instrument_key", "pos"], how="left")
        .sort("instrument_key", "pos")
        .with_columns(g=pl.int_range(pl.len(), dtype=pl.Int64), available=c.timestamp.is_not_null())
        .with_columns(
            traded=c.available & (c.trade_count.fill_null(0) > 0),
            run_begins=c.available & ~(c.available.shift(1, fill_value=False) & (c.pos > 0)),
        )
        .with_columns(
            run_start=pl.when(c.available).then(pl.when(c.run_begins).then(g).forward_fill())
        )
        .with_columns(
            last_trade=pl.when(c.traded).then(g).forward_fill(),
            carried_close=pl.when(c.traded).then(c.close).forward_fill(),
            **{
                f"_{name}": pl.when(
                    pl.when(pl.col(name).is_not_null()).then(g).forward_fill() >= c.run_start
                ).then(pl.col(name).forward_fill())
                for name in ("funding_rate", "open_interest", "basis")
            },
        )
        .with_columns(last_trade=pl.when(c.last_trade >= c.run_start).then(c.last_trade))
        .with_columns(
            carried_close=pl.when(c.last_trade.is_not_null()).then(c.carried_close),
            history_bars=pl.when(c.available).then(g - c.run_start + 1).otherwise(0),
            has_trade=c.last_trade.is_not_null(),
        )
        .with_columns(
            first_trade=pl.when(
                c.traded & ~(c.has_trade.shift(1, fill_value=False) & ~c.run_begins)
            )
            .then(g)
            .forward_fill(),
            **{
                name: pl.when(c.traded).then(pl.col(name)).otherwise(c.carried_close)
                for name in ("open", "high", "low", "close")
            },
            **{name: pl.col(f"_{name}") for name in ("funding_rate", "open_interest", "basis")},
        )
        .with_columns(
            price_bars=pl.when(c.has_trade).then(g - c.first_trade + 1).otherwise(0),
            segment=pl.when(c.has_trade).then(c.first_trade),
            log_c=c.close.log(),
        )
        .with_columns(i=c.price_bars - 1, r=c.log_c - c.log_c.shift(1))
    )
    o, h, low, close, r = c.open, c.high, c.low, c.close, c.r
    hl, co = (h / low).log(), (close / o).log()
    rs = (h / close).log() * (h / o).log() + (low / close).log() * (low / o).log()
    overnight = (o / close.shift(1)).log()
    yz_k = 0.34 / (1.34 + 21 / 19)
    rs_mean = window_sum(rs, 20) / 20
    change = close - close.shift(1)
    true_range = pl.max_horizontal(
        h - low, (h - close.shift(1)).abs(), (low - close.shift(1)).abs()
    )
    # RSI is 0/0, null, while no price has moved since the run's first trade.
    moved = pl.when(c.i >= 1).then(change.abs()).otherwise(0.0).cum_sum().over("segment") > 0
    gain, loss = wilder(change.clip(lower_bound=0), 14), wilder((-change).clip(lower_bound=0), 14)
    slow = ema(close, 26)
    macd = ema(close, 12, seed_at=25) - slow
    signal = ema(macd, 9, seed_at=33)
    middle = close.rolling_mean(20)
    # TA-Lib takes a variance below its epsilon for 0.
    variance = close.rolling_var(20, ddof=0)
    sigma = pl.when(variance < 1e-14).then(0.0).otherwise(variance.sqrt())
    upper, lower = middle + 2 * sigma, middle - 2 * sigma
    lags = [c.volume.shift(k * per_day) for k in range(1, 21)]
    lag_mean = pl.sum_horizontal(lags, ignore_nulls=False) / 20
    lag_std = (
        pl.sum_horizontal([(x - lag_mean) ** 2 for x in lags], ignore_nulls=False) / 19
    ).sqrt()
    dollar, buy, sell = c.quote_volume, c.buy_volume, c.sell_volume
    signed_dollar = pl.when(c.traded).then((buy - sell) * c.vwap).when(c.available).then(0.0)
    impact = pl.when(dollar > 0).then(r.abs() / dollar).otherwise(0.0)
    before = c.funding_rate.shift(1)
    atm, rr = c.atm_iv, c.risk_reversal_25d
    ema_12, ema_26 = ema(close, 12), slow
    rv20 = annual * r.rolling_std(20)
    features: dict[str, tuple[pl.Expr, pl.Expr | int, bool]] = {
        **{f"log_return_{k}": (c.log_c - c.log_c.shift(k), k + 1, True) for k in (1, 5, 15, 60)},
        "return_since_midnight": (
            c.log_c - c.log_c.gather(g - (c.pos - first_row) - 1),
            c.pos - first_row + 2,
            True,
        ),
        "realized_vol_20": (rv20, 21, True),
        "realized_vol_60": (annual * r.rolling_std(60), 61, True),
        "parkinson_vol_20": (
            annual * root(window_sum(hl**2, 20) / 20 / (4 * math.log(2))),
            20,
            True,
        ),
        "garman_klass_vol_20": (
            annual * root(window_sum(0.5 * hl**2 - (2 * math.log(2) - 1) * co**2, 20) / 20),
            20,
            True,
        ),
        "rogers_satchell_vol_20": (annual * root(rs_mean), 20, True),
        "yang_zhang_vol_20": (
            annual
            * root(overnight.rolling_var(20) + yz_k * co.rolling_var(20) + (1 - yz_k) * rs_mean),
            21,
            True,
        ),
        "rsi_14": (
            pl.when(moved).then(
                pl.when((gain + loss).abs() < 1e-14).then(0.0).otherwise(100 * gain / (gain + loss))
            ),
            15,
            True,
        ),
        "macd": (pl.when(c.i >= 33).then(macd), 34, True),
        "macd_signal": (signal, 34, True),
        "macd_hist": (macd - signal, 34, True),
        "atr_14": (wilder(true_range, 14), 15, True),
        "bollinger_pct_b_20": (ratio(close - lower, upper - lower), 20, True),
        "ema_12_gap": (ratio(close - ema_12, ema_12), 12, True),
        "ema_26_gap": (ratio(close - ema_26, ema_26), 26, True),
        "dollar_volume": (dollar, 1, False),
        "relative_volume_20d": (ratio(c.volume - lag_mean, lag_std), 20 * per_day + 1, False),
        "trade_intensity": (c.trade_count / seconds, 1, False),
        "signed_volume_imbalance_20": (
            ratio(window_sum(buy - sell, 20), window_sum(buy + sell, 20)),
            20,
            False,
        ),
        "cumulative_delta": (
            (buy - sell).fill_null(0).cum_sum().over("instrument_key"),
            c.pos - first_row + 1,
            False,
        ),
        "kyle_lambda_60": (
            ratio(
                pl.rolling_cov(signed_dollar, r, window_size=60),
                signed_dollar.rolling_var(60),
            ),
            61,
            True,
        ),
        "amihud_20": (
            ratio(
                window_sum(impact, 20),
                (dollar > 0).fill_null(False).cast(pl.Float64).rolling_sum(20),
            ),
            21,
            True,
        ),
        "funding_rate": (c.funding_rate, 1, False),
        "funding_rate_z_7d": (
            ratio(
                c.funding_rate - before.rolling_mean(7 * per_day),
                before.rolling_std(7 * per_day),
            ),
            7 * per_day + 1,
            False,
        ),
        "basis": (c.basis, 1, False),
        "basis_change_1": (c.basis - c.basis.shift(1), 2, False),
        "open_interest_change_pct_1": (
            ratio(c.open_interest, c.open_interest.shift(1)) - 1,
            2,
            False,
        ),
        "liquidation_intensity_20": (
            ratio(
                window_sum(c.liquidation_buy_volume + c.liquidation_sell_volume, 20),
                window_sum(c.volume, 20),
            ),
            20,
            False,
        ),
        "spread_bps_mean_20": (c.spread_bps.rolling_mean(20), 20, False),
        "imbalance_5_mean_20": (c.imbalance_5.rolling_mean(20), 20, False),
        "microprice_gap_bps": (ratio(c.microprice - c.mid, c.mid) * 1e4, 1, False),
        "atm_iv": (atm, 1, False),
        "atm_iv_change_1": (atm - atm.shift(1), 2, False),
        "risk_reversal_25d_change_1": (rr - rr.shift(1), 2, False),
        "iv_minus_realized_20": (atm / 100 - rv20, 21, True),
        "bars_since_trade": ((g - c.last_trade).cast(pl.Float64), 1, True),
    }
    enough = {True: pl.min_horizontal(c.history_bars, c.price_bars), False: c.history_bars}
    # Values of the day's rows only; cumulative_delta sums from the day's first bar.
    computed = frame.with_columns(
        **{
            name: expression
            for name, (expression, _, _) in features.items()
            if name != "cumulative_delta"
        }
    ).filter(c.pos >= first_row)
    computed = computed.with_columns(cumulative_delta=features["cumulative_delta"][0])
    timestamp = pl.lit(start_us) + c.pos * bar_us
    out = c.timestamp_out.dt.epoch("us").fill_null(-1)
    return computed.select(
        "instrument_key",
        timestamp=timestamp.cast(pl.Datetime("us", "UTC")),
        known_at=pl.max_horizontal(timestamp + bar_us, out).cast(pl.Datetime("us", "UTC")),
        history_bars=c.history_bars,
        price_bars=c.price_bars,
        **{
            name: pl.when((enough[price] >= needed) & pl.col(name).is_finite()).then(pl.col(name))
            for name, (_, needed, price) in features.items()
        },
    ).collect(engine="in-memory")

"""The MFT feature columns, declared once, with the bars of history each one needs.

Notation (bars of one timeframe, ``n`` bars per UTC day, ``A`` = √(bars per 365-day
year)): C, O, H, L are a bar's close, open, high and low, carried forward from the last
traded bar over bars without trades (an empty bar's O = H = L = C = that close);
r_t = ln(C_t / C_{t−1}); windows are in bars and end at the row's bar t. A feature is
null where ``history_bars`` (consecutive bars of history, bar t included) is short of
its window, before the first trade of that history for price features, and where its
input is absent (no ticker, book or option data). Volume and flow inputs are 0 on an
empty bar.
"""

from collections.abc import Callable

import pyarrow as pa

from market_assets.columns import TIMESTAMP, Column, Dataset

ANNUAL = "annualised fraction"
# Bars of history a feature needs at bar t (t included), from the bars per day ``n`` and
# t's index ``j`` in its day (0 for the bar opening at 00:00 UTC; an int or an array).
Window = Callable[[int, int], int]


def _bars(count: int) -> Window:
    return lambda n, j: count


def _feature(name: str, doc: str, unit: str, **rules: float) -> Column:
    return Column(name, pa.float64(), doc, unit, **rules)


KEY_COLUMNS = (
    Column("instrument_key", pa.string(), "Canonical instrument key", nullable=False),
    Column("timestamp", TIMESTAMP, "Bar open, as in the candles", "UTC", nullable=False),
    Column(
        "known_at",
        TIMESTAMP,
        "max(bar close, the candle's timestamp_out): when a live system could compute the row",
        "UTC",
        nullable=False,
    ),
    Column(
        "history_bars",
        pa.int64(),
        "Consecutive bars of history the row stands on, itself included",
        "bars",
        nullable=False,
        ge=1,
    ),
    Column(
        "price_bars",
        pa.int64(),
        "Bars of that history since its first trade, itself included (0 before it): price "
        "features need this many bars of their window",
        "bars",
        nullable=False,
        ge=0,
    ),
)

# (column, window) in output order.
FEATURES: tuple[tuple[Column, Window], ...] = (
    # returns
    (_feature("log_return_1", "ln(C_t / C_{t−1})", "log return"), _bars(2)),
    (_feature("log_return_5", "ln(C_t / C_{t−5})", "log return"), _bars(6)),
    (_feature("log_return_15", "ln(C_t / C_{t−15})", "log return"), _bars(16)),
    (_feature("log_return_60", "ln(C_t / C_{t−60})", "log return"), _bars(61)),
    (
        _feature(
            "return_since_midnight",
            "ln(C_t / the last close before 00:00 UTC of the bar's day)",
            "log return",
        ),
        # Every bar of the day up to t, and the last bar before midnight.
        lambda n, j: j + 2,
    ),
    # volatility
    (
        _feature("realized_vol_20", "A × sample std (ddof 1) of r over 20 bars", ANNUAL, ge=0),
        _bars(21),
    ),
    (
        _feature("realized_vol_60", "A × sample std (ddof 1) of r over 60 bars", ANNUAL, ge=0),
        _bars(61),
    ),
    (
        _feature(
            "parkinson_vol_20", "A × √(mean of ln(H/L)² over 20 bars / (4 ln 2))", ANNUAL, ge=0
        ),
        _bars(20),
    ),
    (
        _feature(
            "garman_klass_vol_20",
            "A × √(mean over 20 bars of ½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²)",
            ANNUAL,
            ge=0,
        ),
        _bars(20),
    ),
    (
        _feature(
            "rogers_satchell_vol_20",
            "A × √(mean over 20 bars of ln(H/C) ln(H/O) + ln(L/C) ln(L/O))",
            ANNUAL,
            ge=0,
        ),
        _bars(20),
    ),
    (
        _feature(
            "yang_zhang_vol_20",
            "A × √(σ²_o + k σ²_c + (1 − k) σ²_rs) over 20 bars: σ²_o, σ²_c sample variances "
            "(ddof 1) of ln(O_t/C_{t−1}) and ln(C_t/O_t), σ²_rs the Rogers–Satchell mean, "
            "k = 0.34 / (1.34 + 21/19)",
            ANNUAL,
            ge=0,
        ),
        _bars(21),
    ),
    # technicals (TA-Lib's conventions)
    (
        _feature(
            "rsi_14",
            "RSI of C: Wilder-smoothed gains and losses over 14 bars, seeded with the mean "
            "of the first 14 changes",
            "0 to 100",
            ge=0,
            le=100,
        ),
        _bars(15),
    ),
    (
        _feature(
            "macd",
            "EMA_12(C) − EMA_26(C), EMAs seeded with an SMA, the fast one at the slow "
            "one's first bar",
            "quote currency",
        ),
        _bars(34),
    ),
    (_feature("macd_signal", "EMA_9 of macd, seeded with an SMA", "quote currency"), _bars(34)),
    (_feature("macd_hist", "macd − macd_signal", "quote currency"), _bars(34)),
    (
        _feature(
            "atr_14",
            "Wilder-smoothed true range over 14 bars, seeded with the mean of the first 14",
            "quote currency",
            ge=0,
        ),
        _bars(15),
    ),
    (
        _feature(
            "bollinger_pct_b_20",
            "(C − lower) / (upper − lower), bands SMA_20(C) ± 2 population σ over 20 bars",
            "fraction of the band",
        ),
        _bars(20),
    ),
    (
        _feature("ema_12_gap", "(C − EMA_12(C)) / EMA_12(C), EMA seeded with an SMA", "fraction"),
        _bars(12),
    ),
    (
        _feature("ema_26_gap", "(C − EMA_26(C)) / EMA_26(C), EMA seeded with an SMA", "fraction"),
        _bars(26),
    ),
    # volume and flow
    (
        _feature(
            "dollar_volume", "The bar's quote_volume (Σ price × amount)", "quote currency", ge=0
        ),
        _bars(1),
    ),
    (
        _feature(
            "relative_volume_20d",
            "(volume_t − mean) / sample std (ddof 1) of the volume of the same bar of the "
            "day on each of the 20 previous days",
            "z-score",
        ),
        lambda n, j: 20 * n + 1,
    ),
    (
        _feature(
            "trade_intensity",
            "trade_count / the bar's length in seconds",
            "trades per second",
            ge=0,
        ),
        _bars(1),
    ),
    (
        _feature(
            "signed_volume_imbalance_20",
            "Σ(buy_volume − sell_volume) / Σ(buy_volume + sell_volume) over 20 bars",
            "fraction",
            ge=-1,
            le=1,
        ),
        _bars(20),
    ),
    (
        _feature(
            "cumulative_delta",
            "Σ(buy_volume − sell_volume) from 00:00 UTC of the bar's day to t",
            "Tardis amount units",
        ),
        lambda n, j: j + 1,
    ),
    (
        _feature(
            "kyle_lambda_60",
            "OLS slope of r_t on the signed dollar volume (buy_volume − sell_volume) × vwap "
            "over 60 bars",
            "log return per quote currency",
        ),
        _bars(61),
    ),
    (
        _feature(
            "amihud_20",
            "Mean of |r_t| / dollar_volume over the bars of the last 20 that traded",
            "log return per quote currency",
            ge=0,
        ),
        _bars(21),
    ),
    # derivatives
    (
        _feature(
            "funding_rate",
            "Funding rate, the last value known at the bar's close",
            "fraction per interval",
        ),
        _bars(1),
    ),
    (
        _feature(
            "funding_rate_z_7d",
            "(funding_rate_t − mean) / sample std (ddof 1) of funding_rate over the 7 days "
            "of bars before t",
            "z-score",
        ),
        lambda n, j: 7 * n + 1,
    ),
    (
        _feature("basis", "(mark − index) / index, the last value known at the close", "fraction"),
        _bars(1),
    ),
    (_feature("basis_change_1", "basis_t − basis_{t−1}", "fraction"), _bars(2)),
    (
        _feature(
            "open_interest_change_pct_1",
            "OI_t / OI_{t−1} − 1, open interest the last value known at the close",
            "fraction",
        ),
        _bars(2),
    ),
    (
        _feature(
            "liquidation_intensity_20",
            "Σ liquidated amount (both sides) / Σ traded volume over 20 bars",
            "ratio",
            ge=0,
        ),
        _bars(20),
    ),
    # book
    (
        _feature(
            "spread_bps_mean_20",
            "Mean of the close's spread_bps over 20 bars",
            "basis points",
            ge=0,
        ),
        _bars(20),
    ),
    (
        _feature(
            "imbalance_5_mean_20",
            "Mean of the close's imbalance_5 over 20 bars",
            "fraction",
            ge=-1,
            le=1,
        ),
        _bars(20),
    ),
    (
        _feature(
            "microprice_gap_bps", "(microprice − mid) / mid × 10⁴ at the close", "basis points"
        ),
        _bars(1),
    ),
    # options
    (_feature("atm_iv", "The candle's ATM implied volatility", "percent", ge=0), _bars(1)),
    (_feature("atm_iv_change_1", "atm_iv_t − atm_iv_{t−1}", "percent points"), _bars(2)),
    (
        _feature(
            "risk_reversal_25d_change_1",
            "risk_reversal_25d_t − risk_reversal_25d_{t−1}",
            "percent points",
        ),
        _bars(2),
    ),
    (
        _feature("iv_minus_realized_20", "atm_iv / 100 − realized_vol_20", ANNUAL),
        _bars(21),
    ),
    # staleness
    (
        _feature(
            "bars_since_trade",
            "Bars since the last bar with a trade (0: this bar traded)",
            "bars",
            ge=0,
        ),
        _bars(1),
    ),
)

MFT = Dataset(
    "mft_features",
    (*KEY_COLUMNS, *(column for column, _ in FEATURES)),
    "One row per instrument and bar of the day: features of the bar from it and earlier bars",
)
WINDOWS: dict[str, Window] = {column.name: window for column, window in FEATURES}
# Features of prices: their window also counts only bars since the history's first trade.
PRICE_FEATURES = frozenset(
    {
        *(f"log_return_{k}" for k in (1, 5, 15, 60)),
        "return_since_midnight",
        "realized_vol_20",
        "realized_vol_60",
        "parkinson_vol_20",
        "garman_klass_vol_20",
        "rogers_satchell_vol_20",
        "yang_zhang_vol_20",
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
        "atr_14",
        "bollinger_pct_b_20",
        "ema_12_gap",
        "ema_26_gap",
        "kyle_lambda_60",
        "amihud_20",
        "iv_minus_realized_20",
        "bars_since_trade",
    }
)
# Ratios that are undefined (null) when their denominator is 0 over a full window.
UNDEFINED_WHEN_FLAT = frozenset(
    {
        "rsi_14",
        "relative_volume_20d",
        "signed_volume_imbalance_20",
        "kyle_lambda_60",
        "amihud_20",
        "bollinger_pct_b_20",
        "funding_rate_z_7d",
        "liquidation_intensity_20",
        "open_interest_change_pct_1",
        "microprice_gap_bps",
    }
)

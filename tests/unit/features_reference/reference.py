"""The MFT features recomputed bar by bar from their written definitions
(``market_assets/features/columns.py``: the module docstring and each ``Column.doc``), in
plain pandas and numpy with explicit windows and loops (clarity over speed).

Nothing here imports or mirrors ``market_assets.features.history``, ``indicators`` or
``build``; the grid, carry-forward and recursions are in ``grid.py``. A feature is null
for one of these reasons (``Null.reason``), checked in this order:

- ``HISTORY``: ``history_bars`` is short of the bars the definition reads;
- ``NO_TRADE``: a price it reads comes before the run's first trade (``price_bars``,
  the bars since that trade, is short of the window);
- ``ABSENT``: an input it reads is null (no ticker, book or option data at that bar);
- ``UNDEFINED``: a ratio's denominator is 0 (a flat window, no volume, RSI's 0/0, ...).
"""

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tests.unit.features_reference.grid import (
    ABSENT,
    DAY_US,
    HISTORY,
    LN2,
    NAN,
    NO_TRADE,
    UNDEFINED,
    US,
    Bars,
    Null,
    bars_of,
    look_back_days,
    ratio,
    var,
    w,
)


def _z(value: float, sample: np.ndarray) -> float:
    return ratio(value - float(np.mean(sample)), math.sqrt(var(sample, 1)))


def _close(b: Bars, t: int, size: int) -> np.ndarray:
    return w(b.price["close"], t, size, NO_TRADE)


def _log_return(k: int) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        c = _close(b, t, k + 1)
        return math.log(c[-1] / c[0])

    return feature


def _since_midnight(b: Bars, t: int, j: int) -> float:
    before = b.price["close"][b.day_first - 1]  # the last close before 00:00
    if math.isnan(before):
        raise Null(NO_TRADE)
    return math.log(_close(b, t, 1)[0] / before)


def _realized(bars: int) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        _close(b, t, bars + 1)
        return b.annual * math.sqrt(var(b.r[t - bars + 1 : t + 1], 1))

    return feature


def _ohlc(b: Bars, t: int, size: int) -> tuple[np.ndarray, ...]:
    return tuple(w(b.price[k], t, size, NO_TRADE) for k in ("open", "high", "low", "close"))


def _parkinson(b: Bars, t: int, j: int) -> float:
    _, h, lo, _ = _ohlc(b, t, 20)
    return b.annual * math.sqrt(np.mean(np.log(h / lo) ** 2) / (4 * LN2))


def _garman_klass(b: Bars, t: int, j: int) -> float:
    o, h, lo, c = _ohlc(b, t, 20)
    # Each term is ≥ 0.11 ln(H/L)² since |ln(C/O)| ≤ ln(H/L): no negative mean.
    terms = 0.5 * np.log(h / lo) ** 2 - (2 * LN2 - 1) * np.log(c / o) ** 2
    return b.annual * math.sqrt(np.mean(terms))


def _rs_mean(b: Bars, t: int) -> float:
    o, h, lo, c = _ohlc(b, t, 20)
    return float(np.mean(np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o)))


def _rogers_satchell(b: Bars, t: int, j: int) -> float:
    return b.annual * math.sqrt(_rs_mean(b, t))


def _yang_zhang(b: Bars, t: int, j: int) -> float:
    n = 20
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    closes = _close(b, t, n + 1)
    o = w(b.price["open"], t, n, NO_TRADE)
    overnight = np.log(o / closes[:-1])  # ln(O_t / C_{t−1})
    open_close = np.log(closes[1:] / o)
    variance = var(overnight, 1) + k * var(open_close, 1) + (1 - k) * _rs_mean(b, t)
    return b.annual * math.sqrt(variance)


def _rsi(b: Bars, t: int, j: int) -> float:
    gain, loss = b.rec["gain"][t], b.rec["loss"][t]
    if math.isnan(gain):
        raise Null(NO_TRADE)
    return 100 * ratio(gain, gain + loss)  # flat since the seed: 0 / 0


def _recursive(name: str) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        value = b.rec[name][t]
        if math.isnan(value):
            raise Null(NO_TRADE)
        return float(value)

    return feature


def _bollinger(b: Bars, t: int, j: int) -> float:
    c = _close(b, t, 20)
    middle, sigma = float(np.mean(c)), math.sqrt(var(c, 0))  # population σ
    upper, lower = middle + 2 * sigma, middle - 2 * sigma
    return ratio(c[-1] - lower, upper - lower)


def _ema_gap(bars: int) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        average = _recursive(f"ema_{bars}")(b, t, j)
        return ratio(b.price["close"][t] - average, average)

    return feature


def _raw(name: str, scale: float = 1.0) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        return float(w(b.raw[name], t, 1, ABSENT)[0]) / scale

    return feature


def _relative_volume(b: Bars, t: int, j: int) -> float:
    n = b.per_day
    before = np.array([b.raw["volume"][t - day * n] for day in range(1, 21)])
    return _z(b.raw["volume"][t], before)


def _imbalance(b: Bars, t: int, j: int) -> float:
    buy, sell = (w(b.raw[f"{k}_volume"], t, 20, ABSENT) for k in ("buy", "sell"))
    return ratio(float(np.sum(buy - sell)), float(np.sum(buy + sell)))


def _cumulative_delta(b: Bars, t: int, j: int) -> float:
    buy, sell = (w(b.raw[f"{k}_volume"], t, j + 1, ABSENT) for k in ("buy", "sell"))
    return float(np.sum(buy - sell))


def _kyle(b: Bars, t: int, j: int) -> float:
    r = w(b.r, t, 60, NO_TRADE)
    s = w(b.signed, t, 60, ABSENT)
    ds, dr = s - s.mean(), r - r.mean()
    return ratio(float(np.sum(ds * dr)), float(np.sum(ds * ds)))  # OLS slope of r on s


def _amihud(b: Bars, t: int, j: int) -> float:
    traded = b.traded[t - 19 : t + 1]
    if not traded.any():
        raise Null(UNDEFINED)  # a mean over no bar
    r = b.r[t - 19 : t + 1][traded]
    if np.isnan(r).any():
        raise Null(NO_TRADE)  # the run's first trade is in the window: no r there
    return float(np.mean(np.abs(r) / b.raw["quote_volume"][t - 19 : t + 1][traded]))


def _state(name: str) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        return float(w(b.state[name], t, 1, ABSENT)[0])

    return feature


def _funding_z(b: Bars, t: int, j: int) -> float:
    now = _state("funding_rate")(b, t, j)
    return _z(now, w(b.state["funding_rate"], t - 1, 7 * b.per_day, ABSENT))


def _change(values: Callable[[Bars], np.ndarray]) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        pair = w(values(b), t, 2, ABSENT)
        return float(pair[1] - pair[0])

    return feature


def _oi_change(b: Bars, t: int, j: int) -> float:
    pair = w(b.state["open_interest"], t, 2, ABSENT)
    return ratio(pair[1], pair[0]) - 1


def _liquidations(b: Bars, t: int, j: int) -> float:
    liquidated = sum(w(b.raw[f"liquidation_{k}_volume"], t, 20, ABSENT) for k in ("buy", "sell"))
    return ratio(float(np.sum(liquidated)), float(np.sum(w(b.raw["volume"], t, 20, ABSENT))))


def _mean_20(name: str) -> Callable[[Bars, int, int], float]:
    def feature(b: Bars, t: int, j: int) -> float:
        return float(np.mean(w(b.raw[name], t, 20, ABSENT)))

    return feature


def _microprice(b: Bars, t: int, j: int) -> float:
    micro, mid = _raw("microprice")(b, t, j), _raw("mid")(b, t, j)
    return ratio(micro - mid, mid) * 1e4


def _iv_minus_realized(b: Bars, t: int, j: int) -> float:
    vol = _realized(20)(b, t, j)
    return _raw("atm_iv")(b, t, j) / 100 - vol


def _since(b: Bars, t: int, j: int) -> float:
    if math.isnan(b.since[t]):
        raise Null(NO_TRADE)
    return float(b.since[t])


def _bars(count: int) -> Callable[[int, int], int]:
    return lambda n, j: count


Feature = Callable[[Bars, int, int], float]
# name -> (bars of history the definition reads at bar j of a day of n bars, formula).
FORMULAS: dict[str, tuple[Callable[[int, int], int], Feature]] = {
    **{f"log_return_{k}": (_bars(k + 1), _log_return(k)) for k in (1, 5, 15, 60)},
    "return_since_midnight": (lambda n, j: j + 2, _since_midnight),
    "realized_vol_20": (_bars(21), _realized(20)),
    "realized_vol_60": (_bars(61), _realized(60)),
    "parkinson_vol_20": (_bars(20), _parkinson),
    "garman_klass_vol_20": (_bars(20), _garman_klass),
    "rogers_satchell_vol_20": (_bars(20), _rogers_satchell),
    "yang_zhang_vol_20": (_bars(21), _yang_zhang),
    "rsi_14": (_bars(15), _rsi),
    "macd": (_bars(34), _recursive("macd")),
    "macd_signal": (_bars(34), _recursive("macd_signal")),
    "macd_hist": (_bars(34), _recursive("macd_hist")),
    "atr_14": (_bars(15), _recursive("atr")),
    "bollinger_pct_b_20": (_bars(20), _bollinger),
    "ema_12_gap": (_bars(12), _ema_gap(12)),
    "ema_26_gap": (_bars(26), _ema_gap(26)),
    "dollar_volume": (_bars(1), _raw("quote_volume")),
    "relative_volume_20d": (lambda n, j: 20 * n + 1, _relative_volume),
    "trade_intensity": (_bars(1), lambda b, t, j: _raw("trade_count", b.seconds)(b, t, j)),
    "signed_volume_imbalance_20": (_bars(20), _imbalance),
    "cumulative_delta": (lambda n, j: j + 1, _cumulative_delta),
    "kyle_lambda_60": (_bars(61), _kyle),
    "amihud_20": (_bars(21), _amihud),
    "funding_rate": (_bars(1), _state("funding_rate")),
    "funding_rate_z_7d": (lambda n, j: 7 * n + 1, _funding_z),
    "basis": (_bars(1), _state("basis")),
    "basis_change_1": (_bars(2), _change(lambda b: b.state["basis"])),
    "open_interest_change_pct_1": (_bars(2), _oi_change),
    "liquidation_intensity_20": (_bars(20), _liquidations),
    "spread_bps_mean_20": (_bars(20), _mean_20("spread_bps")),
    "imbalance_5_mean_20": (_bars(20), _mean_20("imbalance_5")),
    "microprice_gap_bps": (_bars(1), _microprice),
    "atm_iv": (_bars(1), _raw("atm_iv")),
    "atm_iv_change_1": (_bars(2), _change(lambda b: b.raw["atm_iv"])),
    "risk_reversal_25d_change_1": (_bars(2), _change(lambda b: b.raw["risk_reversal_25d"])),
    "iv_minus_realized_20": (_bars(21), _iv_minus_realized),
    "bars_since_trade": (_bars(1), _since),
}


def reference(
    candles: pa.Table, day_start_us: int, seconds: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features of the day's bars for every instrument with candles on the day, by
    instrument and bar: (values with NaN for null, the reason of each null or "")."""
    columns = {}
    for name in candles.column_names:  # times as µs integers, nulls as NaN
        column = candles[name]
        columns[name] = (
            pc.cast(column, pa.int64()) if pa.types.is_timestamp(column.type) else column
        )
    frame = pa.table(columns).to_pandas()
    n = 86_400 // seconds
    grid_start = day_start_us - look_back_days(seconds) * DAY_US
    on_day = frame[(frame.timestamp >= day_start_us) & (frame.timestamp < day_start_us + DAY_US)]
    values, reasons = [], []
    for key in sorted(on_day.instrument_key.unique()):
        rows = frame[frame.instrument_key == key].drop(columns="instrument_key")
        b = bars_of(rows, grid_start, look_back_days(seconds) * n, seconds)
        for j in range(n):
            t = b.day_first + j
            close_us = int(b.opens_us[t]) + seconds * US
            out = b.raw["timestamp_out"][t]
            row = {
                "instrument_key": key,
                "timestamp": int(b.opens_us[t]),
                "known_at": close_us if math.isnan(out) else max(close_us, int(out)),
                "history_bars": int(b.history[t]),
                "price_bars": int(b.priced[t]),
            }
            why = {}
            for name, (window, formula) in FORMULAS.items():
                try:
                    if b.history[t] < window(n, j):
                        raise Null(HISTORY)
                    row[name], why[name] = formula(b, t, j), ""
                except Null as null:
                    row[name], why[name] = NAN, null.reason
            values.append(row)
            reasons.append(why)
    return pd.DataFrame(values), pd.DataFrame(reasons)

"""The MFT features of one instrument over its grid of bars. Pure (numpy, pandas, TA-Lib).

Every value at bar t is computed from bars at or before t: shifts look back, rolling
windows end at t, and TA-Lib's recursions run forward from the first bar of each run.
Windows that do not fit in the run's history are nulled by the caller.
"""

import math

import numpy as np
import pandas as pd
import talib

from market_assets.features.history import History

LN2 = math.log(2)
# Yang–Zhang's weight for n = 20 bars.
YZ_BARS = 20
YZ_K = 0.34 / (1.34 + (YZ_BARS + 1) / (YZ_BARS - 1))


def shifted(values: np.ndarray, bars: int) -> np.ndarray:
    """``values`` moved ``bars`` later: element t holds element t − bars (NaN before)."""
    out = np.full(values.size, np.nan)
    out[bars:] = values[:-bars]
    return out


def rolling(values: np.ndarray, bars: int) -> pd.core.window.Rolling:
    """A window of ``bars`` ending at each element; partial windows give NaN."""
    return pd.Series(values).rolling(bars, min_periods=bars)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / denominator, np.nan)


def root(variance: np.ndarray) -> np.ndarray:
    """√ of a variance; rounding below 0 (a flat window) is 0."""
    return np.sqrt(np.clip(variance, 0, None))


def price_features(h: History, annual: float) -> dict[str, np.ndarray]:
    """Returns, volatility estimators and the realised-volatility inputs."""
    o, hi, lo, c = h["open"], h["high"], h["low"], h["close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = np.log(c)
        r = log_c - shifted(log_c, 1)
        hl = np.log(hi / lo)
        co = np.log(c / o)
        rs = np.log(hi / c) * np.log(hi / o) + np.log(lo / c) * np.log(lo / o)
        overnight = np.log(o / shifted(c, 1))
    features = {f"log_return_{k}": log_c - shifted(log_c, k) for k in (1, 5, 15, 60)}
    features["realized_vol_20"] = annual * rolling(r, 20).std(ddof=1).to_numpy()
    features["realized_vol_60"] = annual * rolling(r, 60).std(ddof=1).to_numpy()
    features["parkinson_vol_20"] = annual * root(rolling(hl**2, 20).mean().to_numpy() / (4 * LN2))
    features["garman_klass_vol_20"] = annual * root(
        rolling(0.5 * hl**2 - (2 * LN2 - 1) * co**2, 20).mean().to_numpy()
    )
    rs_mean = rolling(rs, 20).mean().to_numpy()
    features["rogers_satchell_vol_20"] = annual * root(rs_mean)
    yz = (
        rolling(overnight, YZ_BARS).var(ddof=1).to_numpy()
        + YZ_K * rolling(co, YZ_BARS).var(ddof=1).to_numpy()
        + (1 - YZ_K) * rs_mean
    )
    features["yang_zhang_vol_20"] = annual * root(yz)
    features["_r"] = r
    return features


def technicals(h: History) -> dict[str, np.ndarray]:
    """TA-Lib's RSI, MACD, ATR, Bollinger %b and EMA gaps, run by run."""
    names = ("rsi_14", "macd", "macd_signal", "macd_hist", "atr_14", "bollinger_pct_b_20")
    out = {name: np.full(h.grid.size, np.nan) for name in (*names, "ema_12_gap", "ema_26_gap")}
    for run in h.runs():
        c = h["close"][run]
        if np.isnan(c).all():
            continue  # no trade in this run: no price
        high, low = h["high"][run], h["low"][run]
        # 100·G/(G+L) is 0/0 while every change since the first trade is 0; TA-Lib
        # writes 0 there, which would read as "only losses".
        moved = np.nancumsum(np.abs(np.diff(c, prepend=np.nan))) > 0
        out["rsi_14"][run] = np.where(moved, talib.RSI(c, timeperiod=14), np.nan)
        macd, signal, hist = talib.MACD(c, fastperiod=12, slowperiod=26, signalperiod=9)
        out["macd"][run], out["macd_signal"][run], out["macd_hist"][run] = macd, signal, hist
        out["atr_14"][run] = talib.ATR(high, low, c, timeperiod=14)
        upper, _, lower = talib.BBANDS(c, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0)
        out["bollinger_pct_b_20"][run] = ratio(c - lower, upper - lower)
        for bars in (12, 26):
            ema = talib.EMA(c, timeperiod=bars)
            out[f"ema_{bars}_gap"][run] = ratio(c - ema, ema)
    return out


def flow_features(h: History, r: np.ndarray) -> dict[str, np.ndarray]:
    """Volume, order flow and price impact over bar windows."""
    buy, sell = h["buy_volume"], h["sell_volume"]
    dollar = h["quote_volume"]
    traded = np.nan_to_num(h["trade_count"]) > 0
    signed_dollar = np.where(traded, (buy - sell) * h["vwap"], np.where(h.available, 0.0, np.nan))
    flows = rolling(signed_dollar, 60)
    impact = np.where(dollar > 0, np.abs(r) / np.where(dollar > 0, dollar, 1), 0.0)
    return {
        "dollar_volume": dollar,
        "trade_intensity": h["trade_count"] / h.grid.seconds,
        "signed_volume_imbalance_20": ratio(
            rolling(buy - sell, 20).sum().to_numpy(), rolling(buy + sell, 20).sum().to_numpy()
        ),
        "kyle_lambda_60": ratio(flows.cov(pd.Series(r)).to_numpy(), flows.var(ddof=1).to_numpy()),
        "amihud_20": ratio(
            rolling(impact, 20).sum().to_numpy(),
            rolling((dollar > 0).astype(float), 20).sum().to_numpy(),
        ),
    }


def relative_volume(h: History, bars_per_day: int) -> np.ndarray:
    """The z-score of the last day's bar volumes against the same bars of the 20 days
    before; the last day's bars only."""
    days = h["volume"][-21 * bars_per_day :].reshape(21, bars_per_day)
    with np.errstate(invalid="ignore"):
        before, spread = days[:20].mean(axis=0), days[:20].std(axis=0, ddof=1)
    return ratio(days[20] - before, spread)


def funding_z(h: History, bars_per_day: int) -> np.ndarray:
    """The funding rate's z-score against the previous 7 days of bars."""
    funding = h["funding_rate"]
    before = rolling(shifted(funding, 1), 7 * bars_per_day)
    return ratio(funding - before.mean().to_numpy(), before.std(ddof=1).to_numpy())


def state_features(h: History, realized_vol_20: np.ndarray) -> dict[str, np.ndarray]:
    """Derivatives, book and options features over bar windows."""
    basis, oi = h["basis"], h["open_interest"]
    liquidated = h["liquidation_buy_volume"] + h["liquidation_sell_volume"]
    atm, rr = h["atm_iv"], h["risk_reversal_25d"]
    return {
        "funding_rate": h["funding_rate"],
        "basis": basis,
        "basis_change_1": basis - shifted(basis, 1),
        "open_interest_change_pct_1": ratio(oi, shifted(oi, 1)) - 1,
        "liquidation_intensity_20": ratio(
            rolling(liquidated, 20).sum().to_numpy(), rolling(h["volume"], 20).sum().to_numpy()
        ),
        "spread_bps_mean_20": rolling(h["spread_bps"], 20).mean().to_numpy(),
        "imbalance_5_mean_20": rolling(h["imbalance_5"], 20).mean().to_numpy(),
        "microprice_gap_bps": ratio(h["microprice"] - h["mid"], h["mid"]) * 1e4,
        "atm_iv": atm,
        "atm_iv_change_1": atm - shifted(atm, 1),
        "risk_reversal_25d_change_1": rr - shifted(rr, 1),
        "iv_minus_realized_20": atm / 100 - realized_vol_20,
    }

"""options_chain columns: Black-Scholes marks, quotes, implied volatilities and greeks."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from tardis_local.chunks import Chunk
from tardis_local.market import amounts
from tardis_local.timestamps import US_PER_DAY, US_PER_SECOND, moment_us, parse_iso


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7: plenty for synthetic greeks, no scipy.
    z = np.abs(x) / math.sqrt(2)
    t = 1 / (1 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1 - poly * np.exp(-z * z)
    return 0.5 * (1 + np.sign(x) * erf)


def options_chain(chunk: Chunk) -> dict[str, pa.Array]:
    """type … rho of one option's ticker rows; expiration in µs, IVs in %, theta per day."""
    rng, instrument, n = chunk.rng, chunk.instrument, chunk.n
    raw = instrument.raw
    strike = float(raw["strikePrice"])
    call = raw["optionType"] == "call"
    expiry_us = moment_us(parse_iso(raw["expiry"]))
    underlying = np.round(chunk.mid, 4 if instrument.base == "XRP" else 2)
    years = np.maximum(expiry_us - chunk.ts, 60 * US_PER_SECOND) / (365 * US_PER_DAY)
    moneyness = np.log(strike / underlying)
    mark_iv = np.round(55 + 60 * moneyness**2 + 8 * np.abs(moneyness) + rng.normal(0, 0.5, n), 2)
    sigma = mark_iv / 100
    root = np.sqrt(years)
    d1 = (-moneyness + 0.5 * sigma**2 * years) / (sigma * root)
    d2 = d1 - sigma * root
    density = np.exp(-0.5 * d1**2) / math.sqrt(2 * math.pi)
    if call:
        value = underlying * _normal_cdf(d1) - strike * _normal_cdf(d2)
        delta = _normal_cdf(d1)
        rho = strike * years * _normal_cdf(d2) / 100
    else:
        value = strike * _normal_cdf(-d2) - underlying * _normal_cdf(-d1)
        delta = _normal_cdf(d1) - 1
        rho = -strike * years * _normal_cdf(-d2) / 100
    gamma = density / (underlying * sigma * root)
    vega = underlying * density * root / 100  # per volatility point
    theta = -underlying * density * sigma / (2 * root) / 365  # per day
    # Coin-settled options are quoted in the coin; USDC ones in USDC.
    mark = value / underlying if instrument.inverse else value
    tick = instrument.tick
    mark = np.maximum(np.round(mark / tick), 1) * tick
    half_spread = np.maximum(np.round(mark * 0.03 / tick), 1) * tick
    no_bid = (rng.random(n) < 0.1) | (mark - half_spread < tick)
    no_last = rng.random(n) < 0.3
    decimals = instrument.tick_decimals
    type_name = "call" if call else "put"
    return {
        "type": pa.repeat(type_name, n),
        "strike_price": pa.array(np.full(n, strike)),
        "expiration": pa.array(np.full(n, expiry_us, dtype=np.int64)),
        "open_interest": pa.array(
            np.round(400 + 50 * np.sin(chunk.ts / US_PER_DAY) + rng.normal(0, 2, n), 1)
        ),
        "last_price": pa.array(
            np.round(mark + rng.integers(-2, 3, n) * tick, decimals).clip(tick), mask=no_last
        ),
        "bid_price": pa.array(np.round(mark - half_spread, decimals), mask=no_bid),
        "bid_amount": pa.array(amounts(rng, chunk.instrument, chunk.mid, scale=20), mask=no_bid),
        "bid_iv": pa.array(np.round(mark_iv - rng.uniform(0.5, 3, n), 2), mask=no_bid),
        "ask_price": pa.array(np.round(mark + half_spread, decimals)),
        "ask_amount": pa.array(amounts(rng, chunk.instrument, chunk.mid, scale=20)),
        "ask_iv": pa.array(np.round(mark_iv + rng.uniform(0.5, 3, n), 2)),
        "mark_price": pa.array(np.round(mark, decimals)),
        "mark_iv": pa.array(mark_iv),
        "underlying_index": pa.repeat(raw["underlyingIndex"], n),
        "underlying_price": pa.array(underlying),
        "delta": pa.array(np.round(delta, 5)),
        "gamma": pa.array(np.round(gamma, 5)),
        "vega": pa.array(np.round(vega, 5)),
        "theta": pa.array(np.round(theta, 5)),
        "rho": pa.array(np.round(rho, 5)),
    }

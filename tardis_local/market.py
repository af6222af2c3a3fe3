"""Price and amount simulation: instrument numbers, price levels, order sizes on the tick/lot grid.

Prices follow a slow deterministic trend per base currency (shared across venues, as
arbitrage would keep them) plus a Brownian bridge inside each chunk, so the walk is
continuous across chunks and days.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from tardis_local import catalog
from tardis_local.timestamps import US_PER_DAY, moment_us

REFERENCE_PRICE: dict[str, float] = {
    "BTC": 42_000.0,
    "ETH": 2_300.0,
    "SOL": 100.0,
    "1000PEPE": 0.0012,
    "XRP": 0.55,
    # The liquid perpetuals of catalog.LIQUID_PERPETUALS, early 2024.
    "BNB": 400.0,
    "DOGE": 0.09,
    "ADA": 0.55,
    "AVAX": 38.0,
    "LINK": 18.0,
    "DOT": 7.5,
    "MATIC": 0.9,
    "LTC": 70.0,
    "BCH": 250.0,
    "TRX": 0.13,
    "ATOM": 10.0,
    "NEAR": 3.5,
    "UNI": 7.0,
    "ETC": 26.0,
    "FIL": 6.0,
    "APT": 9.0,
    "ARB": 1.8,
    "OP": 3.5,
    "INJ": 35.0,
    "SUI": 1.5,
    "SEI": 0.7,
    "TIA": 16.0,
    "WLD": 5.0,
    "AAVE": 100.0,
    "MKR": 2_000.0,
    "RUNE": 5.5,
    "FTM": 0.4,
    "SAND": 0.45,
    "GALA": 0.03,
    "XLM": 0.12,
    "ALGO": 0.19,
    "EOS": 0.8,
    "DYDX": 3.0,
    "LDO": 3.0,
    "CRV": 0.6,
}
# Derivatives trade at a small premium to spot; dated futures more than perpetuals.
BASIS: dict[str, float] = {"spot": 1.0, "perpetual": 1.0002, "future": 1.012, "option": 1.012}
_DAILY_VOLATILITY = 0.025


def rng(*parts: object) -> np.random.Generator:
    """A Generator seeded from a SHA-256 of `parts`: stable across processes, unlike hash()."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _decimals(increment: float | str) -> int:
    return max(0, -Decimal(str(increment)).normalize().as_tuple().exponent)  # type: ignore[operator]


@dataclass(frozen=True)
class Instrument:
    """The numbers generation needs, as of one day (changes applied, strings coerced)."""

    exchange: str
    symbol: str
    kind: str
    base: str
    tick: float
    tick_decimals: int
    lot: float
    lot_decimals: int
    multiplier: float
    inverse: bool
    since_us: int
    until_us: int | None
    raw: dict[str, Any]

    @classmethod
    def load(cls, exchange: str, symbol: str, day: date) -> Instrument:
        """The catalog's (exchange, symbol) as defined on UTC `day`; availability in µs."""
        raw = catalog.instrument_as_of(exchange, symbol, day)
        since, until = catalog.availability(exchange, symbol)
        return cls(
            exchange=exchange,
            symbol=raw["datasetId"],
            kind=raw["type"],
            base=raw["baseCurrency"],
            tick=float(raw["priceIncrement"]),
            tick_decimals=_decimals(raw["priceIncrement"]),
            lot=float(raw["amountIncrement"]),
            lot_decimals=_decimals(raw["amountIncrement"]),
            multiplier=float(raw.get("contractMultiplier", 1)),
            inverse=bool(raw.get("inverse", False)),
            since_us=moment_us(since),
            until_us=None if until is None else moment_us(until),
            raw=raw,
        )


def trend(base: str, ts_us: np.ndarray) -> np.ndarray:
    """Deterministic slow USD price level of `base` at `ts_us` (a few % a day, ±20% in months)."""
    phases = rng("trend", base).uniform(0, 2 * math.pi, 3)
    days = ts_us / US_PER_DAY
    wave = 0.03 * np.sin(2 * math.pi * days + phases[0])
    wave += 0.06 * np.sin(2 * math.pi * days / 7 + phases[1])
    wave += 0.12 * np.sin(2 * math.pi * days / 45 + phases[2])
    return REFERENCE_PRICE[base] * np.exp(wave)


def mid_path(
    generator: np.random.Generator, instrument: Instrument, ts_us: np.ndarray, span_us: int
) -> np.ndarray:
    """Mid prices (quote currency) at the sorted message times `ts_us` of a chunk `span_us` long.

    The random walk is bent back to the trend by the chunk's end, so chunks join without jumps.
    """
    groups = ts_us.size
    steps = generator.normal(
        0.0, _DAILY_VOLATILITY * math.sqrt(span_us / US_PER_DAY / groups), groups
    )
    walk = np.cumsum(steps)
    bridge = walk - np.linspace(0.0, 1.0, groups) * walk[-1]
    return trend(instrument.base, ts_us) * BASIS[instrument.kind] * np.exp(bridge)


def prices(ticks: np.ndarray, instrument: Instrument) -> np.ndarray:
    """Prices from whole numbers of ticks, rounded to the tick's decimals."""
    return np.round(ticks * instrument.tick, instrument.tick_decimals)


def amounts(
    generator: np.random.Generator, instrument: Instrument, mid: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """Order-sized amounts in exchange units (base, USD contracts or contracts), on the lot grid.

    `mid` (quote currency per base unit) sets how many rows and the base value per row;
    `scale` multiplies the typical order's USD notional (1 = ~1,500 USD).
    """
    size = mid.size
    notional = generator.lognormal(math.log(1_500 * scale), 1.3, size)  # USD
    if instrument.kind == "option":
        units = notional / 40_000 * (1 if instrument.base == "BTC" else 20)
    elif instrument.exchange.startswith("okex") and instrument.kind != "spot":
        if instrument.inverse:
            units = notional / instrument.multiplier
        else:
            units = notional / mid / instrument.multiplier
    elif instrument.inverse:
        units = notional
    else:
        units = notional / mid
    lots = np.maximum(np.round(units / instrument.lot), 1)
    return np.round(lots * instrument.lot, instrument.lot_decimals)

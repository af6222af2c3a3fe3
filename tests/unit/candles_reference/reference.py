"""The reference, in plain pandas: every candle column recomputed bar by bar from the
written semantics, independently of the project's candle transforms (it imports none of
them; the world hands it the tick tables in source order)."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from market_assets.candles.options import CHAIN_COLUMNS
from tests.unit.candles_reference.day import DAY_US, END, LEVELS, OPTION_BASE, US, D

if TYPE_CHECKING:
    from tests.unit.candles_reference.world import World

TRADE_COLUMNS = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "vwap",
    "trade_count",
    "buy_volume",
    "sell_volume",
    "unknown_volume",
    "buy_count",
    "sell_count",
    "unknown_count",
    "mean_trade_size",
    "max_trade_size",
    "delay_min_ms",
    "delay_median_ms",
    "delay_mean_ms",
    "delay_max_ms",
    "timestamp_out",
]
LIQUIDATION_COLUMNS = [
    "liquidation_buy_volume",
    "liquidation_buy_count",
    "liquidation_sell_volume",
    "liquidation_sell_count",
]
TICKER_COLUMNS = [
    "funding_rate",
    "predicted_funding_rate",
    "mark_price",
    "index_price",
    "open_interest",
    "open_interest_change",
    "basis",
]
BOOK_COLUMNS = [
    "best_bid",
    "best_ask",
    "mid",
    "spread_bps",
    "microprice",
    "bid_depth_5",
    "ask_depth_5",
    "imbalance_5",
    "spread_bps_tw",
    "imbalance_5_tw",
]
OPTION_COLUMNS = ["option_expiry", "atm_iv", "risk_reversal_25d", "put_call_iv_ratio_25d"]

# Expected columns: per name, a float Series over the day's bars; NaN marks a null (the
# reference never produces NaN as a value), integers and times are exact in a float64.
Expected = dict[str, pd.Series]


def frame(table: pa.Table, columns: list[str]) -> pd.DataFrame:
    """Columns of a tick table: times as int64 µs, labels as str, numbers as float."""
    data = {}
    for name in columns:
        column = table[name]
        if pa.types.is_timestamp(column.type):
            data[name] = column.cast(pa.int64()).to_numpy()
        elif pa.types.is_dictionary(column.type) or pa.types.is_string(column.type):
            data[name] = column.cast(pa.string()).to_numpy(zero_copy_only=False)
        else:
            data[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(data)


def _bars(seconds: int) -> pd.RangeIndex:
    return pd.RangeIndex(86_400 // seconds)


def _null(names: list[str], seconds: int) -> Expected:
    return {name: pd.Series(np.nan, index=_bars(seconds)) for name in names}


def ref_trades(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(TRADE_COLUMNS, seconds)
    bars = _bars(seconds)
    df = frame(table, ["timestamp", "local_timestamp", "side", "price", "amount"])
    df = df[(df.timestamp >= D) & (df.timestamp < END)].sort_values("timestamp", kind="stable")
    df["bar"] = (df.timestamp - D) // (seconds * US)
    df["notional"] = df.price * df.amount
    df["delay_ms"] = (df.local_timestamp - df.timestamp) / 1_000
    by_bar = df.groupby("bar")
    out: Expected = {}
    out["open"] = by_bar.price.first().reindex(bars)
    out["high"] = by_bar.price.max().reindex(bars)
    out["low"] = by_bar.price.min().reindex(bars)
    out["close"] = by_bar.price.last().reindex(bars)
    out["volume"] = by_bar.amount.sum().reindex(bars, fill_value=0.0)
    out["quote_volume"] = by_bar.notional.sum().reindex(bars, fill_value=0.0)
    count = by_bar.size().reindex(bars, fill_value=0)
    out["trade_count"] = count.astype(float)
    out["vwap"] = (out["quote_volume"] / out["volume"]).where(count > 0)
    for side in ("buy", "sell", "unknown"):
        of_side = df[df.side == side].groupby("bar")
        out[f"{side}_volume"] = of_side.amount.sum().reindex(bars, fill_value=0.0)
        out[f"{side}_count"] = of_side.size().reindex(bars, fill_value=0).astype(float)
    out["mean_trade_size"] = (out["volume"] / count).where(count > 0)
    out["max_trade_size"] = by_bar.amount.max().reindex(bars)
    out["delay_min_ms"] = by_bar.delay_ms.min().reindex(bars)
    out["delay_median_ms"] = by_bar.delay_ms.median().reindex(bars)
    out["delay_mean_ms"] = by_bar.delay_ms.mean().reindex(bars)
    out["delay_max_ms"] = by_bar.delay_ms.max().reindex(bars)
    out["timestamp_out"] = by_bar.local_timestamp.max().reindex(bars).astype(float)
    return out


def ref_liquidations(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(LIQUIDATION_COLUMNS, seconds)
    bars = _bars(seconds)
    df = frame(table, ["timestamp", "side", "amount"])
    df = df[(df.timestamp >= D) & (df.timestamp < END)].copy()
    df["bar"] = (df.timestamp - D) // (seconds * US)
    out: Expected = {}
    for side in ("buy", "sell"):
        of_side = df[df.side == side].groupby("bar")
        out[f"liquidation_{side}_volume"] = of_side.amount.sum().reindex(bars, fill_value=0.0)
        out[f"liquidation_{side}_count"] = of_side.size().reindex(bars, fill_value=0).astype(float)
    return out


def _last_strictly_before(points: np.ndarray, rows: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """For each point, ``names`` of the last row (ties: the later row) stamped strictly
    before it; NaN where there is none. ``rows`` is sorted by timestamp."""
    rows = rows.drop_duplicates("timestamp", keep="last")
    found = pd.merge_asof(
        pd.DataFrame({"point": np.asarray(points, np.int64)}),
        rows[["timestamp", *names]],
        left_on="point",
        right_on="timestamp",
        allow_exact_matches=False,
        direction="backward",
    )
    return found


def ref_ticker(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(TICKER_COLUMNS, seconds)
    bars = _bars(seconds)
    fields = [
        "funding_rate",
        "predicted_funding_rate",
        "mark_price",
        "index_price",
        "open_interest",
    ]
    df = frame(table, ["timestamp", *fields])
    df = df[df.timestamp < END].sort_values("timestamp", kind="stable")
    inside = df[df.timestamp >= D].copy()
    inside["bar"] = (inside.timestamp - D) // (seconds * US)
    out: Expected = {}
    for name in fields:
        known = inside.dropna(subset=[name])
        out[name] = known.groupby("bar")[name].last().reindex(bars)
    starts = D + np.arange(len(bars), dtype=np.int64) * seconds * US
    interest = df.dropna(subset=["open_interest"])
    before = _last_strictly_before(starts, interest, ["open_interest"])["open_interest"]
    out["open_interest_change"] = out["open_interest"] - before.to_numpy()
    out["basis"] = (out["mark_price"] - out["index_price"]) / out["index_price"]
    return out


def _book_measures(table: pa.Table) -> pd.DataFrame:
    names = [
        f"{side}[{level}].{field}"
        for side in ("bids", "asks")
        for level in range(LEVELS)
        for field in ("price", "amount")
    ]
    df = frame(table, ["timestamp", *names])
    df = df[df.timestamp < END].sort_values("timestamp", kind="stable")
    bid, ask = df["bids[0].price"], df["asks[0].price"]
    bid_amount, ask_amount = df["bids[0].amount"], df["asks[0].amount"]
    bid_depth = sum(df[f"bids[{level}].amount"].fillna(0.0) for level in range(LEVELS))
    ask_depth = sum(df[f"asks[{level}].amount"].fillna(0.0) for level in range(LEVELS))
    mid = (bid + ask) / 2
    return pd.DataFrame(
        {
            "timestamp": df.timestamp,
            "best_bid": bid,
            "best_ask": ask,
            "mid": mid,
            "spread_bps": (ask - bid) / mid * 1e4,
            "microprice": (bid * ask_amount + ask * bid_amount) / (bid_amount + ask_amount),
            "bid_depth_5": bid_depth,
            "ask_depth_5": ask_depth,
            "imbalance_5": (bid_depth - ask_depth) / (bid_depth + ask_depth),
        }
    )


def ref_book(table: pa.Table | None, seconds: int) -> Expected:
    if table is None:
        return _null(BOOK_COLUMNS, seconds)
    bars = _bars(seconds)
    snapshots = _book_measures(table)
    at_close_names = BOOK_COLUMNS[:8]
    ends = D + np.arange(1, len(bars) + 1, dtype=np.int64) * seconds * US
    at_close = _last_strictly_before(ends, snapshots, at_close_names)
    out: Expected = {
        name: pd.Series(at_close[name].to_numpy(), index=bars) for name in at_close_names
    }

    # Time weighting: cut the day at every bar edge and every snapshot; on each piece the
    # book is the last snapshot stamped at or before the piece's start.
    state = snapshots.drop_duplicates("timestamp", keep="last")
    edges = D + np.arange(len(bars) + 1, dtype=np.int64) * seconds * US
    inner = state.timestamp[(state.timestamp > D) & (state.timestamp < END)].to_numpy()
    cuts = np.unique(np.concatenate([edges, inner]))
    pieces = pd.DataFrame({"start": cuts[:-1], "width": np.diff(cuts).astype(float)})
    pieces = pd.merge_asof(
        pieces,
        state[["timestamp", "spread_bps", "imbalance_5"]],
        left_on="start",
        right_on="timestamp",
        direction="backward",
    )
    pieces["bar"] = (pieces.start - D) // (seconds * US)
    for name in ("spread_bps", "imbalance_5"):
        defined = pieces[name].notna()
        weight = pieces.width.where(defined, 0.0)
        area = (pieces[name].fillna(0.0) * weight).groupby(pieces.bar).sum()
        covered = weight.groupby(pieces.bar).sum()
        out[f"{name}_tw"] = (area / covered).where(covered > 0).reindex(bars)
    return out


def _underlying(key: str) -> str:
    return key.split(":")[2].split("-")[0]


def ref_options(chain: pa.Table | None, base: str | None, seconds: int) -> Expected:
    """At each bar close t: among the expiries listed by t (a row stamped before t), the
    nearest at least seven days after t; its options' last rows stamped before t."""
    if chain is None or base is None:
        return _null(OPTION_COLUMNS, seconds)
    bars = _bars(seconds)
    df = frame(chain, list(CHAIN_COLUMNS))
    df = df[(df.instrument_key.map(_underlying) == base) & (df.timestamp < END)]
    df = df.sort_values("timestamp", kind="stable")
    closes = D + np.arange(1, len(bars) + 1, dtype=np.int64) * seconds * US
    first_seen = df.groupby("expiration").timestamp.min()
    expiries, first_seen = first_seen.index.to_numpy(), first_seen.to_numpy()

    # Per expiry: per option (ordered by strike, calls first), its last row before each close.
    state = {}
    for expiry, rows in df.groupby("expiration"):
        options = rows.drop_duplicates("instrument_key").sort_values(["strike_price", "type"])
        matrices = {name: [] for name in ("timestamp", "mark_iv", "delta", "underlying_price")}
        for key in options.instrument_key:
            last = _last_strictly_before(
                closes, rows[rows.instrument_key == key], ["mark_iv", "delta", "underlying_price"]
            )
            for name in matrices:
                matrices[name].append(last[name].to_numpy(dtype=float))
        state[expiry] = (
            options.strike_price.to_numpy(),
            (options.type == "call").to_numpy(),
            {name: np.array(columns) for name, columns in matrices.items()},
        )

    out = {name: np.full(len(bars), np.nan) for name in OPTION_COLUMNS}
    for bar, close in enumerate(closes):
        eligible = expiries[(first_seen < close) & (expiries >= close + 7 * DAY_US)]
        if not eligible.size:
            continue
        expiry = int(eligible.min())
        out["option_expiry"][bar] = expiry
        strikes, calls, matrix = state[expiry]
        stamp, iv = matrix["timestamp"][:, bar], matrix["mark_iv"][:, bar]
        delta, price = matrix["delta"][:, bar], matrix["underlying_price"][:, bar]
        present = ~np.isnan(stamp)
        if not present.any():
            continue
        spot = price[np.nanargmax(stamp)]
        quoted = present & ~np.isnan(iv)
        # Nearest strike to the spot, ties to the lower strike.
        candidates = sorted(zip(np.abs(strikes - spot)[quoted], strikes[quoted], strict=True))
        nearest = candidates[0][1]
        out["atm_iv"][bar] = iv[quoted & (strikes == nearest)].mean()
        call = np.where(quoted & calls, np.abs(delta - 0.25), np.inf).argmin()
        put = np.where(quoted & ~calls, np.abs(delta + 0.25), np.inf).argmin()
        out["risk_reversal_25d"][bar] = iv[call] - iv[put]
        out["put_call_iv_ratio_25d"][bar] = iv[put] / iv[call]
    return {name: pd.Series(values, index=bars) for name, values in out.items()}


def reference(world: "World", key: str, seconds: int) -> Expected:
    ticks = {
        name: None if files is None else files.source_order
        for name, files in world.ticks[key].items()
    }
    return {
        **ref_trades(ticks["trades"], seconds),
        **ref_liquidations(ticks["liquidations"], seconds),
        **ref_ticker(ticks["derivative_ticker"], seconds),
        **ref_book(ticks["book"], seconds),
        **ref_options(world.chain.source_order, OPTION_BASE[key], seconds),
    }

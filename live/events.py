"""What the live feeds yield: ticks in the raw tick tables' columns, and feed outages.

The contract between the feed client (`live.feeds`) and everything that builds bars from
it. A `Tick.row` holds exactly the columns of `market_assets.ticks.columns`' dataset for
its `data_type` (same names, same units; every timestamp an int of µs since the epoch,
UTC), `instrument_key` and `symbol` (the Tardis symbol) included, so a live row is a row
of the lake's tick table. `timestamp` is the exchange's event time as Tardis records it;
`local_timestamp` is when this process received the message.

A `Disconnected` is yielded once when a venue's connection is lost (`at_us`: when the
loss was noticed); a `Reconnected` once the venue is subscribed again (`at_us`: when the
first subscription was confirmed; `down_since_us`: the matching `Disconnected.at_us`).
Ticks between them were never received. A venue unreachable at start yields a
`Disconnected` (at its first failed attempt) before any of its ticks.

Where the live rows differ from the lake's (the feeds' limits, not choices):

- `binance-futures` derivative_ticker rows come from `<s>@markPrice@1s`: funding_timestamp,
  funding_rate, index_price, mark_price. Binance's WebSocket has no open interest or
  last price there, so `open_interest` and `last_price` are always None live (Tardis
  polls open interest over REST); `predicted_funding_rate` is None as in Tardis' files.
- `deribit` derivative_ticker rows carry funding_rate (`funding_8h`), open_interest,
  last_price, index_price, mark_price. Without Deribit credentials the feed uses the
  public `100ms` channels, where Deribit thins tickers (and batches trades) per 100 ms;
  with credentials (`deribit_credentials=`; the service passes DERIBIT_CLIENT_ID/SECRET)
  the raw ones.
- Exchange times: the feeds ask for µs (`timeUnit=MICROSECOND`: Binance spot's real
  parameter; exchange_local honours it on every venue, so its replay matches the
  generated day to the µs). The real Binance USDⓈ-M and Deribit feeds send ms. Real
  Binance spot `bookTicker` and `depth5` carry no exchange time: there `timestamp` is
  the receive time (exchange_local adds `E`/`T`, so replayed rows keep theirs).
- Data types live: trades, quotes, book_snapshot_5, derivative_ticker (derivatives
  only). No liquidations, options_chain or book_snapshot_25 live.

The feed is `live.feeds.events(venues_config, *, endpoints=None, ...)`, an async
iterator of these events; `venues_config` is a list of `live.feeds.VenueFeed` (see
`live.feeds.feeds_from_universe(universe)`) or `{venue: [Tardis symbol, ...]}`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Disconnected", "LiveEvent", "Reconnected", "Tick"]


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick: a row of the Tardis data type's raw tick table on `venue`."""

    data_type: str  # a Tardis data type: "trades", "quotes", "derivative_ticker", "book_snapshot_5"
    venue: str  # Tardis exchange id
    row: dict[str, object]


@dataclass(frozen=True, slots=True)
class Disconnected:
    """`venue`'s feed was lost at `at_us` (µs since the epoch, UTC)."""

    venue: str
    at_us: int


@dataclass(frozen=True, slots=True)
class Reconnected:
    """`venue`'s feed is subscribed again at `at_us`, after the outage begun at `down_since_us`."""

    venue: str
    at_us: int
    down_since_us: int


LiveEvent = Tick | Disconnected | Reconnected

"""What a fault left in the lake, measured against the generated source files.

The reference is Tardis' CSV as the local server generates it, read with the standard
library; the lake is read with pyarrow alone. Neither goes through the code under test.
"""

import csv
import gzip
import io
from collections import Counter
from dataclasses import dataclass

import pyarrow.parquet as pq
from upath import UPath

from chaos.world import DAY, SYMBOLS, VENUE
from tardis_local import generate

Trade = tuple[str, int, int, str, str, float, float]
TRADE_COLUMNS = ["symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]


def reference_trades(day: str = DAY, venue: str = VENUE) -> Counter[Trade]:
    """Every trade row of the day's generated files, as the CSV says it."""
    from datetime import date

    rows: Counter[Trade] = Counter()
    for symbol in SYMBOLS:
        body = generate.dataset_bytes(venue, "trades", symbol, date.fromisoformat(day))
        for row in csv.DictReader(io.StringIO(gzip.decompress(body).decode())):
            rows[
                (
                    row["symbol"],
                    int(row["timestamp"]),
                    int(row["local_timestamp"]),
                    row["id"],
                    row["side"],
                    float(row["price"]),
                    float(row["amount"]),
                )
            ] += 1
    return rows


@dataclass(frozen=True)
class LakeState:
    """The trades partition as a reader finds it."""

    rows: Counter[Trade] | None  # None: the partition is absent
    files: int
    unreadable: int
    stray: int  # files that are not Parquet (temporary uploads, half-renamed folders)

    def partial_visible(self, reference: Counter[Trade]) -> int:
        """Files a reader could see that belong to no whole partition."""
        if self.rows is None or self.rows == reference:
            return self.stray
        return self.files + self.stray

    def lost(self, reference: Counter[Trade]) -> int:
        return sum((reference - (self.rows or Counter())).values())

    def duplicated(self, reference: Counter[Trade]) -> int:
        return sum(((self.rows or Counter()) - reference).values())


def trades_partition(root: UPath, day: str = DAY, venue: str = VENUE) -> UPath:
    return root / "ticks" / "trades" / f"date={day}" / f"venue={venue}"


def lake_state(root: UPath, day: str = DAY, venue: str = VENUE) -> LakeState:
    folder = trades_partition(root, day, venue)
    entries = list(folder.iterdir()) if folder.exists() else []
    parquet = [p for p in entries if p.name.endswith(".parquet")]
    stray = len(entries) - len(parquet)
    if not parquet:
        return LakeState(None, 0, 0, stray)
    rows: Counter[Trade] = Counter()
    unreadable = 0
    for path in parquet:
        try:
            with path.fs.open(path.path, "rb") as handle:
                table = pq.read_table(handle, columns=TRADE_COLUMNS)
        except Exception:  # a torn file is what this counts
            unreadable += 1
            continue
        columns = table.to_pydict()
        for n in range(table.num_rows):
            rows[
                (
                    columns["symbol"][n],
                    _micros(columns["timestamp"][n]),
                    _micros(columns["local_timestamp"][n]),
                    columns["id"][n] or "",
                    columns["side"][n],
                    float(columns["price"][n]),
                    float(columns["amount"][n]),
                )
            ] += 1
    return LakeState(rows, len(parquet), unreadable, stray)


def _micros(stamp) -> int:
    from datetime import UTC, datetime

    delta = stamp - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

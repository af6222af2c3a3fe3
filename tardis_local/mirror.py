"""Write a folder that looks like a finished `tardis_dev.download_datasets` run, no server."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from tardis_local import catalog, generate
from tardis_local.timestamps import day_start


def default_file_name(
    exchange: str, data_type: str, day: date, symbol: str, format: str = "csv"
) -> str:
    """tardis-dev's default download file name: {exchange}_{data_type}_{YYYY-MM-DD}_{SYMBOL}.csv.gz.

    Same rule as `tardis_dev.default_file_name`, which receives the normalised symbol
    (upper-case, ':' and '/' as '-') and replaces characters illegal in file names.
    """
    sanitized_symbol = re.sub(r'[:\\/?*<>|"]', "-", symbol)
    return f"{exchange}_{data_type}_{day.strftime('%Y-%m-%d')}_{sanitized_symbol}.{format}.gz"


def _dataset_symbols(exchange: str) -> list[str]:
    details = catalog.exchange_details(exchange, datetime.max.replace(tzinfo=UTC))
    return [entry["id"] for entry in details["datasets"]["symbols"]]


def write_mirror(
    folder: str | Path,
    days: Sequence[date],
    *,
    exchanges: Sequence[str] | None = None,
    data_types: Sequence[str] | None = None,
    symbols: dict[str, list[str]] | None = None,
    rows_per_day: dict[str, int] | None = None,
    empty_files: Collection[tuple[str, str, str, str]] = frozenset(),
    exported_until: datetime | None = None,
) -> list[Path]:
    """Generate dataset files for `days` (UTC) into `folder` in tardis-dev's file layout.

    Writes one CSV.gz per (exchange, data type, dataset symbol, day) that the catalog
    publishes and the symbol is available on (grouped symbols such as OPTIONS
    included unless `symbols` narrows them), plus `exchanges/{exchange}.json`
    (exchange details) and `instruments/{exchange}.json` (instruments list).
    `rows_per_day` overrides volume per data type; `empty_files` holds (exchange,
    data_type, symbol, "YYYY-MM-DD") to write as empty gzip. Days not exported by
    `exported_until` (default: midnight after the last day) are skipped.
    Returns the written paths, dataset files first, then metadata files.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    if exported_until is None:
        last = max(days) if days else datetime.now(UTC).date()
        exported_until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    elif exported_until.tzinfo is None:
        exported_until = exported_until.replace(tzinfo=UTC)
    volume = rows_per_day or {}
    written: list[Path] = []
    venues = list(exchanges or catalog.VENUES)
    for exchange in venues:
        for symbol in (symbols or {}).get(exchange) or _dataset_symbols(exchange):
            for data_type in catalog.symbol_data_types(exchange, symbol):
                if data_types is not None and data_type not in data_types:
                    continue
                for day in days:
                    exported = day_start(day) + timedelta(days=1) <= exported_until
                    if not exported or not catalog.is_available(exchange, symbol, day):
                        continue
                    path = target / default_file_name(exchange, data_type, day, symbol)
                    empty = (exchange, data_type, symbol, day.isoformat()) in empty_files
                    generate.write_dataset(
                        path,
                        exchange,
                        data_type,
                        symbol,
                        day,
                        rows_per_day=volume.get(data_type),
                        empty=empty,
                    )
                    written.append(path)
    for exchange in venues:
        for kind, document in (
            ("exchanges", catalog.exchange_details(exchange, exported_until)),
            ("instruments", catalog.instruments(exchange)),
        ):
            path = target / kind / f"{exchange}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=2) + "\n")
            written.append(path)
    return written

"""The host: a Tokyo clock and a Turkish locale give the same bytes as a UTC host."""

import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

from chaos.outcome import Result, excerpt
from chaos.world import DERIVED, World, world

LOCALE = "tr_TR.UTF-8"  # dotless i, decimal comma: the classic breaker of parsers


def _compiled_locale() -> Path | None:
    """``tr_TR.UTF-8`` compiled into a private LOCPATH (the system's locales untouched)."""
    folder = Path(tempfile.mkdtemp(prefix="chaos-locale-"))
    done = subprocess.run(
        ["localedef", "-i", "tr_TR", "-f", "UTF-8", str(folder / LOCALE)], capture_output=True
    )
    return folder if (folder / LOCALE).exists() or done.returncode == 0 else None


def _landed(w: World) -> tuple[dict[str, str], list[tuple], str | None]:
    """sha256 of every lake file by path, the warehouse's rows, and any failure."""
    for selection in ("instrument_definitions,ticks/trades", DERIVED):
        run = w.materialize(selection)
        if not run.ok:
            return {}, [], excerpt(run)
    root = Path(w.lake_root)
    digests = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
        if "_staging" not in p.parts
    }
    connection = duckdb.connect(str(root / "market.duckdb"), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        rows = connection.sql("SELECT * FROM warehouse.candles_1h ORDER BY ALL").fetchall()
    finally:
        connection.close()
    return digests, rows, None


def tokyo_and_turkish() -> Result:
    fault = f"TZ=Asia/Tokyo and LC_ALL={LOCALE} against a UTC, C.UTF-8 host"
    expected = "byte-identical lake files and identical warehouse rows"
    locales = _compiled_locale()
    started = time.monotonic()
    with world() as utc:
        utc.extra.update(TZ="UTC", LC_ALL="C.UTF-8")
        reference = _landed(utc)
    with world() as tokyo:
        tokyo.extra.update(TZ="Asia/Tokyo")
        if locales is not None:
            tokyo.extra.update(LOCPATH=str(locales), LC_ALL=LOCALE, LANG=LOCALE)
        found = _landed(tokyo)
    seconds = time.monotonic() - started
    if reference[2] or found[2]:
        return Result(
            "host",
            fault,
            expected,
            f"a run failed: {reference[2] or found[2]}",
            False,
            seconds,
            None,
            None,
            None,
        )
    differing = sorted(
        k for k in reference[0].keys() | found[0].keys() if reference[0].get(k) != found[0].get(k)
    )
    same_rows = reference[1] == found[1]
    locale_note = "" if locales is not None else f" ({LOCALE} could not be compiled: TZ only)"
    observed = (
        f"{len(reference[0]) - len(differing)} of {len(reference[0])} files identical, "
        f"warehouse rows {'identical' if same_rows else 'DIFFER'} ({len(found[1])} rows)"
        + (f"; differing: {', '.join(differing[:3])}" if differing else "")
        + locale_note
    )
    return Result(
        "host",
        fault,
        expected,
        observed,
        not differing and same_rows and locales is not None,
        seconds,
        0,
        0,
        0,
    )


def rows() -> list:
    return [tokyo_and_turkish]

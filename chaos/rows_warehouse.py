"""Warehouse faults: a run killed mid-load (DuckDB and the BigQuery emulator), a DuckDB
file held by another process, a table whose columns drifted.

The rows lost and duplicated compare the warehouse slice with the candles partition in
the lake (read with pyarrow), by (instrument_key, timestamp)."""

import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from chaos.outcome import Result, excerpt
from chaos.world import DAY, DERIVED, VENUE, World, world
from tests import emulators

SLICE = f"date = DATE '{DAY}' AND venue = '{VENUE}'"
LOAD_STEP = 'Started execution of step "warehouse__candles_1h"'
PROJECT, DATASET = "chaos-project", "market"


def candle_keys(w: World) -> Counter:
    folder = Path(w.lake_root) / "candles" / "1h" / f"date={DAY}" / f"venue={VENUE}"
    table = pq.read_table(folder, columns=["instrument_key", "timestamp"])
    return Counter(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


class DuckDBSide:
    """The DuckDB warehouse of a world, read in a child process so that this one never
    holds the file's lock."""

    def __init__(self, w: World) -> None:
        self.database = str(w.folder / "market.duckdb")
        w.extra["MARKET_DATA_WAREHOUSE"] = f"duckdb:///{self.database}"

    def slice_keys(self) -> Counter:
        if not Path(self.database).exists():
            return Counter()
        connection = duckdb.connect(self.database, read_only=True)
        try:
            tables = connection.sql(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'candles_1h'"
            ).fetchall()
            if not tables:
                return Counter()
            rows = connection.sql(
                f"SELECT instrument_key, timestamp FROM warehouse.candles_1h WHERE {SLICE}"
            ).fetchall()
        finally:
            connection.close()
        return Counter((key, stamp) for key, stamp in rows)


class BigQuerySide:
    """The BigQuery emulator's dataset of a world."""

    def __init__(self, w: World, endpoint: str) -> None:
        from resources.warehouse import bigquery_client

        w.extra.update(
            MARKET_DATA_WAREHOUSE=f"bigquery://{PROJECT}/{DATASET}", BIGQUERY_EMULATOR_HOST=endpoint
        )
        self.client = bigquery_client(PROJECT, None, endpoint)

    def slice_keys(self) -> Counter:
        from google.api_core.exceptions import NotFound

        try:
            rows = self.client.query(
                f"SELECT instrument_key, timestamp FROM `{PROJECT}.{DATASET}.candles_1h` "
                f"WHERE {SLICE}"
            ).result()
        except NotFound:
            return Counter()
        return Counter((row[0], row[1]) for row in rows)


@contextmanager
def bigquery_emulator() -> Iterator[str]:
    """The BigQuery emulator in a child process, as the tests start it."""
    home = Path(tempfile.mkdtemp(prefix="chaos-bq-"))
    with emulators.bigquery_emulator(home, PROJECT) as endpoint:
        yield endpoint


def _judge(group: str, fault: str, expected: str, observed: str, met: bool, seconds, w, side):
    reference = candle_keys(w)
    found = side.slice_keys()
    lost = sum((reference - found).values())
    duplicated = sum((found - reference).values())
    return Result(
        group,
        fault,
        expected,
        observed,
        met and not lost and not duplicated,
        seconds,
        lost,
        duplicated,
        0,
    )


def sigkill_mid_load(backend: str) -> Result:
    fault = f"SIGKILL mid-load, {'DuckDB' if backend == 'duckdb' else 'BigQuery emulator'}"
    expected = "the slice is old or whole, never part; a rerun loads it exactly"
    with world() as w, _side(w, backend) as side:
        ingest = w.materialize()
        if not ingest.ok:
            return Result(
                "warehouse",
                fault,
                expected,
                f"setup failed: {excerpt(ingest)}",
                False,
                None,
                None,
                None,
                None,
            )
        reference = candle_keys_after(w)
        with w.background(DERIVED) as run:
            run.wait_for(lambda: LOAD_STEP in run.output(), 300)
            time.sleep(0.3 if backend == "duckdb" else 1.0)
            run.kill()
            killed = run.finish()
        held = side.slice_keys()
        state = "whole" if held == reference else "empty" if not held else "PARTIAL"
        rerun = w.materialize(DERIVED)
        observed = (
            f"killed {killed.seconds:.1f} s in; the slice was {state} ({sum(held.values())} "
            f"rows); the rerun {'loaded it' if rerun.ok else 'failed: ' + excerpt(rerun)}"
        )
        met = state != "PARTIAL" and rerun.ok
        return _judge("warehouse", fault, expected, observed, met, killed.seconds, w, side)


def candle_keys_after(w: World) -> Counter:
    """The candles the derived run will load (built first, without the warehouse)."""
    built = w.materialize("group:candles")
    if not built.ok:
        raise RuntimeError(f"candles did not build: {excerpt(built)}")
    return candle_keys(w)


@contextmanager
def _side(w: World, backend: str):
    if backend == "duckdb":
        yield DuckDBSide(w)
        return
    with bigquery_emulator() as endpoint:
        yield BigQuerySide(w, endpoint)


def held_by_reader(seconds: float | None) -> Result:
    label = (
        f"DuckDB file held by a reader for {seconds:.0f} s"
        if seconds
        else "DuckDB file held by a reader throughout"
    )
    expected = (
        "waits, then loads"
        if seconds
        else "fails naming the file and the fix (close other connections)"
    )
    with world() as w:
        side = DuckDBSide(w)
        assert w.materialize().ok and w.materialize(DERIVED).ok
        hold = seconds if seconds else 600
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
                "print('held', flush=True); time.sleep(float(sys.argv[2]))",
                side.database,
                str(hold),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        holder.stdout.readline()
        try:
            run = w.materialize(DERIVED)
        finally:
            holder.kill()
            holder.wait()
        if seconds:
            observed = "loaded after the reader let go" if run.ok else f"failed: {excerpt(run)}"
            met = run.ok
        else:
            said = run.line_with("stayed locked by another process")
            observed = "loaded" if run.ok else f"failed: {excerpt(run, 'stayed locked')}"
            met = not run.ok and bool(said)
            rerun = w.materialize(DERIVED)
            met = met and rerun.ok
            observed += "; the rerun loaded it" if rerun.ok else "; the rerun failed"
        return _judge("warehouse", label, expected, observed, met, run.seconds, w, side)


def drifted_columns() -> Result:
    fault = "candle table with a column added by hand"
    expected = "fails naming the table, the column and the fix; the slice untouched"
    with world() as w:
        side = DuckDBSide(w)
        assert w.materialize().ok and w.materialize(DERIVED).ok
        connection = duckdb.connect(side.database)
        connection.execute("ALTER TABLE warehouse.candles_1h ADD COLUMN analyst_note VARCHAR")
        connection.close()
        before = side.slice_keys()
        run = w.materialize(DERIVED)
        untouched = side.slice_keys() == before
        said = run.line_with("analyst_note", "ALTER TABLE")
        observed = "loaded" if run.ok else f"failed: {excerpt(run, 'analyst_note')}"
        met = not run.ok and bool(said) and untouched
        # The user's fix: the migration the message names, then a rerun.
        connection = duckdb.connect(side.database)
        connection.execute("ALTER TABLE warehouse.candles_1h DROP COLUMN analyst_note")
        connection.close()
        rerun = w.materialize(DERIVED)
        observed += "; after the fix the rerun loaded it" if rerun.ok else "; the rerun failed"
        return _judge(
            "warehouse", fault, expected, observed, met and rerun.ok, run.seconds, w, side
        )


def rows() -> list:
    return [
        lambda: sigkill_mid_load("duckdb"),
        lambda: sigkill_mid_load("bigquery"),
        lambda: held_by_reader(10),
        lambda: held_by_reader(None),
        drifted_columns,
    ]

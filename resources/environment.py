"""The environment contract, read in one place (ARCHITECTURE.md, "Environment").

Every variable is optional; the defaults give the embedded setup. ``Environment.read()``
is called where the Definitions are assembled and by the command-line entry points;
nothing else reads the environment, and nothing writes it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_LAKE_ROOT = "./data"
DEFAULT_DATASETS_ENDPOINT = "https://datasets.tardis.dev/v1"
DEFAULT_API_ENDPOINT = "https://api.tardis.dev/v1"
DEFAULT_LIVE_ADDRESS = "tcp://127.0.0.1:7878"
DEFAULT_LIVE_GRACE_MS = 2_000
# One Tardis file may take this long, every retry included, before its partition fails.
DEFAULT_FILE_DEADLINE_SECONDS = 300


def _candle_timeframes() -> tuple[str, ...]:
    """The candle timeframes, shortest first: the reader's copy (``partitions.TIMEFRAMES``
    imports Dagster, which the reader, a user of this module, must not; the two are held
    equal by tests/unit/test_reader_package.py)."""
    from market_reader.layout import CANDLE_TIMEFRAMES

    return CANDLE_TIMEFRAMES


@dataclass(frozen=True)
class Environment:
    """The contract's variables, defaults applied (empty strings where a default is
    "unset")."""

    lake_root: str = DEFAULT_LAKE_ROOT
    warehouse_url: str = ""
    universe_path: str = ""  # empty: the bundled universe
    tardis_api_key_set: bool = False
    tardis_datasets_endpoint: str = DEFAULT_DATASETS_ENDPOINT
    tardis_api_endpoint: str = DEFAULT_API_ENDPOINT
    tardis_mirror: str = ""
    tardis_file_deadline_seconds: int = DEFAULT_FILE_DEADLINE_SECONDS
    # Set by the GCS emulator's users (tests, local runs): GCS requests go unsigned.
    storage_emulator_host: str = ""
    bigquery_emulator_host: str = ""
    # The live service: where consumers reach it, where its closed bars go (empty: the
    # BigQuery warehouse's dataset, else live_candles.duckdb in the lake root), and how long past
    # its end (exchange time) a bar waits for late messages.
    live_address: str = DEFAULT_LIVE_ADDRESS
    live_warehouse_url: str = ""
    live_grace_ms: int = DEFAULT_LIVE_GRACE_MS
    # The timeframes the live service builds, shortest first (default: all of them). The
    # open bar of the longest holds its ticks in memory: an execution deployment that
    # needs 15s and 1m bars keeps minutes of ticks, not the day's.
    live_timeframes: tuple[str, ...] = field(default_factory=_candle_timeframes)
    # Deribit API credentials for the live feed's raw channels (both, or the public
    # 100 ms channels); the service outside Dagster reads them here, never logs them.
    deribit_client_id: str = ""
    deribit_client_secret: str = field(default="", repr=False)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> "Environment":
        """The contract as ``environ`` (default: this process's environment) sets it."""
        env = os.environ if environ is None else environ
        return cls(
            lake_root=env.get("MARKET_DATA_ROOT") or DEFAULT_LAKE_ROOT,
            warehouse_url=env.get("MARKET_DATA_WAREHOUSE", ""),
            universe_path=env.get("MARKET_DATA_UNIVERSE", ""),
            # The key itself is read at run time through Dagster's EnvVar, never kept here.
            tardis_api_key_set=bool(env.get("TARDIS_API_KEY")),
            tardis_datasets_endpoint=env.get("TARDIS_DATASETS_ENDPOINT")
            or DEFAULT_DATASETS_ENDPOINT,
            tardis_api_endpoint=env.get("TARDIS_API_ENDPOINT") or DEFAULT_API_ENDPOINT,
            tardis_mirror=env.get("TARDIS_MIRROR", ""),
            tardis_file_deadline_seconds=_whole(
                env, "TARDIS_FILE_DEADLINE_SECONDS", DEFAULT_FILE_DEADLINE_SECONDS, "seconds"
            ),
            storage_emulator_host=env.get("STORAGE_EMULATOR_HOST", ""),
            bigquery_emulator_host=env.get("BIGQUERY_EMULATOR_HOST", ""),
            live_address=env.get("MARKET_DATA_LIVE_ADDRESS") or DEFAULT_LIVE_ADDRESS,
            live_warehouse_url=env.get("MARKET_DATA_LIVE_WAREHOUSE", ""),
            live_grace_ms=_whole(
                env, "MARKET_DATA_LIVE_GRACE_MS", DEFAULT_LIVE_GRACE_MS, "milliseconds"
            ),
            live_timeframes=_timeframes(env, "MARKET_DATA_LIVE_TIMEFRAMES"),
            deribit_client_id=env.get("DERIBIT_CLIENT_ID", ""),
            deribit_client_secret=env.get("DERIBIT_CLIENT_SECRET", ""),
        )

    @property
    def deribit_credentials(self) -> tuple[str, str] | None:
        """(client id, secret) when both are set, for ``live.feeds.events``."""
        if self.deribit_client_id and self.deribit_client_secret:
            return self.deribit_client_id, self.deribit_client_secret
        return None


def _whole(env: Mapping[str, str], name: str, default: int, unit: str) -> int:
    """A positive whole number of ``unit`` from ``name``, or ``default`` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(
            f"{name}={raw!r} is not a positive whole number of {unit}: set it like "
            f"{name}={default}, or unset it for the default"
        )
    return int(raw)


def _timeframes(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The timeframes listed in ``name`` (comma-separated), shortest first; every one when
    unset."""
    every = _candle_timeframes()
    raw = env.get(name, "").strip()
    if not raw:
        return every
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(chosen - set(every))
    if unknown or not chosen:
        raise ValueError(
            f"{name}={raw!r}: {', '.join(unknown) or 'no timeframe'} is not a timeframe; "
            f"list some of {','.join(every)}, e.g. {name}=15s,1m, or unset it for all"
        )
    return tuple(timeframe for timeframe in every if timeframe in chosen)

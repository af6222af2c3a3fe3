"""The Tardis source: HTTP through ``tardis-dev``, or a mirror of files already downloaded.

Both modes hand out the same thing: a local ``.csv.gz`` path for one (venue, data type,
symbol, UTC day), with its source URL and sha256, and the exchange metadata JSON.
"""

import asyncio
import functools
import hashlib
import io
import json
import logging
import tempfile
import traceback
import urllib.error
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

import aiohttp
import tardis_dev
from dagster import ConfigurableResource, Failure, get_dagster_logger
from pydantic import Field
from upath import UPath

from resources.environment import (
    DEFAULT_API_ENDPOINT,
    DEFAULT_DATASETS_ENDPOINT,
    DEFAULT_FILE_DEADLINE_SECONDS,
)
from resources.storage import is_local, upath

# A downloaded file is read once, in chunks this big, to check it and hash it.
_VERIFY_CHUNK_BYTES = 4 << 20
# What stands in for the API key in a message that would otherwise quote it.
KEY_PLACEHOLDER = "<TARDIS_API_KEY>"
_Answer = TypeVar("_Answer")


@dataclass(frozen=True)
class Inspection:
    """What one read of a ``.csv.gz`` file found."""

    whole: bool  # every gzip member ends with its trailer: the body was not cut short
    empty: bool  # it inflates to nothing (Tardis' "no data that day")
    sha256: str
    size_bytes: int


class TardisError(RuntimeError):
    """A Tardis file or answer that cannot be had; the message says why and what to do.

    ``retryable`` is True when a later attempt of the step may succeed (an endpoint that
    did not answer); refusals (no key, no file, bad content) and a file that kept failing
    until its deadline ran out are final: retrying them repeats the same answer, or the
    whole deadline again.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class SourceRead:
    """What the one read of a source file found once it reached the end: its sha256 and
    size. (Its gzip trailers are checked by the parser reading the same bytes.)"""

    sha256: str = ""
    size_bytes: int = 0
    done: bool = False

    def reset(self) -> None:
        """Forget a read: the file was downloaded again."""
        self.sha256, self.size_bytes, self.done = "", 0, False


class _HashingReader(io.RawIOBase):
    """A file's bytes as they are read, hashed and counted on the way; at the end of the
    file the sha256 and size go to ``found``."""

    def __init__(self, path: Path, found: SourceRead) -> None:
        super().__init__()
        self.name = str(path)
        self._handle = path.open("rb", buffering=0)
        self._digest = hashlib.sha256()
        self._size = 0
        self._found = found

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._handle.readinto(buffer)
        if count:
            self._digest.update(memoryview(buffer)[:count])
            self._size += count
        elif count == 0 and not self._found.done:
            self._found.sha256, self._found.size_bytes = self._digest.hexdigest(), self._size
            self._found.done = True
        return count or 0

    def close(self) -> None:
        self._handle.close()
        super().close()


@dataclass(frozen=True)
class SourceFile:
    """One Tardis dataset file on local disk, ready to be read once.

    ``open()`` gives its bytes for that one read, which hashes them as the parser inflates
    them: ``sha256`` then comes from it. Asked before such a read, ``sha256`` and
    ``empty`` read the file for themselves (``inspect``).
    """

    venue: str
    data_type: str
    symbol: str
    day: date
    path: Path
    url: str
    found: SourceRead = field(default_factory=SourceRead, compare=False, repr=False)

    def describe(self) -> str:
        """``venue data_type symbol day`` for messages."""
        return f"{self.venue} {self.data_type} {self.symbol} {self.day.isoformat()}"

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The file's gzip bytes, hashed as they are read; read them to the end."""
        with io.BufferedReader(_HashingReader(self.path, self.found), _VERIFY_CHUNK_BYTES) as f:
            yield f

    @property
    def size_bytes(self) -> int:
        return self.found.size_bytes if self.found.done else self.path.stat().st_size

    @property
    def sha256(self) -> str:
        return self.found.sha256 if self.found.done else inspect(self.path).sha256

    @property
    def empty(self) -> bool:
        """Whether the file inflates to nothing (Tardis' "no data that day")."""
        return inspect(self.path).empty


@contextmanager
def as_failure() -> Iterator[None]:
    """Tardis errors as Dagster failures; only those that may pass are retried."""
    try:
        yield
    except TardisError as error:
        raise Failure(description=str(error), allow_retries=error.retryable) from error


def _keeps_the_key_out(method: Callable[..., _Answer]) -> Callable[..., _Answer]:
    """``method`` of a ``TardisSource`` whose failures never carry its API key.

    A server or proxy may quote the ``Authorization`` header it was sent in its answer,
    which tardis-dev puts in its ``HTTPError`` and the messages here repeat. A failure
    whose text, causes or arguments hold the key is raised again as a ``TardisError``
    with the key replaced by ``<TARDIS_API_KEY>`` and no chain (Dagster stores and prints
    the whole chain); any other failure goes through untouched.
    """

    @functools.wraps(method)
    def guarded(self: "TardisSource", *args: Any, **kwargs: Any) -> _Answer:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not self.api_key or self.api_key not in _chain_text(error):
                raise
            message = str(error).replace(self.api_key, KEY_PLACEHOLDER)
            retryable = error.retryable if isinstance(error, TardisError) else False
            raise TardisError(message, retryable=retryable) from None

    return guarded


def _chain_text(error: BaseException) -> str:
    """Everything Dagster would store of ``error``: its traceback with every cause and
    context, and the arguments of each exception in the chain."""
    parts = traceback.format_exception(error)
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        parts.append(repr(link.args))
        link = link.__cause__ or link.__context__
    return "".join(parts)


def dataset_url(endpoint: str, venue: str, data_type: str, symbol: str, day: date) -> str:
    """The URL ``tardis-dev`` requests for one file (symbol normalised and quoted as it does)."""
    normalised = symbol.replace(":", "-").replace("/", "-").upper()
    return f"{endpoint}/{venue}/{data_type}/{day:%Y/%m/%d}/{quote(normalised, safe='')}.csv.gz"


def mirror_file_name(venue: str, data_type: str, symbol: str, day: date) -> str:
    """The file name ``tardis-dev`` gives a download by default (``default_file_name``)."""
    normalised = symbol.replace(":", "-").replace("/", "-").upper()
    midnight = datetime.combine(day, time())
    return tardis_dev.default_file_name(venue, data_type, midnight, normalised, "csv")


class TardisSource(ConfigurableResource):
    """Tardis datasets and metadata for one (venue, data type, symbol, day) at a time.

    With ``mirror`` set (a folder or ``gs://`` prefix of files in tardis-dev's default
    layout, plus ``exchanges/{venue}.json`` and ``instruments/{venue}.json``) nothing is
    downloaded; otherwise files come over HTTP through ``tardis-dev``, one per call.
    """

    api_key: str = Field(default="", description="Tardis API key; empty means free days only.")
    datasets_endpoint: str = DEFAULT_DATASETS_ENDPOINT
    api_endpoint: str = DEFAULT_API_ENDPOINT
    mirror: str = Field(default="", description="Folder or gs:// prefix of downloaded files.")
    anonymous_gcs: bool = Field(
        default=False, description="Unsigned requests to a gs:// mirror (the GCS emulator)."
    )
    download_dir: str = Field(
        default="", description="Where downloads are staged; a temporary folder when empty."
    )
    timeout_seconds: int = Field(
        default=60, description="Silence on a connection longer than this is retried."
    )
    deadline_seconds: int = Field(
        default=DEFAULT_FILE_DEADLINE_SECONDS,
        description="Give up on one file after this long, retries included "
        "(TARDIS_FILE_DEADLINE_SECONDS).",
    )
    verify_attempts: int = Field(
        default=3, description="Downloads of one file before a truncated gzip is an error."
    )

    # ---- metadata -------------------------------------------------------------------

    @_keeps_the_key_out
    def exchange_details(self, venue: str) -> dict[str, Any]:
        """``GET /exchanges/{venue}``: symbols, data types, ``exportedUntil``, incidents."""
        if self.mirror:
            return self._mirror_json("exchanges", venue)
        try:
            return tardis_dev.get_exchange_details(
                venue, endpoint=self.api_endpoint, timeout=self.timeout_seconds
            )
        except urllib.error.HTTPError as error:
            raise TardisError(
                f"Tardis exchange details for {venue} failed with HTTP {error.code}: "
                f"{error.msg}. Is {venue!r} a Tardis exchange id?"
            ) from error
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self._unreachable(f"exchange details for {venue}", error) from error

    @_keeps_the_key_out
    def instruments(self, venue: str) -> list[dict[str, Any]] | None:
        """``GET /instruments/{venue}``, or None when Tardis refuses it without a paid key."""
        if self.mirror:
            try:
                return self._mirror_json("instruments", venue)
            except FileNotFoundError:
                return None
        try:
            answer = tardis_dev.get_instrument_info(
                venue,
                api_key=self.api_key,
                endpoint=self.api_endpoint,
                timeout=self.timeout_seconds,
            )
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                return None
            raise TardisError(
                f"Tardis instruments for {venue} failed with HTTP {error.code}: {error.msg}"
            ) from error
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self._unreachable(f"instruments for {venue}", error) from error
        return list(answer) if isinstance(answer, list) else [answer]

    def _unreachable(self, what: str, error: Exception) -> TardisError:
        return TardisError(
            f"Tardis {what}: {self.api_endpoint} did not answer ({type(error).__name__}: "
            f"{error}). Check TARDIS_API_ENDPOINT and the network, or set TARDIS_MIRROR.",
            retryable=True,
        )

    def _mirror_path(self) -> UPath:
        return upath(self.mirror, anonymous=self.anonymous_gcs)

    def _mirror_json(self, kind: str, venue: str) -> Any:
        path = self._mirror_path() / kind / f"{venue}.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: a Tardis mirror holds {kind}/{venue}.json beside its files"
            )
        return json.loads(path.read_text())

    # ---- datasets -------------------------------------------------------------------

    @contextmanager
    def fetch(self, venue: str, data_type: str, symbol: str, day: date) -> Iterator[SourceFile]:
        """A local copy of one Tardis file for the ``with`` block; removed afterwards.

        Raises ``TardisError`` with the reason and the fix when the file cannot be had.
        """
        url = dataset_url(self.datasets_endpoint, venue, data_type, symbol, day)
        with tempfile.TemporaryDirectory(
            prefix="tardis-", dir=self.download_dir or None
        ) as staging:
            if self.mirror:
                path, url = self._from_mirror(venue, data_type, symbol, day, Path(staging))
            else:
                path = self._download(venue, data_type, symbol, day, Path(staging), url)
            yield SourceFile(
                venue=venue, data_type=data_type, symbol=symbol, day=day, path=path, url=url
            )

    @_keeps_the_key_out
    def fetch_again(self, source: SourceFile, attempt: int) -> None:
        """Download ``source`` again into the same path, after its read found the gzip
        stream cut short or corrupt; ``attempt`` is the download this one will be.

        Raises ``TardisError`` when that would exceed ``verify_attempts``, and for a
        mirror's copy, which only a new copy in the mirror mends.
        """
        if self.mirror:
            raise TardisError(
                f"the Tardis mirror's copy {source.url} is truncated or corrupt (its gzip "
                "stream does not end whole): download it into the mirror again."
            )
        if attempt > self.verify_attempts:
            raise TardisError(
                f"{source.url} arrived truncated {self.verify_attempts} times (the gzip "
                "stream ends early): Tardis or the network is cutting the body; rerun the "
                "partition later.",
                retryable=False,  # the attempts above were the retries
            )
        get_dagster_logger().warning(
            f"{source.url}: body cut short (attempt {attempt - 1}), downloading again"
        )
        source.path.unlink(missing_ok=True)
        source.found.reset()
        self._download_once(
            source.venue,
            source.data_type,
            source.symbol,
            source.day,
            source.path.parent,
            source.url,
        )

    def _from_mirror(
        self, venue: str, data_type: str, symbol: str, day: date, staging: Path
    ) -> tuple[Path, str]:
        source = self._mirror_path() / mirror_file_name(venue, data_type, symbol, day)
        if not source.exists():
            raise TardisError(
                f"the Tardis mirror has no {data_type} file for {symbol} on {venue} "
                f"{day.isoformat()}: expected {source}. Download it into the mirror or unset "
                "TARDIS_MIRROR to fetch it over HTTP."
            )
        if is_local(source):
            local = Path(source.path)
        else:
            local = staging / source.name
            source.fs.get(source.path, str(local))
        # Whether it is whole is found by the read that parses it (``fetch_again``).
        return local, str(source)

    @_keeps_the_key_out
    def _download(
        self, venue: str, data_type: str, symbol: str, day: date, staging: Path, url: str
    ) -> Path:
        path = staging / mirror_file_name(venue, data_type, symbol, day)
        self._download_once(venue, data_type, symbol, day, staging, url)
        # Whether the body is whole is found by the read that parses it (``fetch_again``).
        get_dagster_logger().debug(f"downloaded {url} ({path.stat().st_size:,} bytes)")
        return path

    def _download_once(
        self, venue: str, data_type: str, symbol: str, day: date, staging: Path, url: str
    ) -> None:
        """One ``tardis-dev`` download of one file, bounded by ``deadline_seconds``.

        tardis-dev retries a failing file up to 30 times with backoff (about an hour); the
        deadline cuts that short, and the failure then says what every attempt met.
        """
        download = tardis_dev.download_datasets_async(
            exchange=venue,
            data_types=[data_type],
            symbols=[symbol],
            from_date=day.isoformat(),
            to_date=(day + timedelta(days=1)).isoformat(),
            api_key=self.api_key,
            download_dir=str(staging),
            endpoint=self.datasets_endpoint,
            # A silence longer than the whole deadline could never be retried within it.
            timeout=min(self.timeout_seconds, self.deadline_seconds),
            concurrency=1,
            skip_if_exists=False,
        )
        attempts = _FailedAttempts(staging)
        try:
            with attempts.recorded():
                asyncio.run(asyncio.wait_for(download, timeout=self.deadline_seconds))
        except TimeoutError as error:
            raise TardisError(self._gave_up(url, attempts), retryable=False) from error
        except urllib.error.HTTPError as error:
            raise TardisError(self._explain(error, venue, data_type, symbol, day, url)) from error
        except (aiohttp.ClientError, OSError) as error:
            # tardis-dev ran out of its own attempts before the deadline did.
            attempts.failures.append(error)
            raise TardisError(self._gave_up(url, attempts), retryable=False) from error

    def _gave_up(self, url: str, attempts: "_FailedAttempts") -> str:
        """Why one file did not arrive within the deadline, from its failed attempts."""
        tried = len(attempts.failures) + 1
        spent = f"within {self.deadline_seconds} s ({tried} attempts)"
        if not attempts.failures:
            cause = (
                "stalled: no answer completed (the server sent nothing, or stopped "
                "sending mid-body)"
            )
        else:
            cause = _failure_cause(attempts.failures[-1], self.timeout_seconds)
        return (
            f"{url} did not download {spent}: {cause}. The same fault on every attempt is "
            "not transient: rerun the partition later; TARDIS_FILE_DEADLINE_SECONDS sets "
            "how long one file may take."
        )

    def _explain(
        self,
        error: urllib.error.HTTPError,
        venue: str,
        data_type: str,
        symbol: str,
        day: date,
        url: str,
    ) -> str:
        what = f"{venue} {data_type} {symbol} {day.isoformat()}"
        if error.code == 401 and not self.api_key:
            first = day.replace(day=1)
            return (
                f"no Tardis API key: only the first day of each month is free, and {what} is "
                f"not one. Set TARDIS_API_KEY, or pick {first.isoformat()}."
            )
        if error.code in (401, 403):
            return (
                f"Tardis refused the API key for {what} (HTTP {error.code}: {error.msg}). "
                "Check TARDIS_API_KEY and that the subscription covers this exchange and date."
            )
        if error.code == 404:
            return (
                f"Tardis has no file for {what} ({url}, HTTP 404). Check that {symbol} trades "
                f"on {venue} that day and publishes {data_type} (exchange details)."
            )
        if error.code == 429:
            return (
                f"Tardis rate limit exhausted for {what} (HTTP 429, Retry-After "
                f"{error.headers.get('Retry-After') if error.headers else '?'} s). "
                "Lower the tardis pool limit or rerun later."
            )
        return f"Tardis answered HTTP {error.code} for {what} ({url}): {error.msg}"


def inspect(path: Path) -> Inspection:
    """One read of a ``.csv.gz`` file on its own: whether it is whole, whether it is empty,
    its sha256. (Ingest needs none: its parse is the one read, see ``SourceFile.open``.)"""
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(wbits=31)
    whole, empty, size = True, True, 0
    with path.open("rb") as handle:
        while chunk := handle.read(_VERIFY_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if not whole:
                continue  # keep hashing what arrived; the verdict is in
            try:
                empty &= not inflater.decompress(chunk)
                # Tardis' files may hold several gzip members one after another.
                while inflater.eof and inflater.unused_data:
                    rest = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                    empty &= not inflater.decompress(rest)
            except zlib.error:
                whole = False
    return Inspection(
        whole=whole and inflater.eof, empty=empty, sha256=digest.hexdigest(), size_bytes=size
    )


class _FailedAttempts(logging.Handler):
    """The errors tardis-dev's retry loop met for one file, caught from its debug log
    (``download attempt failed for %s, retrying in %.2fs: %s``): its loop keeps them to
    itself, and the deadline's message needs the last one. Only this file's attempts
    count (the first argument is its destination, inside ``staging``): downloads in other
    threads log to the same logger."""

    def __init__(self, staging: Path) -> None:
        super().__init__(level=logging.DEBUG)
        self.staging = str(staging)
        self.failures: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if not (str(record.msg).startswith("download attempt failed") and len(args) == 3):
            return
        if str(args[0]).startswith(self.staging):
            cause = args[-1]
            self.failures.append(cause if isinstance(cause, BaseException) else Exception(cause))

    @contextmanager
    def recorded(self) -> Iterator[None]:
        logger = logging.getLogger("tardis_dev._http")
        # Left so for good (other downloads may be recording): the attempts are summed up
        # in one message when a file fails, not logged one by one.
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)
        try:
            yield
        finally:
            logger.removeHandler(self)


def _failure_cause(error: BaseException, silence_seconds: int) -> str:
    """What one failed attempt met, in the words a user searches for: truncated, reset,
    stalled, refused, or the HTTP status."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, urllib.error.HTTPError):
        if error.code == 429:
            return f"rate limited (HTTP 429, Retry-After {error.headers.get('Retry-After')} s)"
        return f"answered HTTP {error.code} every time ({str(error.msg)[:120]})"
    if "reset" in text.lower() or isinstance(error, ConnectionResetError):
        return f"the connection was reset mid-body ({text})"
    if isinstance(error, aiohttp.ClientPayloadError):
        return f"the body arrived truncated, shorter than its Content-Length ({text})"
    if isinstance(error, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return f"the connection was refused ({text})"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"stalled: nothing arrived for {silence_seconds} s"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return f"the server closed the connection before the body ended ({text})"
    return text

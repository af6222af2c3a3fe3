"""A local HTTP server that answers like Tardis' datasets and metadata APIs, with fault injection.

Routes (everything generated, nothing real):

- GET /datasets/v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz
- GET /api/v1/exchanges/{exchange}
- GET /api/v1/instruments/{exchange}[/{symbol}][?filter=<json>]

Real Tardis needs a paid API key for the instruments API on most exchanges; here it is
open unless `instruments_require_key=True`. Datasets follow Tardis' free tier: without
a key only the first day of each month is served.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import struct
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tardis_local import catalog, generate
from tardis_local.timestamps import day_start, format_iso

FAULTS: tuple[str, ...] = (
    "500",
    "429",
    "401",
    "403",
    "404",
    "truncate",
    "truncate_with_length",
    "stall",
    "stall_body",
    "reset",
    "corrupt_row",
    "other_header",
    "extra_column",
)
# Faults that rewrite the file's content: the client receives a whole, valid gzip.
_CONTENT_FAULTS = ("corrupt_row", "other_header", "extra_column")
FREE_TIER_MESSAGE = (
    "API key is required to access non-free data, "
    "only first day of each month is available without API key."
)
_INSTRUMENT_FILTER_KEYS = ("baseCurrency", "quoteCurrency", "type", "contractType", "active")
_CACHE_BYTES = 512 * 1024 * 1024


@dataclass
class _Fault:
    kind: str
    path_contains: str
    remaining: int
    retry_after: int
    stall_seconds: float


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TardisServer:
    """Tardis-compatible server on 127.0.0.1 in a daemon thread; use as a context manager.

    `exported_until` (UTC, default today 00:00) is the datasets horizon: day D is served
    once D+1 00:00 <= exported_until. `rows_per_day` overrides generation volume per
    data type; `empty_files` holds (exchange, data_type, symbol, "YYYY-MM-DD") to serve
    as empty gzip files; `api_keys` are the valid Bearer keys.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        exported_until: datetime | None = None,
        rows_per_day: dict[str, int] | None = None,
        empty_files: set[tuple[str, str, str, str]]
        | frozenset[tuple[str, str, str, str]] = frozenset(),
        api_keys: set[str] | None = None,
        instruments_require_key: bool = False,
    ) -> None:
        if exported_until is None:
            exported_until = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
        elif exported_until.tzinfo is None:
            exported_until = exported_until.replace(tzinfo=UTC)
        self.exported_until = exported_until
        self.rows_per_day = dict(rows_per_day or {})
        self.empty_files = frozenset(empty_files)
        self.api_keys = frozenset({"test-key"} if api_keys is None else api_keys)
        self.instruments_require_key = instruments_require_key
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._requests: list[tuple[str, str, int]] = []
        self._cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._cache_bytes = 0
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.tardis = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self._httpd.server_address[1])

    @property
    def datasets_endpoint(self) -> str:
        """Value for tardis-dev's `endpoint` in download_datasets (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}/datasets/v1"

    @property
    def api_endpoint(self) -> str:
        """Value for tardis-dev's `endpoint` in get_exchange_details / get_instrument_info."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> TardisServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            # A short poll interval makes close() return within ~50 ms.
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.05,), name="tardis-local", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; stalled handlers are woken so this returns quickly."""
        self._closing.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> TardisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def inject(
        self,
        fault: str,
        *,
        path_contains: str = "",
        times: int = 1,
        retry_after: int = 1,
        stall_seconds: float = 5.0,
    ) -> None:
        """Make the next `times` requests whose path contains `path_contains` fail with `fault`.

        Faults: "500", "429" (with Retry-After: `retry_after` s), "401", "404",
        "truncate" (200 without Content-Length, half the body, clean close: the client
        keeps a truncated file), "truncate_with_length" (full Content-Length, half the
        body: the client sees a payload error and retries), "stall" (nothing sent for
        `stall_seconds`, then the normal answer), "stall_body" (headers and half the body,
        then silence for `stall_seconds`, then the rest), "reset" (headers and half the
        body, then a TCP reset), "403" (a refused key), and content faults that serve a
        whole gzip of altered CSV: "corrupt_row" (one price that is not a number),
        "other_header" (the header of another data type), "extra_column" (one more column
        than Tardis writes). Faults queue in injection order.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(fault, path_contains, times, retry_after, stall_seconds))

    def clear_faults(self) -> None:
        """Forget every injected fault not yet used up (a user's rerun after the fix)."""
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request so far; a stall is logged as 0."""
        with self._lock:
            return list(self._requests)

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._requests.append((method, path, status))

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.path_contains in path:
                    fault.remaining -= 1
                    return fault
        return None

    def _dataset(self, exchange: str, data_type: str, symbol: str, day: date) -> bytes:
        empty = (exchange, data_type, symbol, day.isoformat()) in self.empty_files
        rows = self.rows_per_day.get(data_type)
        key = (exchange, data_type, symbol, day, rows, empty)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        body = generate.dataset_bytes(
            exchange, data_type, symbol, day, rows_per_day=rows, empty=empty
        )
        with self._lock:
            self._cache[key] = body
            self._cache_bytes += len(body)
            while self._cache_bytes > _CACHE_BYTES and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._cache_bytes -= len(evicted)
        return body

    def _has_valid_key(self, authorization: str | None) -> bool | None:
        """True for a valid Bearer key, False for an invalid one, None when none was sent."""
        if not authorization:
            return None
        scheme, _, key = authorization.partition(" ")
        return scheme.lower() == "bearer" and key.strip() in self.api_keys

    def dataset_response(self, path: str, authorization: str | None) -> bytes:
        """The gzip body for a /datasets/v1/... path, or _HttpError with a Tardis-like message."""
        parts = path.split("/")[3:]
        if len(parts) != 6 or not parts[5].endswith(".csv.gz"):
            raise _HttpError(
                404,
                f"unknown dataset path {path!r}; expected "
                "/datasets/v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz",
            )
        exchange, data_type, year, month, day_text, file_name = parts
        symbol = urllib.parse.unquote(file_name.removesuffix(".csv.gz"))
        try:
            day = date(int(year), int(month), int(day_text))
        except ValueError:
            raise _HttpError(
                400, f"Invalid date {year}/{month}/{day_text}, expected YYYY/MM/DD"
            ) from None
        if exchange not in catalog.VENUES:
            raise _HttpError(
                404,
                f"Exchange '{exchange}' is not supported; supported: {', '.join(catalog.VENUES)}",
            )
        if data_type not in generate.HEADERS:
            raise _HttpError(404, f"Data type '{data_type}' is not supported for {exchange}")
        try:
            published = catalog.symbol_data_types(exchange, symbol)
        except ValueError:
            raise _HttpError(404, f"Symbol '{symbol}' is not available for {exchange}") from None
        if data_type not in published:
            raise _HttpError(
                404, f"Data type '{data_type}' is not available for {exchange} {symbol}"
            )
        key_state = self._has_valid_key(authorization)
        if key_state is False:
            raise _HttpError(401, "Invalid API key provided.")
        if key_state is None and day.day != 1:
            raise _HttpError(401, FREE_TIER_MESSAGE)
        if day_start(day) + timedelta(days=1) > self.exported_until:
            raise _HttpError(
                404,
                f"{exchange} {data_type} {symbol} {day.isoformat()} is not exported yet; "
                f"datasets are exported until {format_iso(self.exported_until)}",
            )
        if not catalog.is_available(exchange, symbol, day):
            since, until = catalog.availability(exchange, symbol)
            window = f"{format_iso(since)} to {format_iso(until) if until else 'now'}"
            raise _HttpError(
                404, f"{exchange} {symbol} has no data on {day.isoformat()}; available {window}"
            )
        return self._dataset(exchange, data_type, symbol, day)

    def api_response(self, path: str, query: str, authorization: str | None) -> Any:
        """The JSON-able answer for an /api/v1/... path, or _HttpError."""
        parts = [urllib.parse.unquote(part) for part in path.split("/")[3:]]
        if len(parts) == 2 and parts[0] == "exchanges":
            if parts[1] not in catalog.VENUES:
                raise _HttpError(404, f"Exchange '{parts[1]}' is not supported")
            return catalog.exchange_details(parts[1], self.exported_until)
        if parts and parts[0] == "instruments" and len(parts) in (2, 3):
            if self.instruments_require_key and not self._has_valid_key(authorization):
                raise _HttpError(401, "API key is required to access instruments metadata API.")
            if parts[1] not in catalog.VENUES:
                raise _HttpError(404, f"Exchange '{parts[1]}' is not supported")
            listed = catalog.instruments(parts[1])
            if len(parts) == 3:
                for item in listed:
                    if parts[2] in (item["id"], item["datasetId"]):
                        return item
                raise _HttpError(404, f"Instrument '{parts[2]}' not found for {parts[1]}")
            raw_filter = urllib.parse.parse_qs(query).get("filter")
            return _filter_instruments(listed, raw_filter[0]) if raw_filter else listed
        raise _HttpError(404, f"unknown API path {path!r}")


def _filter_instruments(listed: list[dict[str, Any]], raw_filter: str) -> list[dict[str, Any]]:
    try:
        wanted = json.loads(raw_filter)
    except json.JSONDecodeError:
        raise _HttpError(400, f"filter is not valid JSON: {raw_filter!r}") from None
    if not isinstance(wanted, dict):
        raise _HttpError(400, "filter must be a JSON object")
    unsupported = sorted(set(wanted) - set(_INSTRUMENT_FILTER_KEYS))
    if unsupported:
        raise _HttpError(
            400,
            f"unsupported filter keys {unsupported}; supported: {list(_INSTRUMENT_FILTER_KEYS)}",
        )
    selected = []
    for item in listed:
        matches = True
        for key, value in wanted.items():
            accepted = value if isinstance(value, list) else [value]
            if item.get(key) not in accepted:
                matches = False
        if matches:
            selected.append(item)
    return selected


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a truncated body ends cleanly at close.
    protocol_version = "HTTP/1.0"
    server_version = "tardis-local/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests read TardisServer.requests instead."""

    @property
    def tardis(self) -> TardisServer:
        return self.server.tardis  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        """Route one GET, applying an injected fault first when one matches."""
        parsed = urllib.parse.urlsplit(self.path)
        fault = self.tardis._take_fault(self.path)
        if fault is not None and fault.kind == "stall":
            self._log(0)
            self._stalled = True
            self.tardis._closing.wait(fault.stall_seconds)
            if self.tardis._closing.is_set():
                return
            fault = None
        if fault is not None and fault.kind in ("500", "429", "401", "403", "404"):
            status = int(fault.kind)
            headers = {"Retry-After": str(fault.retry_after)} if status == 429 else {}
            self._send_json(
                status, {"code": status, "message": f"injected fault {fault.kind}"}, headers
            )
            return
        authorization = self.headers.get("Authorization")
        try:
            if parsed.path.startswith("/datasets/v1/"):
                body = self.tardis.dataset_response(parsed.path, authorization)
            elif parsed.path.startswith("/api/v1/"):
                self._send_json(
                    200, self.tardis.api_response(parsed.path, parsed.query, authorization)
                )
                return
            else:
                raise _HttpError(404, f"unknown path {parsed.path!r}")
        except _HttpError as error:
            self._send_json(error.status, {"code": error.status, "message": error.message})
            return
        if fault is not None and fault.kind in _CONTENT_FAULTS:
            body, fault = altered(body, fault.kind), None
        self._send_gzip(body, fault)

    def _log(self, status: int) -> None:
        # A stalled request is logged once, when it stalls; its late answer is not logged.
        if not getattr(self, "_stalled", False):
            self.tardis._record("GET", self.path, status)

    def _send_gzip(self, body: bytes, fault: _Fault | None) -> None:
        self._log(200)
        self.send_response(HTTPStatus.OK)
        # The file goes out as stored: gzip content, no Content-Encoding, so clients save it raw.
        self.send_header("Content-Type", "application/gzip")
        kind = fault.kind if fault is not None else None
        if kind != "truncate":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        half = len(body) // 2
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if kind in ("truncate", "truncate_with_length"):
                self.wfile.write(body[:half])
            elif kind == "stall_body":
                self.wfile.write(body[:half])
                self.wfile.flush()
                self.tardis._closing.wait(fault.stall_seconds)  # type: ignore[union-attr]
                self.wfile.write(body[half:])
            elif kind == "reset":
                self.wfile.write(body[:half])
                self.wfile.flush()
                # SO_LINGER 0: close() sends RST instead of FIN, a reset mid-body.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            else:
                self.wfile.write(body)
            self.wfile.flush()
        self.close_connection = True

    def _send_json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self._log(status)
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


def altered(body: bytes, kind: str) -> bytes:
    """``body`` (a gzip CSV) with one content fault applied, gzipped again."""
    lines = gzip.decompress(body).decode().split("\n")
    header = lines[0].split(",")
    if kind == "other_header":
        others = [h for h in generate.HEADERS.values() if list(h) != header]
        lines[0] = ",".join(others[0])
    elif kind == "extra_column":
        lines = [
            line + ("" if not line else ",extra" if n == 0 else ",1")
            for n, line in enumerate(lines)
        ]
    elif kind == "corrupt_row" and len(lines) > 2:
        column = header.index("price") if "price" in header else len(header) - 1
        cells = lines[len(lines) // 2].split(",")
        cells[column] = "not-a-number"
        lines[len(lines) // 2] = ",".join(cells)
    return gzip.compress("\n".join(lines).encode(), mtime=0)

"""The GCS emulator in a child process, behind a proxy that injects faults.

The proxy forwards every request to gcp-storage-emulator and, for the next ``times``
requests matching a rule (method and a piece of the path or query), answers 503 or holds
the request for a while first: what an object store does on a bad day.
"""

import http.client
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.emulators import free_port, wait_until_answering

BUCKET = "market-data"
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "host"}


class _QuietServer(ThreadingHTTPServer):
    """The proxy's server; a client the matrix killed mid-request is expected, not a
    traceback in the table's output."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Rule:
    method: str
    contains: str  # in the path with its query, or in the request body
    action: str  # "503" or "hold"
    times: int
    hold_seconds: float = 0.0


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the matrix reads ``seen``."""

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy.take(self.command, self.path, body)
                if rule is not None and rule.action == "hold":
                    proxy.record(self.command, self.path, 0)
                    proxy.closing.wait(rule.hold_seconds)
                if rule is not None and rule.action == "503":
                    proxy.record(self.command, self.path, 503)
                    answer = b'{"error": {"code": 503, "message": "injected: backend error"}}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                proxy.record(self.command, self.path, response.status)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def inject(self, method: str, contains: str, action: str, times: int, hold: float = 0) -> None:
        with self.lock:
            self.rules.append(Rule(method, contains, action, times, hold))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def take(self, method: str, path: str, body: bytes = b"") -> Rule | None:
        """The first live rule for this request; an upload names its object in the body."""
        with self.lock:
            for rule in self.rules:
                matches = rule.contains in path or rule.contains.encode() in body
                if rule.times > 0 and rule.method == method and matches:
                    rule.times -= 1
                    return rule
        return None

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.seen.append((method, path, status))

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def gcs_emulator(folder: Path) -> Iterator[tuple[str, FaultProxy]]:
    """(the emulator's own endpoint, a fault proxy in front of it), bucket ``BUCKET``."""
    port = free_port()
    log = (folder / "gcs-emulator.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gcp-storage-emulator")),
            "start",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--in-memory",
            "--default-bucket",
            BUCKET,
            "--quiet",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    direct = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(
            f"{direct}/storage/v1/b/{BUCKET}",
            process,
            folder / "gcs-emulator.log",
            "the GCS emulator",
            60,
        )
        proxy = FaultProxy(("127.0.0.1", port))
        try:
            yield direct, proxy
        finally:
            proxy.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()

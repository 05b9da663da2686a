"""Fixtures of the data set loader tests: a local HTTP server on 127.0.0.1.

It can cut a transfer half-way the first time (to test resuming), honour or
ignore ``Range`` requests, and answer API paths with callables. A guard fixture
makes any connection to a non-loopback address fail the test.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class _Route:
    body: bytes | Callable[[dict], object]
    drop_once: bool = False
    honour_range: bool = True
    status: int = 200
    dropped: bool = False


@dataclass
class FixtureServer:
    """Routes by URL path (query strings go to callables)."""

    port: int = 0
    routes: dict[str, _Route] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)

    def add(self, path, body, *, drop_once=False, honour_range=True, status=200):
        if not (isinstance(body, bytes) or callable(body)):
            body = json.dumps(body).encode()
        self.routes[path] = _Route(body, drop_once, honour_range, status)
        return self.url(path)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[dict]:
        return [headers for p, headers in self.requests if p == path]


def _handler(server: FixtureServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            server.requests.append((parts.path, dict(self.headers)))
            route = server.routes.get(parts.path)
            if route is None:
                self._send(404, b"not found")
                return
            if route.status != 200:
                self._send(route.status, b"error")
                return
            body = route.body
            if callable(body):
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = body(query)
                if body is None:
                    self._send(404, b"not found")
                    return
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
            start = 0
            header = self.headers.get("Range")
            if header and route.honour_range:
                start = int(header.split("=")[1].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            payload = body[start:]
            self.send_response(206 if start else 200)
            if start:
                self.send_header(
                    "Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}"
                )
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if route.drop_once and not route.dropped:
                route.dropped = True
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)

        def _send(self, status, body):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail on any connection to a non-loopback address; no proxies."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    original = socket.create_connection

    def guarded(address, *args, **kwargs):
        host = address[0]
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise AssertionError(f"test tried to reach non-loopback host {host!r}")
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


@pytest.fixture
def fixture_server(loopback_only, tmp_path, monkeypatch):
    """A running :class:`FixtureServer`; ``RADSARC_DATA`` points to tmp_path."""
    monkeypatch.setenv("RADSARC_DATA", str(tmp_path / "data_home"))
    state = FixtureServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

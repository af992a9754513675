"""The load generator against a tiny loopback server: counts, status codes, loopback only."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks import loadgen


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the model server
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 400 if b"bad" in body else 200
        answer = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _raws(port: int, bodies: list[bytes]) -> list[bytes]:
    return loadgen.encode_requests("127.0.0.1", port, "/v1/models/m:predict", bodies)


def test_single_client_counts_requests_and_non_200(server: int) -> None:
    result = loadgen.run_single("127.0.0.1", server, _raws(server, [b"{}", b"bad"]), 4, 0.3)
    assert result["requests"] > 10
    assert result["clients"] == 1
    # every second request is a 400: counted, not hidden
    assert abs(result["non_200"] - result["requests"] / 2) <= 1
    assert result["latency"]["p50_ms"] > 0
    assert result["client_cpu_us_per_request"] > 0


def test_concurrent_clients_share_the_measured_window(server: int) -> None:
    result = asyncio.run(loadgen._run_many("127.0.0.1", server, _raws(server, [b"{}"]), 3, 6, 0.3))
    assert result["clients"] == 3
    assert result["non_200"] == 0
    assert result["requests"] > 10
    assert result["seconds"] < 2.0


def test_only_loopback_targets_are_accepted(tmp_path: Path) -> None:
    bodies = tmp_path / "bodies.json"
    bodies.write_text("[{}]")
    with pytest.raises(SystemExit):
        loadgen.main(["--url", "http://10.0.0.1:8080/x", "--bodies", str(bodies)])

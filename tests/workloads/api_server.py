"""A stand-in Kubernetes API server for the loop controllers' tests, on plain HTTP on loopback.

It records every request (method, path, query, content type, Authorization, JSON body) and
answers with JSON from the subclass's `route`, under one lock, so a test can assert on exactly
what a controller asked for. The retraining controller's TrainJob API and the stream scaler's
`deployments/scale` are its two subclasses; the Feast authorizer's TLS stand-in is
`kube_api.py`.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.support.json_http import send_json

Reply = tuple[int, Any]


def status(code: int, reason: str, message: str = "") -> dict[str, Any]:
    """A `Status` object, as the API server answers a refused or failed request."""
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
            "code": code, "message": message or reason}  # fmt: skip


class RecordingApiServer:
    """Start on a free loopback port; `close()` stops it. Subclasses implement `route`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._answer(self, "GET")

            def do_POST(self) -> None:
                server._answer(self, "POST")

            def do_PATCH(self) -> None:
                server._answer(self, "PATCH")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, request: dict[str, Any]) -> Reply:
        """The status code and JSON reply to one recorded request (called under the lock)."""
        raise NotImplementedError

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = {
            "method": method,
            "path": parts.path,
            "query": parse_qs(parts.query),
            "type": handler.headers.get("Content-Type"),
            "authorization": handler.headers.get("Authorization"),
            "body": json.loads(handler.rfile.read(length)) if length else None,
        }
        with self.lock:
            self.requests.append(request)
            code, reply = self.route(request)
        send_json(handler, code, reply)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def kubeconfig(self, path: Path, token: str) -> Path:
        """A kubeconfig at `path` whose one context reaches this server with a bearer token."""
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                    "users": [{"name": "controller", "user": {"token": token}}],
                    "contexts": [
                        {
                            "name": "test",
                            "context": {"cluster": "test", "user": "controller"},
                        }
                    ],
                    "current-context": "test",
                }
            )
        )
        return path
